"""Plan versus actual for one RM, computed live from the book (docs/metrics.md).

Every figure is worked out by hand in the test. The bank's closed month E is the latest
month with positions; most tests close June 2027 (E = 2027-06-01).
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AccountStatus, OpportunityKind, OpportunityStatus, ProductFamily
from planning.models import ProductMixStandard, TargetSet
from planning.selectors.variances import (
    PlanVersusActual,
    closed_month,
    planned_value,
    rm_plan_versus_actual,
)

from ..factories import (
    AccountFactory,
    ActivityFactory,
    ExecutiveFactory,
    OpportunityFactory,
    OwnershipChangeFactory,
    PlanYearFactory,
    PositionFactory,
    ProductFactory,
    TargetLineFactory,
    TargetSetFactory,
    TierFactory,
    metric,
)

pytestmark = pytest.mark.django_db

D = Decimal
JAN, APR, MAY, JUN = (datetime.date(2027, m, 1) for m in (1, 4, 5, 6))
BASE = datetime.date(2026, 12, 1)  # B: the month-end before the year starts


@pytest.fixture
def plan_year():
    return PlanYearFactory(year=2027)


@pytest.fixture
def loan():
    return ProductFactory(code="TL", family=ProductFamily.LOAN)


@pytest.fixture
def loan2():
    return ProductFactory(code="CL", family=ProductFamily.LOAN)


@pytest.fixture
def dda():
    return ProductFactory(code="DDA", family=ProductFamily.DEPOSIT)


def close_month(month):
    """The bank's positions run to `month`: E is that month."""
    PositionFactory(month=month, balance=D("1"))


def approved_set(rm, plan_year, lines, *, status=TargetSet.Status.APPROVED, revision=1):
    """The RM's target set with `lines` {metric code: (value, weight)}."""
    leader = rm.team.leader
    target_set = TargetSetFactory(
        plan_year=plan_year,
        scope="rm",
        team=None,
        rm=rm,
        revision=revision,
        created_by=leader,
        last_edited_by=leader,
        proposed_by=leader if status != TargetSet.Status.DRAFT else None,
        status=status,
        decided_by=ExecutiveFactory(username="exec_decides")
        if status in (TargetSet.Status.APPROVED, TargetSet.Status.SUPERSEDED)
        else None,
    )
    for code, (value, weight) in lines.items():
        TargetLineFactory(target_set=target_set, metric=metric(code), value=D(value), weight=weight)
    return target_set


def line_of(result: PlanVersusActual, code: str):
    (found,) = [line for line in result.lines if line.metric.code == code]
    return found


def balances(account, product, by_month):
    for month, balance in by_month.items():
        PositionFactory(account=account, product=product, month=month, balance=D(balance))


# --- planned: phasing the year's target --------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "target", "months", "elapsed", "planned"),
    [
        ("loan_growth", "8", 1, 6, D("0.67")),  # flow: June
        ("loan_growth", "8", 3, 6, D("2.00")),  # flow: Q2
        ("loan_growth", "8", 6, 6, D("4.00")),  # flow: YTD to June
        ("new_relationships", "12", 6, 6, D("6.00")),
        ("retention", "90", 1, 6, D("95.00")),  # stock: end of June, whatever the period
        ("tier_a_retention", "90", 6, 6, D("95.00")),
        ("retention", "90", 3, 3, D("97.50")),
        ("activities_per_week", "13", 1, 6, D("13.00")),  # rate: T every period
        ("cross_sell_ratio", "2.5", 6, 6, D("2.50")),  # level: T every period
        ("product_mix_share", "80", 1, 1, D("80.00")),
        ("forecast_accuracy", "85", 3, 9, D("85.00")),
    ],
)
def test_planned_value_phases_the_target_by_the_metrics_kind(
    code, target, months, elapsed, planned
):
    raw = planned_value(code, D(target), months=months, elapsed=elapsed)
    assert raw.quantize(D("0.01")) == planned


