"""Tell every RM and leader that a month's report card is ready (once per month).

    manage.py issue_report_cards [--month YYYY-MM]

Default: the month just closed. The same service as the monthly task, through
org.jobs.run_job; docs/jobs.md.
"""

import datetime

from django.core.management.base import CommandError

from org.jobs import JobCommand


class Command(JobCommand):
    job = "issue_report_cards"

    def add_arguments(self, parser):
        parser.add_argument(
            "--month", default=None, help="The month (YYYY-MM); default: the month just closed."
        )

    def service_kwargs(self, options) -> dict:
        if not options.get("month"):
            return {}
        try:
            return {"month": datetime.datetime.strptime(options["month"], "%Y-%m").date()}
        except ValueError as exc:
            raise CommandError(f"--month wants YYYY-MM, not {options['month']!r}.") from exc
