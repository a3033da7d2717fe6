"""One definition per figure (issue 13; docs/metrics.md "One definition per figure"): the
Retention page, the stored variances, the live path, the sign-off, the overviews, the
roll-up and the catalogue agree on retention, attrition, whose a loss is, growth,
activities, points and the growth / retention balance.

Plan year 2027; positions closed to June (E = June), today 5 July 2027.
"""

import datetime
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountStatus, ActivityStatus, ProductFamily
from org.selectors import bank_overview
from planning.models import Metric, TargetSet, Variance
from planning.selectors.signoff import bank_against_targets
from planning.selectors.targets import growth_retention_balance, roll_up
from planning.selectors.variances import compare, rm_plan_versus_actual
from planning.services import targets as target_services
from planning.services.targets import LineInput
from planning.services.variances import variances_recompute
from retention.selectors.risk import retention as retention_page

from ..factories import (
    AccountFactory,
    ActivityFactory,
    ExecutiveFactory,
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
TODAY = datetime.date(2027, 7, 5)
BASE = datetime.date(2026, 12, 1)
JUN = datetime.date(2027, 6, 1)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: TODAY)
    return TODAY


@pytest.fixture
def plan_year():
    return PlanYearFactory(year=2027)


@pytest.fixture
def closed_june(plan_year):
    """June 2027 is the last closed month (a prospect's position: in no figure)."""
    PositionFactory(month=JUN, account__opened_on=None, account__status=AccountStatus.PROSPECT)


@pytest.fixture
def tiers(db):
    return {code: TierFactory(code=code) for code in "ABC"}


def approved(plan_year, lines, **subject):
    """An approved target set of the bank (no subject), a team (team=) or an RM (rm=)."""
    scope = "rm" if "rm" in subject else "team" if "team" in subject else "bank"
    author = ExecutiveFactory()
    target_set = TargetSetFactory(
        plan_year=plan_year,
        scope=scope,
        team=subject.get("team"),
        rm=subject.get("rm"),
        created_by=author,
        last_edited_by=author,
        proposed_by=author,
        status=TargetSet.Status.APPROVED,
        decided_by=ExecutiveFactory(),
    )
    for code, value in lines.items():
        TargetLineFactory(target_set=target_set, metric=metric(code), value=D(value))
    return target_set


def saved_on(account, when):
    """Save the account; its audit history records the change at `when`."""
    account.save()
    latest = account.history.order_by("-history_id").first()
    account.history.filter(history_id=latest.history_id).update(
        history_date=timezone.make_aware(when)
    )


def lost(account, day):
    account.status, account.closed_on, account.lost_reason = AccountStatus.LOST, day, "Price"
    saved_on(account, datetime.datetime.combine(day, datetime.time(12)))


def stored(code, period="ytd", start=datetime.date(2027, 1, 1), **subject):
    scope = "rm" if "rm" in subject else "team" if "team" in subject else "bank"
    return Variance.objects.get(
        scope=scope, metric__code=code, period=period, period_start=start, **subject
    )


def tier(result, code):
    return next(t for t in result.tiers if t.tier.code == code)


# --- retention per tier: the tier at the start of the year, one code path ---------------------


@pytest.fixture
def downgraded_book(rm, tiers, closed_june):
    """Acme: tier A on 1 January, tier C from 15 May, lost 10 June. Kept: one tier-A account.
    Opened on 1 January (tier A): in no base."""
    AccountFactory(owner=rm, tier=tiers["A"])
    acme = AccountFactory(owner=rm, tier=tiers["A"], name="Acme")
    acme.tier = tiers["C"]
    saved_on(acme, datetime.datetime(2027, 5, 15))
    lost(acme, datetime.date(2027, 6, 10))
    AccountFactory(owner=rm, tier=tiers["A"], opened_on=datetime.date(2027, 1, 1))


def test_retention_page_counts_an_account_by_its_tier_at_the_start_of_the_year(
    executive, downgraded_book
):
    result = retention_page(executive, today=TODAY)
    assert (tier(result, "A").at_start, tier(result, "A").still_active) == (2, 1)
    assert tier(result, "A").retention_pct == D("50.00")
    assert tier(result, "C").at_start == 0  # not where its tier is today


def test_an_account_opened_on_the_first_day_of_the_year_is_in_no_retention_base(
    executive, downgraded_book
):
    assert retention_page(executive, today=TODAY).at_start == 2


