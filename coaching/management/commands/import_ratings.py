"""Import customer ratings from a CSV file: `manage.py import_ratings ratings.csv`.

The same service as the back office's upload page: all or nothing; on refusal the error
report is written to standard output as CSV and the command fails.
"""

from coaching.services import rating_import
from salesmgmt.imports import ImportCommand


class Command(ImportCommand):
    help = (
        "Import customer ratings (columns account_number, rm_username, behaviour, month, "
        "rating, comment). All or nothing; every bad row is reported. See docs/surveys.md."
    )
    noun = "ratings"

    def run(self, file):
        return rating_import.import_ratings(file)