@pytest.mark.parametrize(
    ("period", "planned", "start", "end"),
    [
        ("month", D("0.67"), JUN, datetime.date(2027, 6, 30)),
        ("quarter", D("2.00"), APR, datetime.date(2027, 6, 30)),
        ("ytd", D("4.00"), JAN, datetime.date(2027, 6, 30)),
    ],
)
def test_eight_percent_growth_is_phased_linearly_over_june(
    rm, plan_year, period, planned, start, end
):
    approved_set(rm, plan_year, {"loan_growth": ("8", 100)})
    close_month(JUN)
    result = rm_plan_versus_actual(rm, plan_year=plan_year, period=period)
    assert (result.period_start, result.period_end, result.as_of) == (start, end, JUN)
    line = line_of(result, "loan_growth")
    assert (line.target, line.weight, line.planned) == (D("8"), 100, planned)


def test_quarter_to_date_plans_only_the_closed_months(rm, plan_year):
    approved_set(rm, plan_year, {"loan_growth": ("8", 100)})
    close_month(MAY)
    result = rm_plan_versus_actual(rm, plan_year=plan_year, period="quarter")
    assert (result.period_start, result.period_end) == (APR, datetime.date(2027, 5, 31))
    assert line_of(result, "loan_growth").planned == D("1.33")


def test_month_picks_its_period_and_is_clamped_to_the_closed_month(rm, plan_year):
    approved_set(rm, plan_year, {"retention": ("88", 100)})
    close_month(MAY)
    march = rm_plan_versus_actual(
        rm, plan_year=plan_year, period="month", month=datetime.date(2027, 3, 17)
    )
    assert march.period_start == datetime.date(2027, 3, 1)
    assert line_of(march, "retention").planned == D("97.00")  # 100 - 12 x 3/12
    later = rm_plan_versus_actual(
        rm, plan_year=plan_year, period="month", month=datetime.date(2027, 9, 1)
    )
    assert later.period_start == MAY


def test_year_to_date_ends_at_the_chosen_month_not_the_closed_one(rm, plan_year):
    approved_set(rm, plan_year, {"loan_growth": ("8", 100)})
    close_month(datetime.date(2027, 10, 1))
    first_half = rm_plan_versus_actual(rm, plan_year=plan_year, period="ytd", month=JUN)
    assert (first_half.period_start, first_half.period_end) == (
        datetime.date(2027, 1, 1),
        datetime.date(2027, 6, 30),
    )
    assert line_of(first_half, "loan_growth").planned == D("4.00")


def test_closed_month_is_the_latest_position_month_within_the_plan_year(plan_year):
    close_month(datetime.date(2028, 2, 1))
    assert closed_month(plan_year) == datetime.date(2027, 12, 1)


def test_no_closed_month_when_the_bank_has_no_positions_in_the_year(rm, plan_year):
    approved_set(rm, plan_year, {"loan_growth": ("8", 100)})
    close_month(datetime.date(2026, 12, 1))
    result = rm_plan_versus_actual(rm, plan_year=plan_year)
    assert closed_month(plan_year) is None
    assert (result.as_of, result.period_start, result.period_end) == (None, None, None)
    line = line_of(result, "loan_growth")
    assert (line.target, line.planned, line.actual) == (D("8"), None, None)
    assert line.note == "no month closed in the plan year yet"


# --- loan and deposit growth -----------------------------------------------------------------


def test_loan_growth_restates_the_base_when_an_account_is_handed_over(
    rm, other_rm, plan_year, loan
):
    approved_set(rm, plan_year, {"loan_growth": ("8", 100)})
    own = AccountFactory(owner=rm)
    balances(own, loan, {BASE: "1000", MAY: "1050", JUN: "1100"})
    # Handed from other_rm to rm on 10 June: it moves with its history.
    handed = AccountFactory(owner=rm)
    balances(handed, loan, {BASE: "500", MAY: "550", JUN: "600"})
    OwnershipChangeFactory(
        account=handed,
        previous_owner=other_rm,
        new_owner=rm,
        changed_at=timezone.make_aware(datetime.datetime(2027, 6, 10, 12)),
    )
    ytd = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "loan_growth")
    # (1100 + 600 - 1000 - 500) / 1500
    assert ytd.actual == D("13.33")
    assert (ytd.planned, ytd.difference, ytd.percent, ytd.on_course) == (
        D("4.00"),
        D("9.33"),  # percentage points: no percent of a percent
        None,
        True,
    )
    june = line_of(rm_plan_versus_actual(rm, plan_year=plan_year, period="month"), "loan_growth")
    assert june.actual == D("6.67")  # (1700 - 1600) / 1500


