"""Import a campaign's prequalified list from an MCIF CSV file:
`manage.py import_campaign_list CAMPAIGN_ID list.csv --by USERNAME`.

The same service as the campaign page's upload (retention.services.campaigns
.prequalified_import): all or nothing; on refusal the error report is written to standard
output as CSV and the command fails. `--by` names the executive or administrator the
import is recorded for, as the page records whoever uploads. See docs/campaigns.md.
"""

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

from org.models import User
from retention.models import Campaign
from retention.services.campaigns import prequalified_import
from salesmgmt.imports import ImportCommand
from salesmgmt.workflow import WorkflowError


class Command(ImportCommand):
    help = (
        "Import a campaign's prequalified list (columns account_number, reason). All or "
        "nothing; every bad row is reported. See docs/imports.md."
    )
    noun = "listed accounts"

    def add_arguments(self, parser):
        parser.add_argument("campaign", type=int, help="The campaign's id.")
        super().add_arguments(parser)
        parser.add_argument(
            "--by", required=True, help="User name of the executive or administrator."
        )

    def handle(self, *args, campaign, by, **options):
        try:
            self.campaign = Campaign.objects.get(pk=campaign)
        except Campaign.DoesNotExist:
            raise CommandError(f"There is no campaign {campaign}.") from None
        try:
            self.by = User.objects.get(username=by, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"There is no active user {by!r}.") from None
        try:
            return super().handle(*args, **options)
        except (PermissionDenied, WorkflowError) as exc:  # a role that may not, or it ended
            raise CommandError(str(exc)) from None

    def run(self, file):
        return prequalified_import(campaign_id=self.campaign.pk, by=self.by, file=file)
