"""Early warnings: RMs' activity, pipeline, ratings, check-ins against their baseline.

    manage.py compute_early_warnings [--today YYYY-MM-DD]

The same service as the nightly task, through org.jobs.run_job (JobRun, lock); docs/jobs.md.
"""

from org.jobs import JobCommand


class Command(JobCommand):
    job = "compute_early_warnings"