def test_the_giver_keeps_a_handed_over_account_until_the_month_of_the_change(
    rm, other_rm, plan_year, loan
):
    approved_set(other_rm, plan_year, {"loan_growth": ("8", 100)})
    kept = AccountFactory(owner=other_rm)
    balances(kept, loan, {BASE: "1000", APR: "1000", MAY: "1000", JUN: "1000"})
    handed = AccountFactory(owner=rm)
    balances(handed, loan, {BASE: "1000", APR: "1100", MAY: "1200", JUN: "1300"})
    OwnershipChangeFactory(
        account=handed,
        previous_owner=other_rm,
        new_owner=rm,
        changed_at=timezone.make_aware(datetime.datetime(2027, 6, 10, 12)),
    )
    june = rm_plan_versus_actual(other_rm, plan_year=plan_year)
    assert line_of(june, "loan_growth").actual == D("0.00")  # neither growth nor a loss
    may = rm_plan_versus_actual(other_rm, plan_year=plan_year, period="month", month=MAY)
    assert line_of(may, "loan_growth").actual == D("5.00")  # (2200 - 2100) / 2000


def test_an_ownership_change_counts_from_its_date_in_the_banks_time_zone(
    settings, rm, other_rm, plan_year, loan
):
    settings.TIME_ZONE = "Europe/Zurich"
    approved_set(rm, plan_year, {"loan_growth": ("8", 100)})
    handed = AccountFactory(owner=rm)
    balances(handed, loan, {BASE: "1000", JUN: "1100"})
    # 30 June 22:30 UTC is 1 July in Zurich: on 30 June the account was still other_rm's.
    OwnershipChangeFactory(
        account=handed,
        previous_owner=other_rm,
        new_owner=rm,
        changed_at=datetime.datetime(2027, 6, 30, 22, 30, tzinfo=datetime.UTC),
    )
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "loan_growth")
    assert line.actual is None


def test_deposit_growth_counts_the_whole_deposit_family(rm, plan_year, dda):
    approved_set(rm, plan_year, {"deposit_growth": ("6", 100)})
    money_market = ProductFactory(code="MM", family=ProductFamily.DEPOSIT)
    time_deposit = ProductFactory(code="TD", family=ProductFamily.DEPOSIT)
    account = AccountFactory(owner=rm)
    balances(account, dda, {BASE: "1500", JUN: "1000"})
    balances(account, money_market, {BASE: "500"})
    balances(account, time_deposit, {JUN: "1300"})
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "deposit_growth")
    assert line.actual == D("15.00")  # (1000 + 1300 - 2000) / 2000
    assert (line.planned, line.on_course) == (D("3.00"), True)


def test_growth_without_a_base_balance_has_no_figure_and_says_why(rm, plan_year, loan):
    approved_set(rm, plan_year, {"loan_growth": ("8", 100)})
    opened = AccountFactory(owner=rm, opened_on=datetime.date(2027, 2, 1))
    balances(opened, loan, {JUN: "5000"})
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "loan_growth")
    assert (line.actual, line.difference, line.percent, line.on_course) == (None,) * 4
    assert line.planned == D("4.00")
    assert line.note == "no loans at the start of the year"


def test_a_lost_accounts_balance_falling_to_zero_is_negative_growth(rm, plan_year, loan):
    approved_set(rm, plan_year, {"loan_growth": ("8", 100)})
    kept = AccountFactory(owner=rm)
    balances(kept, loan, {BASE: "1000", JUN: "1000"})
    lost = AccountFactory(
        owner=rm,
        status=AccountStatus.LOST,
        closed_on=datetime.date(2027, 3, 1),
        lost_reason="Price",
    )
    balances(lost, loan, {BASE: "1000"})
    close_month(JUN)
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "loan_growth")
    assert (line.actual, line.on_course) == (D("-50.00"), False)


# --- retention ---------------------------------------------------------------------------------


def saved_on(account, when):
    """Save the account; its audit history records the change at `when`."""
    account.save()
    latest = account.history.order_by("-history_id").first()
    account.history.filter(history_id=latest.history_id).update(
        history_date=timezone.make_aware(when)
    )


