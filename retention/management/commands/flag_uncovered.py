"""Flag the major accounts of leaving RMs that still have no cover.

    manage.py flag_uncovered [--today YYYY-MM-DD]

The same service as the nightly task, through org.jobs.run_job (JobRun, lock); docs/jobs.md.
"""

from org.jobs import JobCommand


class Command(JobCommand):
    job = "flag_uncovered"
