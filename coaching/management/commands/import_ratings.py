"""Import customer ratings from a CSV file: `manage.py import_ratings ratings.csv`.

The same service as the back office's upload page: all or nothing; on refusal the error
report is written to standard output as CSV and the command fails.
"""

import csv

from django.core.management.base import BaseCommand, CommandError

from coaching.services import rating_import


class Command(BaseCommand):
    help = (
        "Import customer ratings (columns account_number, rm_username, behaviour, month, "
        "rating, comment). All or nothing; every bad row is reported. See docs/surveys.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file (UTF-8, comma-separated, with header).")

    def handle(self, *args, file, **options):
        try:
            with open(file, "rb") as f:
                result = rating_import.import_ratings(f)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        except rating_import.ImportFileError as exc:
            raise CommandError(str(exc)) from None
        except rating_import.ImportRefused as refused:
            csv.writer(self.stdout).writerows(rating_import.error_report_rows(refused.errors))
            raise CommandError(str(refused)) from None
        self.stdout.write(
            f"{result.created} new, {result.updated} changed, {result.unchanged} unchanged ratings."
        )