@pytest.fixture
def retention_book(rm, plan_year):
    """Four tier-A and two tier-B relationships at the start of 2027, and two that are not.

    A1, A2 kept; A3 lost in February; A4 moved to tier C in May and lost in June;
    B1 kept; B2 closed in March (business sold). Not in any base: one opened in March,
    one closed in October 2026.
    """
    tier_a, tier_b, tier_c = (TierFactory(code=c) for c in "ABC")
    AccountFactory.create_batch(2, owner=rm, tier=tier_a)
    AccountFactory(
        owner=rm,
        tier=tier_a,
        status=AccountStatus.LOST,
        closed_on=datetime.date(2027, 2, 15),
        lost_reason="Competitor",
    )
    moved = AccountFactory(owner=rm, tier=tier_a)
    moved.tier = tier_c
    saved_on(moved, datetime.datetime(2027, 5, 15))
    moved.status, moved.closed_on, moved.lost_reason = "lost", datetime.date(2027, 6, 10), "Price"
    saved_on(moved, datetime.datetime(2027, 6, 10))
    AccountFactory(owner=rm, tier=tier_b)
    AccountFactory(
        owner=rm, tier=tier_b, status=AccountStatus.CLOSED, closed_on=datetime.date(2027, 3, 31)
    )
    AccountFactory(owner=rm, tier=tier_b, opened_on=datetime.date(2027, 3, 1))
    AccountFactory(
        owner=rm, tier=tier_a, status=AccountStatus.CLOSED, closed_on=datetime.date(2026, 10, 1)
    )
    approved_set(rm, plan_year, {"tier_a_retention": ("100", 50), "retention": ("90", 50)})
    close_month(JUN)


def test_tier_a_retention_counts_a_loss_after_a_move_to_tier_c(rm, plan_year, retention_book):
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "tier_a_retention")
    assert line.actual == D("50.00")  # A1, A2 of A1-A4
    assert (line.planned, line.difference, line.percent) == (D("100.00"), D("-50.00"), None)
    assert line.on_course is False


def test_a_months_retention_is_the_year_to_date_at_its_end(rm, plan_year, retention_book):
    april = rm_plan_versus_actual(rm, plan_year=plan_year, period="month", month=APR)
    assert line_of(april, "tier_a_retention").actual == D("75.00")  # A3 lost; A4 not yet
    assert line_of(april, "retention").actual == D("66.67")  # A3 and B2 gone of six
    assert line_of(april, "retention").planned == D("96.67")  # 100 - 10 x 4/12


def test_overall_retention_counts_closed_and_lost_alike(rm, plan_year, retention_book):
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "retention")
    assert line.actual == D("50.00")  # A1, A2, B1 of six
    assert line.planned == D("95.00")


def test_tier_at_the_start_is_the_current_tier_without_history_that_old(rm, plan_year):
    account = AccountFactory(owner=rm, tier=TierFactory(code="A"))
    account.history.update(history_date=timezone.make_aware(datetime.datetime(2027, 2, 1)))
    approved_set(rm, plan_year, {"tier_a_retention": ("100", 100)})
    close_month(JUN)
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "tier_a_retention")
    assert line.actual == D("100.00")


def test_retention_without_a_base_has_no_figure(rm, plan_year):
    AccountFactory(owner=rm, tier=TierFactory(code="B"))
    approved_set(rm, plan_year, {"tier_a_retention": ("100", 100)})
    close_month(JUN)
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "tier_a_retention")
    assert (line.actual, line.note) == (None, "no tier-A relationships at the start of the year")


# --- new relationships, cross-sell -------------------------------------------------------------


@pytest.fixture
def new_relationships(rm, other_rm, plan_year):
    AccountFactory(owner=rm, opened_on=datetime.date(2027, 2, 10))
    AccountFactory(owner=rm, opened_on=datetime.date(2027, 6, 1))
    AccountFactory(  # won and ended within the year: still a win
        owner=rm,
        opened_on=datetime.date(2027, 3, 1),
        status=AccountStatus.CLOSED,
        closed_on=datetime.date(2027, 4, 30),
    )
    AccountFactory(owner=rm, opened_on=datetime.date(2026, 11, 1))  # last year's
    AccountFactory(owner=rm, opened_on=None, status=AccountStatus.PROSPECT)
    AccountFactory(owner=other_rm, opened_on=datetime.date(2027, 3, 1))
    close_month(JUN)


def test_new_relationships_count_the_accounts_opened_in_the_period(
    rm, plan_year, new_relationships
):
    approved_set(rm, plan_year, {"new_relationships": ("12", 100)})
    ytd = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "new_relationships")
    assert (ytd.actual, ytd.planned, ytd.difference, ytd.percent) == (
        D("3"),
        D("6.00"),
        D("-3.00"),
        D("-50.00"),
    )
    june = rm_plan_versus_actual(rm, plan_year=plan_year, period="month")
    assert line_of(june, "new_relationships").actual == D("1")


