"""Import activities from a CRM export: `manage.py import_activities activities.csv`.

The same service as the back office's upload page (accounts.services.activity_import): all
or nothing; on refusal the error report is written to standard output as CSV and the
command fails. See docs/imports.md.
"""

from accounts.services import activity_import
from salesmgmt.imports import ImportCommand


class Command(ImportCommand):
    help = (
        "Import activities from a CRM export (columns rm_username, account_number, kind, "
        "date, status, outcome, next_step, next_step_due). All or nothing; every bad row is "
        "reported. See docs/imports.md."
    )
    noun = "activities"

    def run(self, file):
        return activity_import.import_activities(file)
