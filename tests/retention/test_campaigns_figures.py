"""The campaign page's figures on hand-computed examples: goal attainment for each goal,
contacted / converted, the attrition of the list against the rest, each cut to the viewer.

The campaign runs 1 March - 31 May 2027; "today" is 15 April 2027, so the days counted are
1 March - 15 April, the base month (held at the start) is February 2027 and the latest
closed month April 2027.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accounts.models import AccountStatus, OpportunityKind, OpportunityStatus, ProductFamily
from retention.models import Campaign
from retention.selectors.campaigns import campaign_entries, campaign_figures, campaign_window
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CampaignAccountFactory,
    CampaignFactory,
    OpportunityFactory,
    PositionFactory,
    ProductFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 4, 15)
FEB, MAR, APR = (datetime.date(2027, m, 1) for m in (2, 3, 4))
IN_PERIOD = datetime.date(2027, 3, 20)


def campaign_of(goal, target, family=""):
    return CampaignFactory(
        goal=goal,
        target_value=Decimal(target),
        product_family=family,
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 5, 31),
    )


def figures(campaign, user):
    return campaign_figures(campaign=campaign, user=user, today=TODAY)


def closed(owner, on, **kw):
    return AccountFactory(owner=owner, status=AccountStatus.CLOSED, closed_on=on, **kw)


def test_window_of_a_running_campaign():
    window = campaign_window(campaign_of("cross_sell", "2"), TODAY, latest=APR)
    assert (window.state, window.start, window.end, window.base_month, window.end_month) == (
        "running",
        datetime.date(2027, 3, 1),
        TODAY,
        FEB,
        APR,
    )


def test_window_end_month_stops_at_the_campaign_end():
    campaign = campaign_of("cross_sell", "2")
    window = campaign_window(campaign, datetime.date(2027, 9, 1), latest=datetime.date(2027, 8, 1))
    assert (window.state, window.end, window.end_month) == (
        "finished",
        campaign.ends_on,
        datetime.date(2027, 5, 1),
    )


def test_window_of_an_upcoming_campaign_has_no_end_month():
    window = campaign_window(campaign_of("cross_sell", "2"), datetime.date(2027, 1, 10), latest=FEB)
    assert (window.state, window.end_month, window.days_counted) == ("upcoming", None, 0)


# --- goal attainment ---------------------------------------------------------------------------


@pytest.fixture
def products():
    return {
        "loan": ProductFactory(code="LN", family=ProductFamily.LOAN),
        "loan2": ProductFactory(code="LN2", family=ProductFamily.LOAN),
        "dda": ProductFactory(code="DDA", family=ProductFamily.DEPOSIT),
        "card": ProductFactory(code="CARD", family=ProductFamily.CARD),
    }


def test_cross_sell_ratio_is_products_per_active_listed_account(rm, executive, products):
    """A1 holds 3 products in April (1 in Feb), A2 holds 1 (1 in Feb; an empty position does
    not count), A3 holds none; A4 closed in March does not count. April: 4 products over 3
    active accounts = 1.33 against 2.50 = 53.2 %; February: 2 / 3 = 0.67."""
    campaign = campaign_of("cross_sell", "2.50")
    a1, a2, a3 = (AccountFactory(owner=rm) for _ in range(3))
    a4 = closed(rm, IN_PERIOD)
    for account in (a1, a2, a3, a4):
        CampaignAccountFactory(campaign=campaign, account=account)
    PositionFactory(account=a1, product=products["loan"], month=FEB)
    for p in ("loan", "dda", "card"):
        PositionFactory(account=a1, product=products[p], month=APR)
    PositionFactory(account=a2, product=products["dda"], month=FEB)
    PositionFactory(account=a2, product=products["dda"], month=APR, balance=0)  # revenue only
    PositionFactory(account=a2, product=products["card"], month=APR, balance=0, revenue=0)
    PositionFactory(account=a3, product=products["dda"], month=MAR)  # neither month
    PositionFactory(account=a4, product=products["dda"], month=APR)
    goal = figures(campaign, executive).goal
    assert (goal.value, goal.baseline, goal.month, goal.pct, goal.bar, goal.reached) == (
        Decimal("1.33"),
        Decimal("0.67"),
        APR,
        Decimal("53.2"),
        53,
        False,
    )


def test_product_family_goal_counts_accounts_holding_it_at_the_end_not_the_start(
    rm, executive, products
):
    """A1 held a loan in Feb and April: no. A2 only in April: yes. A3 only in Feb: no. A4
    holds a second loan product in April with revenue only: yes. A5 holds a deposit: no.
    2 against 4 = 50 %."""
    campaign = campaign_of("product_family", "4", family=ProductFamily.LOAN)
    accounts = [AccountFactory(owner=rm) for _ in range(5)]
    for account in accounts:
        CampaignAccountFactory(campaign=campaign, account=account)
    a1, a2, a3, a4, a5 = accounts
    PositionFactory(account=a1, product=products["loan"], month=FEB)
    PositionFactory(account=a1, product=products["loan"], month=APR)
    PositionFactory(account=a2, product=products["loan"], month=APR)
    PositionFactory(account=a3, product=products["loan"], month=FEB)
    PositionFactory(account=a4, product=products["loan2"], month=APR, balance=0)
    PositionFactory(account=a5, product=products["dda"], month=APR)
    goal = figures(campaign, executive).goal
    assert (goal.value, goal.target, goal.pct, goal.label) == (
        Decimal("2"),
        Decimal("4"),
        Decimal("50.0"),
        "New loan customers",
    )


def test_new_relationships_counts_listed_prospects_opened_during_the_campaign(rm, executive):
    """Opened 15 March: yes. Still a prospect: no. Opened in February, before the campaign:
    no. 1 against 5 = 20 %."""
    campaign = campaign_of("new_relationships", "5")
    won = AccountFactory(owner=rm, opened_on=datetime.date(2027, 3, 15))
    prospect = AccountFactory(owner=rm, status=AccountStatus.PROSPECT, opened_on=None)
    earlier = AccountFactory(owner=rm, opened_on=datetime.date(2027, 2, 20))
    for account in (won, prospect, earlier):
        CampaignAccountFactory(campaign=campaign, account=account)
    f = figures(campaign, executive)
    assert (f.goal.value, f.goal.pct, f.converted) == (Decimal("1"), Decimal("20.0"), 1)


def test_an_account_opened_and_lost_during_the_campaign_still_counts_as_won(rm, executive):
    campaign = campaign_of("new_relationships", "5")
    account = AccountFactory(
        owner=rm,
        opened_on=datetime.date(2027, 3, 2),
        status=AccountStatus.LOST,
        closed_on=datetime.date(2027, 4, 1),
        lost_reason="Went elsewhere",
    )
    CampaignAccountFactory(campaign=campaign, account=account)
    f = figures(campaign, executive)
    assert (f.goal.value, f.attrition.listed_lost) == (Decimal("1"), 1)


# --- contacted and converted ------------------------------------------------------------------


def test_contacted_means_an_activity_by_anyone_in_the_days_counted(rm, teammate, executive):
    campaign = campaign_of("cross_sell", "2")
    by_owner, by_teammate, before, after, never = (AccountFactory(owner=rm) for _ in range(5))
    for account in (by_owner, by_teammate, before, after, never):
        CampaignAccountFactory(campaign=campaign, account=account)
    ActivityFactory(account=by_owner, date=datetime.date(2027, 3, 1))
    ActivityFactory(account=by_teammate, rm=teammate, date=TODAY)
    ActivityFactory(account=before, date=datetime.date(2027, 2, 28))
    ActivityFactory(account=after, date=datetime.date(2027, 4, 16))
    f = figures(campaign, executive)
    assert (f.listed, f.contacted, f.contacted_pct) == (5, 2, Decimal("40.0"))
    window = campaign_window(campaign, TODAY)
    marks = {
        e.account_id: e.contacted
        for e in campaign_entries(campaign=campaign, user=executive, window=window)
    }
    assert marks == {
        by_owner.pk: True,
        by_teammate.pk: True,
        before.pk: False,
        after.pk: False,
        never.pk: False,
    }


def test_cross_sell_converted_means_a_won_cross_sell_in_the_period(rm, executive, products):
    campaign = campaign_of("cross_sell", "2")
    accounts = [AccountFactory(owner=rm) for _ in range(5)]
    for account in accounts:
        CampaignAccountFactory(campaign=campaign, account=account)
    won, new_business, lost, earlier, open_ = accounts
    done = {"status": OpportunityStatus.WON, "closed_on": IN_PERIOD}
    OpportunityFactory(account=won, kind=OpportunityKind.CROSS_SELL, **done)
    OpportunityFactory(account=new_business, kind=OpportunityKind.NEW_BUSINESS, **done)
    OpportunityFactory(
        account=lost, status=OpportunityStatus.LOST, closed_on=IN_PERIOD, kind="cross_sell"
    )
    OpportunityFactory(
        account=earlier, kind="cross_sell", status="won", closed_on=datetime.date(2027, 2, 27)
    )
    OpportunityFactory(account=open_, kind="cross_sell")
    window = campaign_window(campaign, TODAY)
    converted = {
        e.account_id
        for e in campaign_entries(
            campaign=campaign, user=executive, window=window, show="converted"
        )
    }
    assert (figures(campaign, executive).converted, converted) == (1, {won.pk})


def test_family_converted_means_a_won_opportunity_in_the_family_of_any_kind(
    rm, executive, products
):
    campaign = campaign_of("product_family", "3", family=ProductFamily.LOAN)
    renewal, deposit = AccountFactory(owner=rm), AccountFactory(owner=rm)
    for account in (renewal, deposit):
        CampaignAccountFactory(campaign=campaign, account=account)
    done = {"status": OpportunityStatus.WON, "closed_on": IN_PERIOD}
    OpportunityFactory(account=renewal, product=products["loan"], kind="renewal", **done)
    OpportunityFactory(account=deposit, product=products["dda"], kind="cross_sell", **done)
    window = campaign_window(campaign, TODAY)
    converted = {
        e.account_id
        for e in campaign_entries(
            campaign=campaign, user=executive, window=window, show="converted"
        )
    }
    assert (figures(campaign, executive).converted, converted) == (1, {renewal.pk})


# --- attrition against the rest ---------------------------------------------------------------


@pytest.fixture
def attrition_bank(rm):
    """Listed (tier B): 4 customers, 1 closed in March; 1 closed before the start (not
    counted); 1 prospect (not a customer). Rest (tier B, not listed): 10 customers, 1 lost
    in April; 1 lost after today (not yet). Tier C (not comparable): 1 lost in March."""
    b, c = TierFactory(code="B"), TierFactory(code="C")
    campaign = campaign_of("cross_sell", "2")
    listed = [AccountFactory(owner=rm, tier=b) for _ in range(3)]
    listed.append(closed(rm, IN_PERIOD, tier=b))
    listed.append(closed(rm, datetime.date(2027, 2, 1), tier=b))
    listed.append(AccountFactory(owner=rm, tier=b, status=AccountStatus.PROSPECT, opened_on=None))
    for account in listed:
        CampaignAccountFactory(campaign=campaign, account=account)
    for _ in range(8):
        AccountFactory(owner=rm, tier=b)
    lost = {"status": AccountStatus.LOST, "lost_reason": "Price"}
    AccountFactory(owner=rm, tier=b, closed_on=datetime.date(2027, 4, 2), **lost)
    AccountFactory(owner=rm, tier=b, closed_on=datetime.date(2027, 4, 20), **lost)
    AccountFactory(owner=rm, tier=c, closed_on=IN_PERIOD, **lost)
    return campaign


def test_attrition_of_the_list_against_comparable_accounts(attrition_bank, executive):
    a = figures(attrition_bank, executive).attrition
    assert (a.listed_base, a.listed_lost, a.listed_pct) == (4, 1, Decimal("25.0"))
    assert (a.rest_base, a.rest_lost, a.rest_pct) == (10, 1, Decimal("10.0"))
    assert (a.gap, a.worse) == (Decimal("15.0"), True)


def test_attrition_rest_is_the_viewers_own_accounts(attrition_bank, rm, other_rm):
    """Another team's lost tier-B account does not count in my comparison."""
    AccountFactory(
        owner=other_rm,
        tier=TierFactory(code="B"),
        status=AccountStatus.LOST,
        lost_reason="Price",
        closed_on=IN_PERIOD,
    )
    a = figures(attrition_bank, rm).attrition
    assert (a.rest_base, a.rest_lost) == (10, 1)