def test_retention_pages_tier_a_figure_is_the_stored_tier_a_retention(
    executive, downgraded_book, leader
):
    variances_recompute(today=TODAY)
    bank = retention_page(executive, today=TODAY)
    assert tier(bank, "A").retention_pct == stored("tier_a_retention").actual == D("50.00")
    team = retention_page(leader, today=TODAY)
    team_row = stored("tier_a_retention", team=leader.led_teams.get())
    assert tier(team, "A").retention_pct == team_row.actual


def test_the_retention_page_says_which_tier_and_date_it_counts(client, executive, downgraded_book):
    client.force_login(executive)
    text = client.get(reverse("retention:retention")).text
    assert "By the tier each account had on 1 Jan 2027" in text
    assert "1 Jan 2027 to 30 Jun 2027" in text


# --- attrition: the complement of the stored retention -------------------------------------


def test_attrition_is_the_complement_of_the_stored_retention_at_the_same_date(
    executive, rm, tiers, closed_june
):
    AccountFactory.create_batch(2, owner=rm, tier=tiers["B"])
    lost(AccountFactory(owner=rm, tier=tiers["B"]), datetime.date(2027, 3, 3))
    # Lost on 2 July: after the closed month; it counts from July's close, on both.
    lost(AccountFactory(owner=rm, tier=tiers["B"]), datetime.date(2027, 7, 2))
    variances_recompute(today=TODAY)
    result = retention_page(executive, today=TODAY)
    retention = stored("retention").actual
    assert retention == D("75.00")
    assert result.attrition_pct == D("100") - retention == D("25.00")
    assert (result.lost, result.closed, result.at_start) == (1, 0, 4)


# --- a leader's scope: credit to the owner's team ----------------------------------------------


def test_a_covered_account_counts_for_its_owners_team_only(
    leader, other_leader, executive, rm, other_rm, tiers, closed_june
):
    AccountFactory.create_batch(3, owner=rm, tier=tiers["A"])
    AccountFactory(owner=other_rm, tier=tiers["A"])
    AccountFactory(owner=other_rm, tier=tiers["A"], covering_rm=rm)
    north, south = retention_page(leader, today=TODAY), retention_page(other_leader, today=TODAY)
    bank = retention_page(executive, today=TODAY)
    assert (tier(north, "A").at_start, tier(south, "A").at_start) == (3, 2)
    assert tier(north, "A").at_start + tier(south, "A").at_start == tier(bank, "A").at_start
    assert north.covered_elsewhere == 1


def test_the_page_shows_the_coverage_it_does_not_count(client, leader, rm, other_rm, closed_june):
    AccountFactory(owner=other_rm, covering_rm=rm)
    client.force_login(leader)
    text = client.get(reverse("retention:retention")).text
    assert "Your RMs also cover 1 account of other teams" in text


# --- who takes a loss: the owner at the start of the month it was lost -------------------------


@pytest.fixture
def handed_before_the_loss(plan_year, rm, teammate, tiers, closed_june):
    """Beta: rm's, handed to teammate on 20 June, lost on 25 June. Each has two more kept."""
    AccountFactory.create_batch(2, owner=rm, tier=tiers["B"])
    AccountFactory.create_batch(2, owner=teammate, tier=tiers["B"])
    beta = AccountFactory(owner=teammate, tier=tiers["B"], name="Beta")
    OwnershipChangeFactory(
        account=beta,
        previous_owner=rm,
        new_owner=teammate,
        changed_at=timezone.make_aware(datetime.datetime(2027, 6, 20, 12)),
    )
    lost(beta, datetime.date(2027, 6, 25))
    for who in (rm, teammate):
        approved(plan_year, {"retention": "90"}, rm=who)
    return beta


def test_a_loss_stays_with_the_owner_at_the_start_of_the_month_in_the_stored_rows(
    rm, teammate, handed_before_the_loss
):
    variances_recompute(today=TODAY)
    assert stored("retention", rm=rm).actual == D("66.67")  # 2 of 3
    assert stored("retention", rm=teammate).actual == D("100.00")  # 2 of 2
    june = stored("retention", "month", JUN, rm=rm)
    assert june.actual == D("66.67")


