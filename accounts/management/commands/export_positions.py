"""Export positions in the import's format: `manage.py export_positions -o positions.csv`.

The file imports back unchanged (`import_positions`): same columns, months as YYYY-MM-01,
amounts with two decimals, cells neutralised as every export's are (the import drops the
neutralising apostrophe again). See docs/imports.md.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError

from accounts import imports


def month(text: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"--month {text!r}: use YYYY-MM.") from None


class Command(BaseCommand):
    help = "Export positions as CSV in the format import_positions reads. See docs/imports.md."

    def add_arguments(self, parser):
        parser.add_argument("--month", type=month, help="Only this month (YYYY-MM).")
        parser.add_argument("-o", "--output", help="The file to write (default: standard output).")

    def handle(self, *args, month=None, output=None, **options):
        if output:
            with open(output, "w", encoding="utf-8", newline="") as out:
                n = imports.export_positions(out, month)
            self.stderr.write(f"{n} positions written to {output}.")
        else:
            imports.export_positions(self.stdout, month)
