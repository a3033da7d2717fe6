"""Campaigns: who sets them up, the goal's validation, the prequalified list built from a
filter (exactly the right accounts, idempotent) and imported from a CSV (all or nothing,
every bad row reported, the same file twice changes nothing, a wrong file is one error)."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AccountStatus, ProductFamily
from retention.models import Campaign, CampaignAccount
from retention.services.campaigns import (
    ImportFileError,
    ImportRefused,
    RowError,
    campaign_create,
    campaign_remove_account,
    campaign_update,
    prequalified_from_filter,
    prequalified_import,
)
from salesmgmt.workflow import InvalidTransition
from tests.factories import (
    AccountFactory,
    CampaignAccountFactory,
    CampaignFactory,
    PositionFactory,
    ProductFactory,
    SegmentFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 2, 15)  # before the factory campaign (March-May 2027) starts
LATEST = datetime.date(2027, 1, 1)  # the latest closed month in these tests


def create(by, **changes):
    fields = {
        "name": "Spring cash management",
        "starts_on": datetime.date(2027, 3, 1),
        "ends_on": datetime.date(2027, 5, 31),
        "goal": Campaign.Goal.CROSS_SELL,
        "target_value": "2.5",
    }
    fields.update(changes)
    return campaign_create(by=by, **fields)


# --- the campaign ------------------------------------------------------------------------------


def test_executive_creates_a_campaign(executive):
    campaign = create(executive)
    assert (campaign.goal, campaign.target_value, campaign.created_by) == (
        "cross_sell",
        Decimal("2.50"),
        executive,
    )


def test_administrator_creates_a_campaign(administrator):
    assert create(administrator).pk


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_rm_and_leader_may_not_create_a_campaign(request, who):
    with pytest.raises(PermissionDenied):
        create(request.getfixturevalue(who))
    assert not Campaign.objects.exists()


def test_product_family_goal_needs_a_family(executive):
    with pytest.raises(ValidationError) as error:
        create(executive, goal=Campaign.Goal.PRODUCT_FAMILY, target_value="10")
    assert "product_family" in error.value.message_dict


def test_product_family_goal_takes_a_family_not_a_product(executive):
    ProductFactory(code="TLOAN", family=ProductFamily.LOAN)
    with pytest.raises(ValidationError) as error:
        create(
            executive,
            goal=Campaign.Goal.PRODUCT_FAMILY,
            product_family="TLOAN",
            target_value="10",
        )
    assert "product_family" in error.value.message_dict


def test_family_is_dropped_for_other_goals(executive):
    campaign = create(
        executive, goal=Campaign.Goal.NEW_RELATIONSHIPS, target_value="20", product_family="loan"
    )
    assert campaign.product_family == ""


def test_campaign_cannot_end_before_it_starts(executive):
    with pytest.raises(ValidationError) as error:
        create(executive, ends_on=datetime.date(2027, 2, 1))
    assert list(error.value.message_dict) == ["ends_on"]


@pytest.mark.parametrize(
    ("goal", "target"),
    [
        ("cross_sell", "0"),
        ("cross_sell", "-1"),
        ("cross_sell", "40"),
        ("cross_sell", "x"),
        ("new_relationships", "2.5"),
    ],
)
def test_target_must_fit_the_goal(executive, goal, target):
    with pytest.raises(ValidationError) as error:
        create(executive, goal=goal, target_value=target)
    assert list(error.value.message_dict) == ["target_value"]


def test_campaign_names_are_unique_ignoring_case(executive):
    create(executive)
    with pytest.raises(ValidationError) as error:
        create(executive, name="SPRING cash management")
    assert list(error.value.message_dict) == ["name"]


def test_update_changes_the_goal_and_keeps_its_own_name(executive):
    campaign = create(executive)
    campaign_update(
        campaign_id=campaign.pk,
        by=executive,
        name="Spring cash management",
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        goal=Campaign.Goal.PRODUCT_FAMILY,
        product_family=ProductFamily.TREASURY,
        target_value="30",
    )
    campaign.refresh_from_db()
    assert (campaign.goal, campaign.product_family, campaign.target_value) == (
        "product_family",
        "treasury",
        Decimal("30.00"),
    )


def test_leader_may_not_update_a_campaign(leader):
    campaign = CampaignFactory()
    with pytest.raises(PermissionDenied):
        campaign_update(
            campaign_id=campaign.pk,
            by=leader,
            name="Mine now",
            starts_on=campaign.starts_on,
            ends_on=campaign.ends_on,
            goal=campaign.goal,
            target_value="1",
        )


# --- the list from a filter --------------------------------------------------------------------


@pytest.fixture
def bank(rm):
    """Six accounts: segments S1 / S2, tiers A / B, loans and deposits held or not."""
    s1, s2 = SegmentFactory(name="S1"), SegmentFactory(name="S2")
    a, b = TierFactory(code="A"), TierFactory(code="B")
    loan = ProductFactory(code="LN", family=ProductFamily.LOAN)
    deposit = ProductFactory(code="DDA", family=ProductFamily.DEPOSIT)
    accounts = {
        "s1a_loan": AccountFactory(owner=rm, segment=s1, tier=a),
        "s1b_loan_deposit": AccountFactory(owner=rm, segment=s1, tier=b),
        "s1b_deposit": AccountFactory(owner=rm, segment=s1, tier=b),
        "s2a_nothing": AccountFactory(owner=rm, segment=s2, tier=a),
        "s1a_closed": AccountFactory(
            owner=rm,
            segment=s1,
            tier=a,
            status=AccountStatus.CLOSED,
            closed_on=datetime.date(2026, 12, 1),
        ),
        "s1a_prospect": AccountFactory(
            owner=rm, segment=s1, tier=a, status=AccountStatus.PROSPECT, opened_on=None
        ),
        # held a loan before the latest closed month only: no longer holds one
        "s1b_old_loan": AccountFactory(owner=rm, segment=s1, tier=b),
        # a loan position with nothing in it: does not hold a loan
        "s1b_empty_loan": AccountFactory(owner=rm, segment=s1, tier=b),
    }
    for key in ("s1a_loan", "s1b_loan_deposit"):
        PositionFactory(account=accounts[key], product=loan, month=LATEST)
    for key in ("s1b_loan_deposit", "s1b_deposit"):
        PositionFactory(account=accounts[key], product=deposit, month=LATEST, balance=0)
    PositionFactory(account=accounts["s1a_closed"], product=loan, month=LATEST)
    PositionFactory(
        account=accounts["s1b_old_loan"], product=loan, month=datetime.date(2026, 12, 1)
    )
    PositionFactory(
        account=accounts["s1b_empty_loan"], product=loan, month=LATEST, balance=0, revenue=0
    )
    return {"segments": (s1, s2), "accounts": accounts}


def build(campaign, by, **criteria):
    return prequalified_from_filter(campaign_id=campaign.pk, by=by, today=TODAY, **criteria)


def listed(campaign) -> set[int]:
    return set(campaign.entries.values_list("account_id", flat=True))


def ids(bank, *keys) -> set[int]:
    return {bank["accounts"][k].pk for k in keys}


def test_filter_by_segment_lists_its_active_accounts_only(bank, executive):
    campaign = CampaignFactory()
    assert build(campaign, executive, segment_ids=[bank["segments"][0].pk]) == 5
    assert listed(campaign) == ids(
        bank, "s1a_loan", "s1b_loan_deposit", "s1b_deposit", "s1b_old_loan", "s1b_empty_loan"
    )


def test_filter_by_tier(bank, executive):
    campaign = CampaignFactory()
    build(campaign, executive, tier_codes=["a"])
    assert listed(campaign) == ids(bank, "s1a_loan", "s2a_nothing")


def test_filter_by_family_held_in_the_latest_closed_month(bank, executive):
    campaign = CampaignFactory()
    build(campaign, executive, holds_families=[ProductFamily.LOAN])
    assert listed(campaign) == ids(bank, "s1a_loan", "s1b_loan_deposit")


def test_a_position_with_revenue_but_no_balance_counts_as_held(bank, executive):
    campaign = CampaignFactory()
    build(campaign, executive, holds_families=[ProductFamily.DEPOSIT])
    assert listed(campaign) == ids(bank, "s1b_loan_deposit", "s1b_deposit")


def test_filter_by_family_not_held(bank, executive):
    campaign = CampaignFactory()
    build(campaign, executive, lacks_families=[ProductFamily.LOAN])
    assert listed(campaign) == ids(
        bank, "s1b_deposit", "s2a_nothing", "s1b_old_loan", "s1b_empty_loan"
    )


def test_filter_criteria_combine(bank, executive):
    campaign = CampaignFactory()
    count = build(
        campaign,
        executive,
        segment_ids=[bank["segments"][0].pk],
        tier_codes=["B"],
        holds_families=[ProductFamily.DEPOSIT],
        lacks_families=[ProductFamily.LOAN],
    )
    assert (count, listed(campaign)) == (1, ids(bank, "s1b_deposit"))


def test_filter_reason_describes_the_filter(bank, executive):
    campaign = CampaignFactory()
    build(
        campaign, executive, tier_codes=["B"], holds_families=["deposit"], lacks_families=["loan"]
    )
    entry = campaign.entries.get()
    assert entry.source == CampaignAccount.Source.FILTER
    assert entry.reason == (
        "Filter: active, tier B; holds deposit (dda); holds no loan (positions of Jan 2027)"
    )


def test_building_the_same_filter_twice_adds_nothing(bank, executive):
    campaign = CampaignFactory()
    build(campaign, executive, tier_codes=["A"])
    before = list(campaign.entries.order_by("pk").values_list("pk", "account_id", "reason"))
    assert build(campaign, executive, tier_codes=["A"]) == 0
    assert list(campaign.entries.order_by("pk").values_list("pk", "account_id", "reason")) == (
        before
    )


def test_a_wider_filter_adds_only_the_accounts_not_yet_listed(bank, executive):
    campaign = CampaignFactory()
    build(campaign, executive, tier_codes=["A"])
    assert build(campaign, executive, segment_ids=[bank["segments"][1].pk]) == 0
    assert build(campaign, executive) == 4


def test_filter_names_unknown_criteria(bank, executive):
    campaign = CampaignFactory()
    with pytest.raises(ValidationError) as error:
        build(campaign, executive, tier_codes=["Z"], holds_families=["mortgage"])
    assert set(error.value.message_dict) == {"tier_codes", "holds_families"}
    assert not campaign.entries.exists()


def test_rm_may_not_build_the_list(bank, rm):
    with pytest.raises(PermissionDenied):
        build(CampaignFactory(), rm, tier_codes=["A"])


def test_a_finished_campaign_list_is_closed(bank, executive):
    campaign = CampaignFactory(
        starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 3, 1)
    )
    with pytest.raises(InvalidTransition):
        build(campaign, executive, tier_codes=["A"])


def test_remove_account_takes_it_off_the_list(executive, account):
    entry = CampaignAccountFactory(account=account)
    assert campaign_remove_account(
        campaign_id=entry.campaign_id, account_id=account.pk, by=executive, today=TODAY
    )
    assert not CampaignAccount.objects.exists()


def test_rm_may_not_remove_an_account(rm, account):
    entry = CampaignAccountFactory(account=account)
    with pytest.raises(PermissionDenied):
        campaign_remove_account(
            campaign_id=entry.campaign_id, account_id=account.pk, by=rm, today=TODAY
        )


# --- the list from a file ----------------------------------------------------------------------

HEADER = "account_number,reason\n"


@pytest.fixture
def numbered(rm):
    return {
        "CB1": AccountFactory(owner=rm, number="CB1"),
        "CB2": AccountFactory(owner=rm, number="CB2"),
        "CB3": AccountFactory(
            owner=rm, number="CB3", status=AccountStatus.PROSPECT, opened_on=None
        ),
        "CB9": AccountFactory(
            owner=rm,
            number="CB9",
            status=AccountStatus.LOST,
            closed_on=datetime.date(2026, 6, 1),
            lost_reason="Moved to a competitor",
        ),
    }


def run(campaign, by, text: str, encoding="utf-8"):
    return prequalified_import(
        campaign_id=campaign.pk, by=by, file=io.BytesIO(text.encode(encoding)), today=TODAY
    )


GOOD = HEADER + "CB1,Deposit only since 2019\nCB2,MCIF: no treasury\nCB3,Referral prospect\n"


def test_good_file_lists_every_account_with_its_reason(numbered, executive):
    campaign = CampaignFactory()
    result = run(campaign, executive, GOOD)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert dict(campaign.entries.values_list("account__number", "reason")) == {
        "CB1": "Deposit only since 2019",
        "CB2": "MCIF: no treasury",
        "CB3": "Referral prospect",
    }
    assert set(campaign.entries.values_list("source", flat=True)) == {"import"}


def test_importing_the_same_file_twice_changes_nothing(numbered, executive):
    campaign = CampaignFactory()
    run(campaign, executive, GOOD)
    before = list(campaign.entries.order_by("pk").values_list("pk", "account_id", "reason"))
    result = run(campaign, executive, GOOD)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert list(campaign.entries.order_by("pk").values_list("pk", "account_id", "reason")) == (
        before
    )


def test_import_updates_the_reason_of_an_account_already_listed(numbered, executive):
    campaign = CampaignFactory()
    CampaignAccountFactory(campaign=campaign, account=numbered["CB1"], reason="old")
    result = run(campaign, executive, HEADER + "CB1,new reason\n")
    assert (result.created, result.updated) == (0, 1)
    assert campaign.entries.get().reason == "new reason"


def test_columns_may_come_in_any_order_with_a_byte_order_mark(numbered, executive):
    campaign = CampaignFactory()
    run(campaign, executive, "\ufeffReason, Account_Number\nNo loan yet,CB2\n")
    assert listed(campaign) == {numbered["CB2"].pk}


def test_bad_rows_write_nothing_and_every_one_is_reported(numbered, executive):
    campaign = CampaignFactory()
    text = (
        HEADER
        + "CB1,fine\n"  # 2
        + "CB404,unknown\n"  # 3
        + "CB9,lost customer\n"  # 4
        + "CB1,again\n"  # 5
        + "CB2,\n"  # 6
        + "CB3,"
        + "x" * 201
        + "\n"  # 7
        + ",no number\n"  # 8
        + "CB2,too,many\n"  # 9
    )
    with pytest.raises(ImportRefused) as refused:
        run(campaign, executive, text)
    assert refused.value.errors == [
        RowError(3, "account_number", "CB404", "no such account"),
        RowError(4, "account_number", "CB9", "the account is lost"),
        RowError(5, "account_number", "CB1", "already on row 2"),
        RowError(6, "reason", "", "is empty: say why the account fits"),
        RowError(7, "reason", "x" * 40 + "…", "longer than 200"),
        RowError(8, "account_number", "", "is empty"),
        RowError(9, "row", "CB2,too,many", "has 3 fields, not 2"),
    ]
    assert str(refused.value) == "7 rows cannot be imported, so nothing was imported."
    assert not CampaignAccount.objects.exists()


def test_closed_account_is_refused(numbered, executive):
    AccountFactory(number="CB8", status=AccountStatus.CLOSED, closed_on=datetime.date(2026, 1, 5))
    with pytest.raises(ImportRefused) as refused:
        run(CampaignFactory(), executive, HEADER + "CB8,closed\n")
    assert refused.value.errors == [RowError(2, "account_number", "CB8", "the account is closed")]


@pytest.mark.parametrize(
    ("text", "encoding", "says"),
    [
        ("account_number;reason\nCB1;x\n", "utf-8", "separated by semicolons"),
        ("account_number\treason\nCB1\tx\n", "utf-8", "separated by tabs"),
        ("number,why\nCB1,x\n", "utf-8", "missing account_number, reason"),
        (HEADER + "CB1,Müller & Söhne prefers calls\n", "utf-16", "not UTF-8"),
        (HEADER + "CB1,Müller & Söhne\n", "latin-1", "not UTF-8"),
        ("", "utf-8", "The file is empty"),
        (HEADER, "utf-8", "no accounts"),
    ],
)
def test_a_file_that_is_not_such_a_csv_is_one_clear_error(
    numbered, executive, text, encoding, says
):
    campaign = CampaignFactory()
    with pytest.raises(ImportFileError, match=says):
        run(campaign, executive, text, encoding)
    assert not CampaignAccount.objects.exists()


def test_rm_may_not_import(numbered, rm):
    with pytest.raises(PermissionDenied):
        run(CampaignFactory(), rm, GOOD)
