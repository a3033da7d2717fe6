"""Score the attrition risk of every active account (RiskScore rows).

    manage.py score_risk [--today YYYY-MM-DD]

The same service as the nightly task, through org.jobs.run_job (JobRun, lock); docs/jobs.md.
"""

from org.jobs import JobCommand


class Command(JobCommand):
    job = "score_risk"