def test_percent_has_no_figure_when_nothing_was_planned(rm, plan_year, new_relationships):
    approved_set(rm, plan_year, {"new_relationships": ("0", 100)})
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "new_relationships")
    assert (line.planned, line.difference, line.percent, line.on_course) == (
        D("0.00"),
        D("3.00"),
        None,
        True,
    )


def test_meeting_the_plan_exactly_is_on_course(rm, plan_year, new_relationships):
    approved_set(rm, plan_year, {"new_relationships": ("6", 100)})  # 3 by June
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "new_relationships")
    assert (line.difference, line.percent, line.on_course) == (D("0.00"), D("0.00"), True)


def test_cross_sell_ratio_counts_products_held_by_active_relationships(rm, plan_year, loan, dda):
    approved_set(rm, plan_year, {"cross_sell_ratio": ("2.5", 100)})
    cash_management = ProductFactory(code="CM", family=ProductFamily.OTHER)
    money_market = ProductFactory(code="MM", family=ProductFamily.DEPOSIT)
    broad = AccountFactory(owner=rm)
    for product, balance, revenue in (
        (loan, "1000", "0"),
        (dda, "500", "0"),
        (cash_management, "0", "40"),  # a fee product: revenue, no balance
        (money_market, "0", "0"),  # held nothing in June
    ):
        PositionFactory(
            account=broad, product=product, month=JUN, balance=D(balance), revenue=D(revenue)
        )
    AccountFactory(owner=rm)  # active, no positions: 0 products
    gone = AccountFactory(
        owner=rm, status=AccountStatus.LOST, closed_on=datetime.date(2027, 5, 2), lost_reason="x"
    )
    PositionFactory(account=gone, product=loan, month=JUN)
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "cross_sell_ratio")
    assert (line.actual, line.planned, line.on_course) == (D("1.50"), D("2.50"), False)


# --- activities, product mix, forecast -----------------------------------------------------


def test_activities_per_week_count_calendar_weeks_of_a_31_day_month(
    rm, other_rm, plan_year, account
):
    approved_set(rm, plan_year, {"activities_per_week": ("2", 100)})
    prospect = AccountFactory(owner=rm, opened_on=None, status=AccountStatus.PROSPECT)
    covered = AccountFactory(owner=other_rm, covering_rm=rm)
    for day in range(1, 9):
        ActivityFactory(account=account, rm=rm, date=datetime.date(2027, 5, day))
    ActivityFactory(account=prospect, rm=rm, date=datetime.date(2027, 5, 31), kind="call")
    ActivityFactory(account=covered, rm=rm, date=datetime.date(2027, 5, 20), kind="review")
    ActivityFactory(account=account, rm=other_rm, date=datetime.date(2027, 5, 20))
    ActivityFactory(account=account, rm=rm, date=datetime.date(2027, 6, 1))
    close_month(JUN)
    may = rm_plan_versus_actual(rm, plan_year=plan_year, period="month", month=MAY)
    line = line_of(may, "activities_per_week")
    assert line.actual == D("2.26")  # 10 / (31 / 7)
    assert (line.planned, line.on_course) == (D("2.00"), True)
    june = rm_plan_versus_actual(rm, plan_year=plan_year, period="month")
    assert line_of(june, "activities_per_week").actual == D("0.23")  # 1 / (30 / 7)


@pytest.fixture
def mix_standard(plan_year):
    ProductMixStandard.objects.create(
        plan_year=plan_year, family=ProductFamily.LOAN, target_share_pct=D("60")
    )
    ProductMixStandard.objects.create(
        plan_year=plan_year, family=ProductFamily.DEPOSIT, target_share_pct=D("40")
    )


def won(rm, family, amount, *, kind=OpportunityKind.NEW_BUSINESS, closed_on=None, **extra):
    product = ProductFactory(code=f"W{family}", family=family)
    return OpportunityFactory(
        account=AccountFactory(owner=rm),
        rm=rm,
        product=product,
        amount=D(amount),
        kind=kind,
        status=extra.pop("status", OpportunityStatus.WON),
        closed_on=closed_on or datetime.date(2027, 5, 10),
        probability=100,
        **extra,
    )


