"""Import month-end positions from a CSV file: `manage.py import_positions positions.csv`.

The same service as the back office's upload page (accounts.imports.import_positions): all
or nothing; on refusal the error report is written to standard output as CSV and the
command fails. See docs/imports.md.
"""

from accounts import imports
from salesmgmt.imports import ImportCommand


class Command(ImportCommand):
    help = (
        "Import month-end positions (columns account_number, product_code, month, balance, "
        "revenue). All or nothing; every bad row is reported. See docs/imports.md."
    )
    noun = "positions"

    def run(self, file):
        return imports.import_positions(file)
