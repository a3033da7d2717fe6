"""Plan versus actual for every RM, team and the bank (Variance rows).

    manage.py recompute_variances [--today YYYY-MM-DD]

The same service as the nightly task, through org.jobs.run_job (JobRun, lock); docs/jobs.md.
"""

from org.jobs import JobCommand


class Command(JobCommand):
    job = "recompute_variances"