# --- cut to the viewer ------------------------------------------------------------------------


@pytest.fixture
def two_teams(rm, teammate, other_rm):
    campaign = campaign_of("cross_sell", "2")
    mine = [AccountFactory(owner=rm) for _ in range(2)]
    teammates = [AccountFactory(owner=teammate)]
    others = [AccountFactory(owner=other_rm) for _ in range(3)]
    for account in mine + teammates + others:
        CampaignAccountFactory(campaign=campaign, account=account)
    ActivityFactory(account=others[0], date=IN_PERIOD)
    return campaign


@pytest.mark.parametrize(
    ("who", "listed", "contacted", "scope"),
    [
        ("rm", 2, 0, "own"),
        ("leader", 3, 0, "team"),
        ("other_rm", 3, 1, "own"),
        ("executive", 6, 1, "bank"),
    ],
)
def test_figures_cover_the_viewers_listed_accounts(
    request, two_teams, who, listed, contacted, scope
):
    f = figures(two_teams, request.getfixturevalue(who))
    assert (f.listed, f.contacted, f.scope) == (listed, contacted, scope)


def test_rm_list_shows_only_their_own_accounts(two_teams, rm):
    window = campaign_window(two_teams, TODAY)
    owners = {e.account.owner for e in campaign_entries(campaign=two_teams, user=rm, window=window)}
    assert owners == {rm}


def test_goal_kinds_all_have_a_figure(executive):
    for goal in Campaign.Goal.values:
        campaign = campaign_of(goal, "3", family="card" if goal == "product_family" else "")
        assert figures(campaign, executive).goal.value == 0
