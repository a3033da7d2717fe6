"""Create every team's coming check-ins from its cadence, and mark the missed ones.

    manage.py create_checkins [--today YYYY-MM-DD]

The same job as the daily task, through org.jobs.run_job (a JobRun, the lock); running it
twice creates nothing twice. docs/jobs.md.
"""

from coaching.tasks import daily_checkins
from org.jobs import JobCommand, run_job


class Command(JobCommand):
    job = "create_checkins"
    help = "Create the coming check-ins of every team from its cadence; mark missed ones."

    def handle(self, *args, **options):
        kwargs = self.service_kwargs(options)
        counts = {}
        run = run_job(
            self.job,
            lambda **kw: daily_checkins(**kw, counts=counts),
            triggered_by="command",
            **kwargs,
        )
        if run.outcome == run.Outcome.SKIPPED:
            self.stdout.write("create_checkins: skipped, another run of it is still running.")
            return
        day = counts["today"]
        self.stdout.write(
            f"{counts['created']} check-in(s) created up to the cadences' horizons from "
            f"{day:%Y-%m-%d}; {counts['missed']} marked missed."
        )
