"""Campaign pages: who sees which listed accounts, who sets campaigns up and builds their
lists (403 otherwise), the import's error report, and the campaign page's query count."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from retention.models import Campaign, CampaignAccount
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CampaignAccountFactory,
    CampaignFactory,
    RmFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def running():
    today = timezone.localdate()
    return CampaignFactory(
        name="Treasury for growers",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=60),
    )


@pytest.fixture
def listed(running, rm, other_rm):
    mine = AccountFactory(owner=rm, name="Mine Orchards Ltd")
    theirs = AccountFactory(owner=other_rm, name="Southern Secret Farms")
    for account in (mine, theirs):
        CampaignAccountFactory(campaign=running, account=account, reason="No treasury yet")
    return {"mine": mine, "theirs": theirs}


def page(client, user, campaign, **params):
    client.force_login(user)
    return client.get(campaign.get_absolute_url(), params)


def listed_pks(response) -> set[int]:
    return {e.account_id for e in response.context["page"].object_list}


# --- who sees what -------------------------------------------------------------------------------


def test_rm_of_another_team_sees_none_of_my_teams_listed_accounts(
    client, listed, other_rm, running
):
    response = page(client, other_rm, running)
    assert listed_pks(response) == {listed["theirs"].pk}
    assert b"Mine Orchards" not in response.content
    assert response.context["figures"].listed == 1


def test_leader_of_another_team_sees_none_of_my_teams_listed_accounts(
    client, listed, other_leader, running
):
    response = page(client, other_leader, running)
    assert listed_pks(response) == {listed["theirs"].pk}
    assert b"Mine Orchards" not in response.content


def test_rm_sees_only_their_own_listed_accounts(client, listed, rm, teammate, running):
    CampaignAccountFactory(campaign=running, account=AccountFactory(owner=teammate))
    assert listed_pks(page(client, rm, running)) == {listed["mine"].pk}


def test_executive_sees_the_whole_list(client, listed, executive, running):
    assert listed_pks(page(client, executive, running)) == {a.pk for a in listed.values()}


def test_a_campaign_that_does_not_exist_is_404(client, rm):
    client.force_login(rm)
    assert client.get(reverse("retention:campaign", args=[999999])).status_code == 404


def test_list_page_counts_only_the_viewers_listed_accounts(client, listed, rm, running):
    client.force_login(rm)
    response = client.get(reverse("retention:campaigns"))
    (shown,) = response.context["running"]
    assert (shown, shown.listed) == (running, 1)


def test_campaigns_are_sorted_into_running_upcoming_and_finished(client, rm, running):
    today = timezone.localdate()
    upcoming = CampaignFactory(
        starts_on=today + datetime.timedelta(days=5), ends_on=today + datetime.timedelta(days=9)
    )
    finished = CampaignFactory(
        starts_on=today - datetime.timedelta(days=90), ends_on=today - datetime.timedelta(days=1)
    )
    client.force_login(rm)
    context = client.get(reverse("retention:campaigns")).context
    assert (context["running"], context["upcoming"], context["finished"]) == (
        [running],
        [upcoming],
        [finished],
    )
    assert b"New campaign" not in client.get(reverse("retention:campaigns")).content


def test_contacted_filter_lists_only_contacted_accounts(client, rm, running):
    called, not_called = AccountFactory(owner=rm), AccountFactory(owner=rm)
    for account in (called, not_called):
        CampaignAccountFactory(campaign=running, account=account)
    ActivityFactory(account=called, date=timezone.localdate())
    assert listed_pks(page(client, rm, running, show="contacted")) == {called.pk}
    assert listed_pks(page(client, rm, running, show="not_contacted")) == {not_called.pk}


# --- only executives and administrators set up ---------------------------------------------------

NEW = {
    "name": "Cards for clinics",
    "starts_on": "2027-03-01",
    "ends_on": "2027-04-30",
    "goal": "product_family",
    "product_family": "card",
    "target_value": "25",
}


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_only_executives_and_administrators_create_a_campaign(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("retention:campaign_new")).status_code == 403
    assert client.post(reverse("retention:campaign_new"), NEW).status_code == 403
    assert not Campaign.objects.exists()


def test_executive_creates_a_campaign_from_the_page(client, executive):
    client.force_login(executive)
    response = client.post(reverse("retention:campaign_new"), NEW)
    campaign = Campaign.objects.get()
    assert response.url == campaign.get_absolute_url()
    assert (campaign.product_family, campaign.target_value) == ("card", Decimal("25.00"))


def test_refused_campaign_form_names_the_field(client, administrator):
    client.force_login(administrator)
    response = client.post(reverse("retention:campaign_new"), {**NEW, "product_family": ""})
    assert response.status_code == 400
    assert "product_family" in response.context["form"].errors


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_only_executives_and_administrators_edit_a_campaign(client, request, who, running):
    client.force_login(request.getfixturevalue(who))
    url = reverse("retention:campaign_edit", args=[running.pk])
    assert client.post(url, {**NEW, "name": "Hijacked"}).status_code == 403
    running.refresh_from_db()
    assert running.name == "Treasury for growers"


def test_executive_edits_a_campaign(client, executive, running):
    client.force_login(executive)
    url = reverse("retention:campaign_edit", args=[running.pk])
    assert client.get(url).context["form"].initial["name"] == "Treasury for growers"
    client.post(url, {**NEW, "name": "Treasury for growers", "target_value": "30"})
    running.refresh_from_db()
    assert (running.goal, running.target_value) == ("product_family", Decimal("30.00"))


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_only_executives_and_administrators_build_the_list(client, request, who, running, rm):
    AccountFactory(owner=rm, tier=TierFactory(code="A"))
    client.force_login(request.getfixturevalue(who))
    url = reverse("retention:campaign_build", args=[running.pk])
    assert client.post(url, {"tiers": ["A"]}).status_code == 403
    assert not CampaignAccount.objects.exists()


def test_executive_builds_the_list_from_a_filter(client, executive, running, rm):
    a = AccountFactory(owner=rm, tier=TierFactory(code="A"))
    AccountFactory(owner=rm, tier=TierFactory(code="B"))
    client.force_login(executive)
    client.post(reverse("retention:campaign_build", args=[running.pk]), {"tiers": ["A"]})
    assert list(running.entries.values_list("account_id", flat=True)) == [a.pk]


def csv_upload(text: str, name="list.csv", encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_only_executives_and_administrators_import(client, request, who, running, account):
    client.force_login(request.getfixturevalue(who))
    url = reverse("retention:campaign_import", args=[running.pk])
    text = f"account_number,reason\n{account.number},x\n"
    assert client.post(url, {"file": csv_upload(text)}).status_code == 403
    assert not CampaignAccount.objects.exists()


def test_administrator_imports_a_list(client, administrator, running, account):
    client.force_login(administrator)
    url = reverse("retention:campaign_import", args=[running.pk])
    response = client.post(
        url, {"file": csv_upload(f"account_number,reason\n{account.number},MCIF\n")}
    )
    assert response.url == running.get_absolute_url()
    assert running.entries.get().account == account


def test_refused_import_shows_every_bad_row_and_writes_nothing(
    client, administrator, running, account
):
    client.force_login(administrator)
    url = reverse("retention:campaign_import", args=[running.pk])
    text = (
        f"account_number,reason\n{account.number},fine\n<b>CB404</b>,unknown\n{account.number},\n"
    )
    response = client.post(url, {"file": csv_upload(text)})
    assert response.status_code == 400
    assert [(e.row, e.column) for e in response.context["errors"]] == [
        (3, "account_number"),
        (4, "reason"),
        (4, "account_number"),
    ]
    assert b"nothing was imported" in response.content
    assert b"&lt;b&gt;CB404&lt;/b&gt;" in response.content
    assert not CampaignAccount.objects.exists()


def test_wrong_delimiter_is_one_clear_error_on_the_form(client, administrator, running):
    client.force_login(administrator)
    url = reverse("retention:campaign_import", args=[running.pk])
    response = client.post(url, {"file": csv_upload("account_number;reason\nCB1;x\n")})
    assert response.status_code == 400
    assert response.context["import_form"].errors["file"] == [
        "The columns are separated by semicolons; use commas. The header must be: "
        "account_number,reason."
    ]


def test_rm_may_not_remove_an_account_from_the_list(client, rm, listed, running):
    client.force_login(rm)
    url = reverse("retention:campaign_remove_account", args=[running.pk, listed["mine"].pk])
    assert client.post(url).status_code == 403
    assert running.entries.count() == 2


def test_executive_removes_an_account_from_the_list(client, executive, listed, running):
    client.force_login(executive)
    url = reverse("retention:campaign_remove_account", args=[running.pk, listed["mine"].pk])
    client.post(url)
    assert list(running.entries.values_list("account_id", flat=True)) == [listed["theirs"].pk]


# --- query count ---------------------------------------------------------------------------------


def _queries_for(client, django_assert_max_num_queries, user, campaign, owners, n, pinned):
    for i in range(n):
        account = AccountFactory(owner=owners[i % len(owners)])
        CampaignAccountFactory(campaign=campaign, account=account)
        ActivityFactory(account=account, date=timezone.localdate())
    client.force_login(user)
    with django_assert_max_num_queries(pinned) as captured:
        response = client.get(campaign.get_absolute_url())
    assert len(response.context["page"].object_list) == min(n, 50)
    return len(captured)


# session, user, campaign, latest closed month, the list's figures, the comparable rest,
# the positions (cross-sell goal), the list's count, its page, the notification bell;
# executives and administrators also get the filter form's segments and tiers.
@pytest.mark.parametrize(("who", "pinned"), [("executive", 12), ("leader", 10), ("rm", 10)])
def test_campaign_page_query_count_does_not_grow_with_the_list(
    client, django_assert_max_num_queries, request, who, pinned, rm, teammate
):
    user = request.getfixturevalue(who)
    owners = [rm] if who == "rm" else [rm, teammate]
    counts = [
        _queries_for(
            client, django_assert_max_num_queries, user, CampaignFactory(), owners, n, pinned
        )
        for n in (10, 60)
    ]
    assert counts[0] == counts[1]


def test_campaign_page_shows_the_goal_and_marks(client, executive, running, rm):
    account = AccountFactory(owner=RmFactory(), name="Marked Ltd")
    CampaignAccountFactory(campaign=running, account=account, reason="Owner asked about FX")
    ActivityFactory(account=account, date=timezone.localdate())
    response = page(client, executive, running)
    (entry,) = response.context["page"].object_list
    assert (entry.contacted, entry.converted) == (True, False)
    assert b"Owner asked about FX" in response.content
    assert b'aria-label="Goal attained"' in response.content


def test_campaign_page_warns_when_the_list_loses_more_customers_than_the_rest(
    client, executive, running, rm
):
    lost = AccountFactory(
        owner=rm,
        status="lost",
        lost_reason="Fees",
        closed_on=timezone.localdate() - datetime.timedelta(days=3),
    )
    CampaignAccountFactory(campaign=running, account=lost)
    CampaignAccountFactory(campaign=running, account=AccountFactory(owner=rm))
    AccountFactory(owner=rm)  # the rest: kept
    response = page(client, executive, running)
    assert b"The list loses 50.0 points more customers than comparable accounts." in (
        response.content
    )