def test_product_mix_share_is_the_overlap_with_the_standard(rm, other_rm, plan_year, mix_standard):
    approved_set(rm, plan_year, {"product_mix_share": ("80", 100)})
    won(rm, ProductFamily.LOAN, "300")
    won(rm, ProductFamily.DEPOSIT, "100", kind=OpportunityKind.CROSS_SELL)
    won(rm, ProductFamily.CARD, "100")  # no standard: takes share, earns none
    won(rm, ProductFamily.LOAN, "1000", kind=OpportunityKind.RENEWAL)  # keeps, adds nothing
    won(rm, ProductFamily.DEPOSIT, "1000", status=OpportunityStatus.LOST)
    won(other_rm, ProductFamily.DEPOSIT, "1000")
    won(rm, ProductFamily.DEPOSIT, "1000", closed_on=datetime.date(2027, 6, 1))
    close_month(JUN)
    may = rm_plan_versus_actual(rm, plan_year=plan_year, period="month", month=MAY)
    line = line_of(may, "product_mix_share")
    # loan 60 % (standard 60), deposit 20 % (standard 40): (60 + 20) / 100
    assert (line.actual, line.planned, line.on_course) == (D("80.00"), D("80.00"), True)


def test_product_mix_share_asks_only_for_the_families_with_a_standard(rm, plan_year):
    ProductMixStandard.objects.create(
        plan_year=plan_year, family=ProductFamily.LOAN, target_share_pct=D("50")
    )
    approved_set(rm, plan_year, {"product_mix_share": ("80", 100)})
    won(rm, ProductFamily.LOAN, "300")
    won(rm, ProductFamily.DEPOSIT, "200")
    close_month(JUN)
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "product_mix_share")
    assert line.actual == D("100.00")  # loan 60 % ≥ 50 %


def test_product_mix_share_without_new_business_has_no_figure(rm, plan_year, mix_standard):
    approved_set(rm, plan_year, {"product_mix_share": ("80", 100)})
    won(rm, ProductFamily.LOAN, "300", kind=OpportunityKind.RENEWAL)
    close_month(JUN)
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "product_mix_share")
    assert (line.actual, line.note) == (None, "no new business won in the period")


def test_product_mix_share_without_a_standard_has_no_figure(rm, plan_year):
    approved_set(rm, plan_year, {"product_mix_share": ("80", 100)})
    won(rm, ProductFamily.LOAN, "300")
    close_month(JUN)
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "product_mix_share")
    assert (line.actual, line.note) == (None, "no product-mix standard for the year")


def test_forecast_accuracy_has_no_figure_before_a_forecast_is_frozen(rm, plan_year):
    approved_set(rm, plan_year, {"forecast_accuracy": ("85", 100)})
    won(rm, ProductFamily.LOAN, "300")
    close_month(JUN)
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "forecast_accuracy")
    assert (line.actual, line.planned, line.on_course) == (None, D("85.00"), None)
    assert line.note == "no frozen forecast yet"


# --- which target lines ----------------------------------------------------------------------


def test_lines_follow_the_metric_order_of_the_approved_set(rm, plan_year):
    approved_set(
        rm,
        plan_year,
        {"retention": ("90", 40), "loan_growth": ("8", 30), "new_relationships": ("4", 30)},
    )
    close_month(JUN)
    result = rm_plan_versus_actual(rm, plan_year=plan_year)
    codes = [line.metric.code for line in result.lines]
    positions = [line.metric.position for line in result.lines]
    assert sorted(codes) == ["loan_growth", "new_relationships", "retention"]
    assert positions == sorted(positions)
    assert result.source == "live"


def test_unapproved_targets_show_the_actual_but_plan_nothing(rm, plan_year, new_relationships):
    approved_set(rm, plan_year, {"new_relationships": ("12", 100)}, status="proposed")
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "new_relationships")
    assert (line.weight, line.target, line.planned, line.actual) == (None, None, None, D("3"))
    assert (line.difference, line.percent, line.on_course) == (None, None, None)
    assert line.note == "targets not approved yet"


def test_the_approved_revision_counts_not_a_newer_draft(rm, plan_year, new_relationships):
    first = approved_set(rm, plan_year, {"new_relationships": ("12", 100)})
    draft = approved_set(
        rm, plan_year, {"new_relationships": ("24", 100)}, status="draft", revision=2
    )
    draft.previous = first
    draft.save()
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "new_relationships")
    assert (line.target, line.planned) == (D("12"), D("6.00"))


