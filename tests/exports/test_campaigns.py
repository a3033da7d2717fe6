"""Downloads of the campaign lists: the campaigns (running, upcoming, finished, each with
the viewer's listed accounts) and a campaign's prequalified list as the viewer sees it (an
RM their accounts, a leader their team's), `show` applied, queries fixed."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CampaignAccountFactory,
    CampaignFactory,
)

from .download import (
    cells,
    column,
    fetch,
    filename,
    get_csv,
    get_xlsx,
    no_formula_in_csv,
    queries,
    xlsx_rows,
)

pytestmark = pytest.mark.django_db

CAMPAIGNS = reverse("retention:campaigns")
DAY = datetime.timedelta(days=1)


@pytest.fixture
def running():
    today = timezone.localdate()
    return CampaignFactory(
        name="Treasury for growers", starts_on=today - 30 * DAY, ends_on=today + 60 * DAY
    )


@pytest.fixture
def listed(running, rm, teammate, other_rm):
    accounts = {
        "mine": AccountFactory(owner=rm, name="Mine Orchards Ltd"),
        "teammates": AccountFactory(owner=teammate, name="Teammate Farms"),
        "theirs": AccountFactory(owner=other_rm, name="Southern Secret Farms"),
    }
    for account in accounts.values():
        CampaignAccountFactory(campaign=running, account=account, reason="No treasury yet")
    return accounts


# --- a campaign's prequalified list -------------------------------------------------------------


def test_an_rm_downloads_only_their_own_listed_accounts(client, rm, running, listed):
    rows = get_csv(client, rm, running.get_absolute_url())
    assert rows[0][:5] == ["Number", "Account", "Status", "Owner", "Tier"]
    assert column(rows, "Number") == [listed["mine"].number]


def test_a_leader_downloads_their_teams_listed_accounts(client, leader, running, listed):
    rows = get_csv(client, leader, running.get_absolute_url())
    assert sorted(column(rows, "Number")) == sorted(
        [listed["mine"].number, listed["teammates"].number]
    )


def test_an_executive_downloads_the_whole_list(client, executive, running, listed):
    rows = get_csv(client, executive, running.get_absolute_url())
    assert len(rows) == 4


def test_the_list_download_applies_show(client, rm, running):
    called, not_called = AccountFactory(owner=rm), AccountFactory(owner=rm)
    for account in (called, not_called):
        CampaignAccountFactory(campaign=running, account=account)
    ActivityFactory(account=called, date=timezone.localdate())
    url = running.get_absolute_url()
    assert column(get_csv(client, rm, url, show="contacted"), "Number") == [called.number]
    assert column(get_csv(client, rm, url, show="not_contacted"), "Number") == [not_called.number]
    assert column(get_csv(client, rm, url, show="contacted"), "Contacted") == ["yes"]
    response = fetch(client, rm, url, "xlsx", show="contacted")
    assert filename(response) == f"campaign-{running.pk}-contacted.xlsx"


def test_the_list_download_neutralises_a_formula_in_the_reason(client, rm, running):
    CampaignAccountFactory(
        campaign=running, account=AccountFactory(owner=rm), reason="@SUM(1+1)*cmd|' /C calc'!A0"
    )
    rows = get_csv(client, rm, running.get_absolute_url())
    assert column(rows, "Why it is on the list") == ["'@SUM(1+1)*cmd|' /C calc'!A0"]
    assert no_formula_in_csv(rows)
    ws = get_xlsx(client, rm, running.get_absolute_url())
    (reason,) = cells(ws, "Why it is on the list")
    assert (reason.data_type, reason.quotePrefix) == ("s", True)


def test_the_list_in_excel_has_the_day_added_as_a_date(client, rm, running, listed):
    rows = xlsx_rows(get_xlsx(client, rm, running.get_absolute_url()))
    (added,) = column(rows, "Added on")
    assert added == datetime.datetime.combine(timezone.localdate(), datetime.time())


def test_a_campaign_that_does_not_exist_has_no_download(client, rm):
    client.force_login(rm)
    url = reverse("retention:campaign", args=[999999])
    assert client.get(url, {"format": "csv"}).status_code == 404


def test_the_list_download_queries_do_not_grow_with_accounts(client, rm, running):
    client.force_login(rm)
    for _ in range(2):
        CampaignAccountFactory(campaign=running, account=AccountFactory(owner=rm))
    url = running.get_absolute_url()
    few = queries(client, url, "xlsx")
    for _ in range(40):
        CampaignAccountFactory(campaign=running, account=AccountFactory(owner=rm))
    assert queries(client, url, "xlsx") == few == 5  # session, user, campaign, month, rows


def test_the_campaign_page_offers_both_downloads_with_show(client, rm, running, listed):
    client.force_login(rm)
    url = running.get_absolute_url()
    body = client.get(url, {"show": "all"}).content.decode()
    assert f'href="{url}?show=all&amp;format=xlsx"' in body


# --- the campaigns -----------------------------------------------------------------------------


def test_the_campaigns_download_lists_each_with_the_viewers_listed_accounts(
    client, rm, running, listed
):
    today = timezone.localdate()
    CampaignFactory(name="=Later", starts_on=today + 5 * DAY, ends_on=today + 9 * DAY)
    rows = get_csv(client, rm, CAMPAIGNS)
    assert rows[0] == [
        "State",
        "Campaign",
        "Starts on",
        "Ends on",
        "Goal",
        "Target",
        "Listed accounts",
    ]
    assert column(rows, "Campaign") == ["Treasury for growers", "'=Later"]
    assert column(rows, "State") == ["Running", "Upcoming"]
    assert column(rows, "Listed accounts") == ["1", "0"]


def test_the_campaigns_in_excel_keep_targets_and_counts_as_numbers(client, leader, running, listed):
    ws = get_xlsx(client, leader, CAMPAIGNS)
    (target,) = cells(ws, "Target")
    assert (target.value, target.data_type) == (float(Decimal("2.50")), "n")
    assert [c.value for c in cells(ws, "Listed accounts")] == [2]


def test_the_campaigns_download_queries_do_not_grow_with_campaigns(client, rm):
    client.force_login(rm)
    CampaignFactory.create_batch(2)
    few = queries(client, CAMPAIGNS, "csv")
    CampaignFactory.create_batch(20)
    assert queries(client, CAMPAIGNS, "csv") == few == 3  # session, user, campaigns