def test_a_loss_stays_with_the_owner_at_the_start_of_the_month_live(
    plan_year, rm, teammate, handed_before_the_loss
):
    def live(who):
        (line,) = rm_plan_versus_actual(who, plan_year=plan_year).lines
        return line.actual

    assert (live(rm), live(teammate)) == (D("66.67"), D("100.00"))


def test_a_hand_over_in_an_earlier_month_moves_the_account_and_its_loss(
    plan_year, rm, teammate, handed_before_the_loss
):
    handed_before_the_loss.ownership_changes.update(
        changed_at=timezone.make_aware(datetime.datetime(2027, 5, 31, 12))
    )
    variances_recompute(today=TODAY)
    assert stored("retention", rm=rm).actual == D("100.00")  # 2 of 2
    assert stored("retention", rm=teammate).actual == D("66.67")  # 2 of 3


# --- growth on the sign-off: year to date, live and stored ------------------------------------


def test_sign_off_growth_is_the_year_to_date_before_and_after_the_nightly_job(
    plan_year, executive, rm
):
    loan = ProductFactory(code="TL", family=ProductFamily.LOAN)
    account = AccountFactory(owner=rm)
    for month, balance in (
        (datetime.date(2026, 6, 1), "4620"),  # a year before June: y/y would be -6.93 %
        (BASE, "4400"),
        (JUN, "4300"),
    ):
        PositionFactory(account=account, product=loan, month=month, balance=D(balance))
    approved(plan_year, {"loan_growth": "8"})
    _set, (live,) = bank_against_targets(executive, plan_year)
    variances_recompute(today=TODAY)
    _set, (kept,) = bank_against_targets(executive, plan_year)
    assert (live.source, kept.source) == ("live", "stored")
    assert live.actual == kept.actual == D("-2.27")  # (4300 - 4400) / 4400
    assert live.planned == kept.planned == D("4.00")
    assert live.difference == kept.difference == D("-6.27")


# --- activities: the parts add up ------------------------------------------------------------


def test_the_banks_activities_per_week_is_the_sum_of_its_teams(
    team, other_team, rm, other_rm, leader, closed_june
):
    june = datetime.date(2027, 6, 2)
    ActivityFactory.create_batch(10, rm=rm, account__owner=rm, date=june)
    ActivityFactory.create_batch(5, rm=other_rm, account__owner=other_rm, date=june)
    ActivityFactory.create_batch(3, rm=leader, account__owner=rm, date=june)
    ActivityFactory(rm=rm, account__owner=rm, date=june, status=ActivityStatus.PLANNED, outcome="")
    variances_recompute(today=TODAY)

    def per_week(**subject):
        return stored("activities_per_week", "month", JUN, **subject).actual

    assert (per_week(team=team), per_week(team=other_team)) == (D("2.33"), D("1.17"))
    assert per_week() == D("3.50")  # 15 / (30 / 7): the leader's 3 and the planned one aside


def test_the_bank_overview_shows_leaders_own_activities_as_their_own_line(
    client, executive, rm, other_rm, leader
):
    ActivityFactory.create_batch(2, rm=rm, account__owner=rm, date=TODAY)
    ActivityFactory(rm=other_rm, account__owner=other_rm, date=TODAY)
    ActivityFactory.create_batch(3, rm=leader, account__owner=rm, date=TODAY)
    lines, _month, activities = bank_overview(executive)
    assert sum(line.activities_4w for line in lines) == activities.rms == 3
    assert activities.others == 3
    client.force_login(executive)
    assert "Leaders' and others' own activities: 3" in client.get(reverse("org:bank")).text


# --- do the parts add up: not while a part has no target ---------------------------------------


def write(by, plan_year, lines, *, scope="rm", team=None, rm=None):
    ts = target_services.target_set_create(
        plan_year=plan_year, scope=scope, by=by, team=team, rm=rm
    )
    target_services.target_set_save(
        target_set_id=ts.pk,
        by=by,
        lines=[LineInput(metric(code), D(value), weight) for code, value, weight in lines],
    )
    return ts


def test_parts_do_not_add_up_while_a_part_has_no_target(
    client, executive, leader, team, rm, teammate, plan_year
):
    write(leader, plan_year, [("new_relationships", 5, 100)], rm=rm)
    ts = write(leader, plan_year, [("new_relationships", 4, 100)], scope="team", team=team)
    (line,) = roll_up(ts, viewer=executive)
    assert (line.adds_up, line.parts_meet_the_ask, line.missing_parts) == (
        False,
        True,
        [str(teammate)],
    )
    client.force_login(executive)
    assert f"no target from {teammate}" in client.get(ts.get_absolute_url()).text