def test_a_superseded_revision_no_longer_counts(rm, plan_year, new_relationships):
    approved_set(rm, plan_year, {"new_relationships": ("12", 100)}, status="superseded")
    approved_set(rm, plan_year, {"new_relationships": ("24", 100)}, revision=2)
    line = line_of(rm_plan_versus_actual(rm, plan_year=plan_year), "new_relationships")
    assert (line.target, line.planned) == (D("24"), D("12.00"))


def test_an_rm_without_targets_has_no_lines(rm, plan_year, new_relationships):
    assert rm_plan_versus_actual(rm, plan_year=plan_year).lines == []


def test_an_unknown_period_is_refused(rm, plan_year):
    with pytest.raises(ValueError, match="period"):
        rm_plan_versus_actual(rm, plan_year=plan_year, period="week")


# --- the snapshot --------------------------------------------------------------------------


def test_as_json_survives_a_json_round_trip_with_exact_decimals(rm, plan_year, new_relationships):
    approved_set(rm, plan_year, {"new_relationships": ("12", 60), "loan_growth": ("8", 40)})
    result = rm_plan_versus_actual(rm, plan_year=plan_year, period="quarter")
    frozen = result.as_json()
    assert json.loads(json.dumps(frozen)) == frozen
    assert frozen["period"] == "quarter"
    assert (frozen["period_start"], frozen["period_end"], frozen["as_of"]) == (
        "2027-04-01",
        "2027-06-30",
        "2027-06-01",
    )
    assert frozen["rm"]["id"] == rm.pk
    assert frozen["plan_year"] == 2027
    new = next(line for line in frozen["lines"] if line["metric"] == "new_relationships")
    assert D(new["planned"]) == line_of(result, "new_relationships").planned == D("3.00")
    assert (new["actual"], new["weight"], new["on_course"]) == ("1", 60, False)
    growth = next(line for line in frozen["lines"] if line["metric"] == "loan_growth")
    assert (growth["actual"], growth["note"]) == (None, "no loans at the start of the year")


# --- queries -------------------------------------------------------------------------------


def book_of(rm, other_rm, plan_year, size, loan, dda):
    tier_a = TierFactory(code="A")
    ProductMixStandard.objects.create(
        plan_year=plan_year, family=ProductFamily.LOAN, target_share_pct=D("60")
    )
    for i in range(size):
        account = AccountFactory(owner=rm, tier=tier_a)
        balances(account, loan, {BASE: "1000", MAY: "1100", JUN: str(1200 + i)})
        balances(account, dda, {BASE: "500", JUN: "700"})
        OwnershipChangeFactory(
            account=account,
            previous_owner=other_rm,
            new_owner=rm,
            changed_at=timezone.make_aware(datetime.datetime(2027, 3, 1)),
        )
        ActivityFactory(account=account, rm=rm, date=datetime.date(2027, 6, 2))
        OpportunityFactory(
            account=account,
            rm=rm,
            product=loan,
            amount=D("100"),
            kind=OpportunityKind.NEW_BUSINESS,
            status=OpportunityStatus.WON,
            closed_on=datetime.date(2027, 6, 3),
        )
    approved_set(
        rm,
        plan_year,
        {
            "loan_growth": ("8", 20),
            "deposit_growth": ("6", 10),
            "tier_a_retention": ("100", 10),
            "retention": ("90", 10),
            "new_relationships": ("4", 10),
            "cross_sell_ratio": ("2.5", 10),
            "activities_per_week": ("10", 10),
            "product_mix_share": ("80", 10),
            "forecast_accuracy": ("85", 10),
        },
    )


@pytest.mark.parametrize("size", [3, 30])
def test_queries_do_not_grow_with_the_book(
    rm, other_rm, plan_year, loan, dda, size, django_assert_max_num_queries
):
    book_of(rm, other_rm, plan_year, size, loan, dda)
    with django_assert_max_num_queries(9):
        result = rm_plan_versus_actual(rm, plan_year=plan_year, period="quarter")
    assert len(result.lines) == 9
    assert line_of(result, "tier_a_retention").actual == D("100.00")
    assert line_of(result, "cross_sell_ratio").actual == D("2.00")
