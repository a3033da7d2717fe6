"""Freeze the month's forecasts (ForecastSnapshot rows).

    manage.py snapshot_forecasts [--today YYYY-MM-DD]

The same service as the nightly task, through org.jobs.run_job (JobRun, lock); docs/jobs.md.
"""

from org.jobs import JobCommand


class Command(JobCommand):
    job = "snapshot_forecasts"
