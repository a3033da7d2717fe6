"""E-mail this month's customer survey links: `manage.py send_surveys --month 2027-03`."""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from coaching.services import surveys


class Command(BaseCommand):
    help = (
        "Invite every enabled contact of an active account to rate their RM for a month, and "
        "e-mail each newly invited contact their link (default: last month). Contacts invited "
        "before are not e-mailed again unless --resend is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="The month rated, YYYY-MM (default: last month).")
        parser.add_argument(
            "--resend",
            action="store_true",
            help="Also e-mail every open (unanswered, unexpired) invitation of the month again.",
        )

    def handle(self, *args, month=None, resend=False, **options):
        if month:
            try:
                first = surveys.parse_month(month)
            except ValueError as exc:
                raise CommandError(f"--month {month}: {exc}") from None
        else:
            first = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(
                day=1
            )
        if surveys.approved_set_for(first) is None:
            raise CommandError(
                f"{first:%B %Y}: its plan year has no approved RB behaviours, so there is "
                "nothing to ask customers about."
            )
        try:
            sent = surveys.send_survey_emails(first, resend=resend)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"{first:%B %Y}: {sent} survey e-mail(s) sent.")