# --- points, not a percent of a percent ----------------------------------------------------------


def test_a_percent_metric_differs_from_plan_in_points_with_no_relative_percent():
    growth = compare("loan_growth", D("8"), D("1.40"), months=6, elapsed=6)
    assert (growth.planned, growth.difference, growth.percent) == (D("4.00"), D("-2.60"), None)
    count = compare("new_relationships", D("12"), D("3"), months=6, elapsed=6)
    assert (count.difference, count.percent) == (D("-3.00"), D("-50.00"))


def test_the_check_in_shows_a_percent_metrics_difference_in_points(plan_year, rm, closed_june):
    approved(plan_year, {"loan_growth": "8"}, rm=rm)
    loan = ProductFactory(code="TL", family=ProductFamily.LOAN)
    account = AccountFactory(owner=rm)
    PositionFactory(account=account, product=loan, month=BASE, balance=D("1000"))
    PositionFactory(account=account, product=loan, month=JUN, balance=D("1014"))
    pva = rm_plan_versus_actual(rm, plan_year=plan_year)
    plan = {"available": True, "period_label": "Year to date", "plan_year": 2027}
    plan |= pva.as_json()
    html = render_to_string(
        "coaching/checkins/_plan_vs_actual.html",
        {"figures": {"plan": plan}, "live": True, "checkin": None},
    )
    assert "\u22122.60\u00a0pp" in html  # 1.40 % against 4.00 %
    assert "65.00" not in html  # not -65 % of the plan


def test_the_api_says_a_percent_metrics_difference_is_in_points(client, rm, plan_year, closed_june):
    approved(plan_year, {"loan_growth": "8", "new_relationships": "12"}, rm=rm)
    variances_recompute(today=TODAY)
    client.force_login(rm)
    rows = client.get(
        "/api/v1/variances/", {"rm": rm.pk, "period": "ytd", "plan_year": 2027}
    ).json()["results"]
    by_code = {row["metric"]: row for row in rows}
    assert (by_code["loan_growth"]["difference_unit"], by_code["loan_growth"]["percent"]) == (
        "pp",
        None,
    )
    assert by_code["new_relationships"]["difference_unit"] == "count"


def test_the_sign_off_export_gives_the_difference_in_points(client, executive, plan_year, rm):
    loan = ProductFactory(code="TL", family=ProductFamily.LOAN)
    account = AccountFactory(owner=rm)
    PositionFactory(account=account, product=loan, month=BASE, balance=D("1000"))
    PositionFactory(account=account, product=loan, month=JUN, balance=D("1014"))
    approved(plan_year, {"loan_growth": "8"})
    client.force_login(executive)
    response = client.get(reverse("planning:signoff"), {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = (line.split(",") for line in text.strip().splitlines()[:2])
    cells = dict(zip(header, row, strict=True))
    assert (cells["Actual"], cells["Difference"], cells["Difference in"]) == (
        "1.40",
        "-2.60",
        "pp",
    )


# --- steering standards and the growth / retention balance ------------------------------------


def test_forecast_accuracy_and_activities_are_steering_standards(db):
    steering = set(
        Metric.objects.filter(category=Metric.Category.STEERING).values_list("code", flat=True)
    )
    assert steering == {"activities_per_week", "forecast_accuracy"}


def test_the_balance_counts_growth_and_retention_lines_only(client, executive, plan_year):
    bank = approved(plan_year, {})
    for code, weight in (
        ("loan_growth", 25),
        ("deposit_growth", 20),
        ("new_relationships", 15),
        ("tier_a_retention", 20),
        ("retention", 15),
        ("forecast_accuracy", 5),
    ):
        TargetLineFactory(target_set=bank, metric=metric(code), value=D("1"), weight=weight)
    balance = growth_retention_balance(bank.lines.select_related("metric"))
    assert (balance.growth_pct, balance.retention_pct, balance.left_out) == (63, 37, 5)
    client.force_login(executive)
    text = client.get(bank.get_absolute_url()).text
    assert "63&nbsp;% growth / 37&nbsp;% retention" in text
