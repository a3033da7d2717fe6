"""Create every team's coming check-ins from its cadence, and mark the missed ones.

    manage.py create_checkins [--today YYYY-MM-DD]

The daily job will call the same services; running it twice creates nothing twice.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from coaching.services.checkins import checkins_create_all, checkins_mark_missed


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--today wants a date as YYYY-MM-DD, not {value!r}.") from exc


class Command(BaseCommand):
    help = "Create the coming check-ins of every team from its cadence; mark missed ones."

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=str,
            default=None,
            help="Run as if today were this day (YYYY-MM-DD); default: today.",
        )

    def handle(self, *args, today=None, **options):
        day = _date(today) if today else timezone.localdate()
        # "Now" is the start of that day when a day is given, so a rerun gives the same.
        now = (
            timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
            if today
            else timezone.now()
        )
        created = checkins_create_all(today=day)
        missed = checkins_mark_missed(now=now)
        self.stdout.write(
            f"{created} check-in(s) created up to the cadences' horizons from {day:%Y-%m-%d}; "
            f"{missed} marked missed."
        )
