"""`manage.py import_campaign_list`: the campaign page's import from the command line."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from retention.models import CampaignAccount
from tests.factories import AccountFactory, CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    # Runs past today whatever day the suite runs, so its list may still change.
    today = datetime.date.today()
    return CampaignFactory(starts_on=today, ends_on=today + datetime.timedelta(days=90))


@pytest.fixture
def listing(tmp_path, rm):
    AccountFactory(owner=rm, number="CB7001")
    AccountFactory(owner=rm, number="CB7002")
    path = tmp_path / "list.csv"
    path.write_text("account_number,reason\nCB7001,No cash management\nCB7002,Deposits only\n")
    return path


def run(*args):
    out = io.StringIO()
    call_command("import_campaign_list", *map(str, args), stdout=out)
    return out.getvalue()


def test_the_command_imports_the_list_for_an_executive(campaign, listing, executive):
    assert run(campaign.pk, listing, "--by", executive.username) == (
        "2 new, 0 changed, 0 unchanged listed accounts.\n"
    )
    assert CampaignAccount.objects.filter(campaign=campaign).count() == 2


def test_the_same_file_again_changes_nothing(campaign, listing, executive):
    run(campaign.pk, listing, "--by", executive.username)
    assert "0 new, 0 changed, 2 unchanged" in run(campaign.pk, listing, "--by", executive.username)


def test_an_rm_may_not_import_a_list(campaign, listing, rm):
    with pytest.raises(CommandError, match="role"):
        run(campaign.pk, listing, "--by", rm.username)
    assert not CampaignAccount.objects.exists()


def test_a_bad_row_prints_the_report_and_imports_nothing(campaign, listing, executive):
    listing.write_text("account_number,reason\nCB7001,Fits\nCB0000,Fits\n")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 row cannot be imported"):
        call_command(
            "import_campaign_list",
            str(campaign.pk),
            str(listing),
            "--by",
            executive.username,
            stdout=out,
        )
    assert "3,account_number,CB0000" in out.getvalue()
    assert not CampaignAccount.objects.exists()


def test_an_unknown_campaign_is_a_clear_error(listing, executive):
    with pytest.raises(CommandError, match="There is no campaign 999999"):
        run(999999, listing, "--by", executive.username)
