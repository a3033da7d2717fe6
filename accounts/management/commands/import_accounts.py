"""Import accounts from a CSV file: `manage.py import_accounts accounts.csv`.

The same service as the back office's upload page (accounts.imports.import_accounts): all
or nothing; on refusal the error report is written to standard output as CSV and the
command fails. See docs/imports.md.
"""

from accounts import imports
from salesmgmt.imports import ImportCommand


class Command(ImportCommand):
    help = (
        "Import accounts (columns number, name, segment, tier, owner_username, status, "
        "opened_on, closed_on, lost_reason, contract_until). All or nothing; every bad row "
        "is reported. See docs/imports.md."
    )
    noun = "accounts"

    def run(self, file):
        return imports.import_accounts(file)
