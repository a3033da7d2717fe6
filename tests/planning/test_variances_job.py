"""The nightly plan-versus-actual job (docs/metrics.md "The nightly job").

A small bank worked out by hand: two teams, three RMs, an account handed over in June,
approved RM, team and bank targets; positions closed to June 2027 (E = 2027-06-01).
"""

import datetime
import hashlib
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AccountStatus, OpportunityKind, OpportunityStatus, ProductFamily
from planning.models import ForecastSnapshot, ProductMixStandard, TargetSet, Variance
from planning.selectors.variances import rm_plan_versus_actual, scope_plan_versus_actual
from planning.services import variances as job
from planning.services.variances import forecasts_snapshot, variances_recompute

from ..factories import (
    AccountFactory,
    ActivityFactory,
    ExecutiveFactory,
    OpportunityFactory,
    OwnershipChangeFactory,
    PlanYearFactory,
    PositionFactory,
    ProductFactory,
    RmFactory,
    TargetLineFactory,
    TargetSetFactory,
    TierFactory,
    metric,
)

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = datetime.date(2027, 7, 5)  # June is the last closed month
BASE = datetime.date(2026, 12, 1)
MONTHS = [datetime.date(2027, m, 1) for m in range(1, 7)]
JAN, FEB, MAR, APR, MAY, JUN = MONTHS


@pytest.fixture
def plan_year():
    return PlanYearFactory(year=2027)


def targets(plan_year, lines, **subject):
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


def loans(account, product, by_month):
    for month, balance in by_month.items():
        PositionFactory(account=account, product=product, month=month, balance=D(balance))


def every_month(balance):
    return {m: balance for m in [BASE, *MONTHS]}


@pytest.fixture
def bank(plan_year, team, other_team, rm, teammate, other_rm):
    """North: rm and teammate; South: other_rm.

    A1 (rm, tier A): loans 1000 to April, 1100 in May, 1200 in June; deposits 500 → 600.
    A2 (teammate, B): loans 2000 → 1800 in June.  A3 (teammate, A): opened 15 March,
    loans 300 in June.  A4 (tier A, loans 1000 throughout): other_rm's until 10 June,
    then rm's.  A5 (other_rm, B): loans 400, lost on 15 February.
    """
    loan = ProductFactory(code="TL", family=ProductFamily.LOAN)
    dda = ProductFactory(code="DDA", family=ProductFamily.DEPOSIT)
    tier_a, tier_b = TierFactory(code="A"), TierFactory(code="B")
    a1 = AccountFactory(owner=rm, tier=tier_a)
    loans(a1, loan, every_month("1000") | {MAY: "1100", JUN: "1200"})
    loans(a1, dda, {BASE: "500", JUN: "600"})
    a2 = AccountFactory(owner=teammate, tier=tier_b)
    loans(a2, loan, every_month("2000") | {JUN: "1800"})
    a3 = AccountFactory(owner=teammate, tier=tier_a, opened_on=datetime.date(2027, 3, 15))
    loans(a3, loan, {JUN: "300"})
    a4 = AccountFactory(owner=rm, tier=tier_a)
    loans(a4, loan, every_month("1000"))
    OwnershipChangeFactory(
        account=a4,
        previous_owner=other_rm,
        new_owner=rm,
        changed_at=timezone.make_aware(datetime.datetime(2027, 6, 10, 12)),
    )
    a5 = AccountFactory(
        owner=other_rm,
        tier=tier_b,
        status=AccountStatus.LOST,
        closed_on=datetime.date(2027, 2, 15),
        lost_reason="Price",
    )
    loans(a5, loan, {BASE: "400", JAN: "400"})
    AccountFactory(owner=rm, opened_on=None, status=AccountStatus.PROSPECT)
    for day in range(1, 11):
        ActivityFactory(account=a1, rm=rm, date=datetime.date(2027, 5, day))
    for day in range(1, 6):
        ActivityFactory(account=a2, rm=teammate, date=datetime.date(2027, 6, day))
    for day in range(1, 4):
        ActivityFactory(account=a5, rm=other_rm, date=datetime.date(2027, 6, day))
    ProductMixStandard.objects.create(
        plan_year=plan_year, family=ProductFamily.LOAN, target_share_pct=D("60")
    )
    ProductMixStandard.objects.create(
        plan_year=plan_year, family=ProductFamily.DEPOSIT, target_share_pct=D("40")
    )
    for who, product, amount, kind, closed in (
        (rm, loan, "300", OpportunityKind.NEW_BUSINESS, datetime.date(2027, 5, 10)),
        (other_rm, dda, "100", OpportunityKind.CROSS_SELL, datetime.date(2027, 6, 3)),
        (rm, loan, "5000", OpportunityKind.RENEWAL, datetime.date(2027, 6, 3)),
    ):
        OpportunityFactory(
            account=a1,
            rm=who,
            product=product,
            amount=D(amount),
            kind=kind,
            status=OpportunityStatus.WON,
            closed_on=closed,
        )
    targets(plan_year, {"loan_growth": "8", "product_mix_share": "80"}, rm=rm)
    targets(plan_year, {"loan_growth": "6", "new_relationships": "4"}, team=team)
    targets(plan_year, {"loan_growth": "8", "retention": "90", "activities_per_week": "5"})
    return {"a1": a1, "a4": a4, "loan": loan}


def row(code, period="ytd", start=JAN, **subject):
    scope = "rm" if "rm" in subject else "team" if "team" in subject else "bank"
    return Variance.objects.get(
        scope=scope, metric__code=code, period=period, period_start=start, **subject
    )


def figures(variance):
    return (variance.planned, variance.actual, variance.difference, variance.percent)


def checksum() -> str:
    """The stored rows, everything but their pk and computed_at."""
    fields = [f.attname for f in Variance._meta.concrete_fields]
    fields = [f for f in fields if f not in ("id", "computed_at")]
    rows = Variance.objects.order_by(*fields).values_list(*fields)
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


# --- the figures, to the cent ------------------------------------------------------------------


def test_an_rms_year_to_date_counts_the_account_handed_to_them_with_its_history(bank, rm):
    variances_recompute(today=TODAY)
    # A1 + A4: (1200 + 1000 - 1000 - 1000) / 2000; planned 8 x 6/12
    assert figures(row("loan_growth", rm=rm)) == (D("4.00"), D("10.00"), D("6.00"), None)  # +6 pp


def test_an_rms_month_divides_by_the_years_base(bank, rm):
    variances_recompute(today=TODAY)
    june = row("loan_growth", "month", JUN, rm=rm)
    # (2200 - 2100) / 2000 = 5 %; planned 8/12 = 0.67; +4.33 pp, no percent of a percent
    assert figures(june) == (D("0.67"), D("5.00"), D("4.33"), None)


def test_the_giver_keeps_the_handed_account_until_the_month_of_the_change(bank, other_rm):
    variances_recompute(today=TODAY)
    may = row("loan_growth", "month", MAY, rm=other_rm)
    assert may.actual == D("0.00")  # A4 and A5 at the end of May: (1000 - 1000) / 1400
    assert may.planned is None  # other_rm has no approved targets
    ytd = row("loan_growth", rm=other_rm)
    assert (ytd.actual, ytd.note) == (D("-100.00"), "")  # A5 alone: 400 → 0


def test_a_teams_growth_is_the_formula_on_its_rms_accounts(bank, team):
    variances_recompute(today=TODAY)
    # A1, A4, A2, A3: (1200 + 1000 + 1800 + 300 - 4000) / 4000; planned 6 x 6/12
    assert figures(row("loan_growth", team=team)) == (
        D("3.00"),
        D("7.50"),
        D("4.50"),
        None,  # +4.50 pp
    )
    assert figures(row("new_relationships", team=team)) == (
        D("2.00"),
        D("1"),
        D("-1.00"),
        D("-50.00"),
    )


def test_the_bank_counts_every_account_and_everyones_work(bank):
    variances_recompute(today=TODAY)
    # 4300 against a base of 4400
    assert figures(row("loan_growth")) == (D("4.00"), D("-2.27"), D("-6.27"), None)
    # A1, A2, A4 kept of A1, A2, A4, A5; planned 100 - 10 x 6/12
    assert figures(row("retention")) == (D("95.00"), D("75.00"), D("-20.00"), None)
    june = row("activities_per_week", "month", JUN)
    assert figures(june) == (D("5.00"), D("1.87"), D("-3.13"), D("-62.60"))  # 8 / (30/7)
    # loan 300 (75 %, standard 60) and deposit 100 (25 %, standard 40): 60 + 25
    assert row("product_mix_share").actual == D("85.00")


def test_an_rms_product_mix_counts_their_own_new_business(bank, rm):
    variances_recompute(today=TODAY)
    assert figures(row("product_mix_share", rm=rm)) == (
        D("80.00"),
        D("60.00"),
        D("-20.00"),
        None,  # -20 pp
    )


def test_every_scope_metric_and_period_to_the_closed_month_has_a_row(bank, plan_year):
    written = variances_recompute(today=TODAY)
    # rm, teammate, other_rm; North, South; the bank = 6 scopes x 12 metrics (the nine and
    # the three relationship metrics, migration 0006) x (6 months + 2 quarters + the year)
    assert written == Variance.objects.count() == 6 * 12 * 9
    assert set(Variance.objects.values_list("as_of", flat=True)) == {JUN}
    quarter = row("loan_growth", "quarter", APR)
    assert quarter.period_end == datetime.date(2027, 6, 30)


def test_a_figure_without_a_base_is_null_and_says_why(bank, other_rm):
    variances_recompute(today=TODAY)
    growth = row("deposit_growth", rm=other_rm)
    assert (growth.actual, growth.note) == (None, "no deposits at the start of the year")


# --- stored equals live ---------------------------------------------------------------------


def all_periods():
    for month in MONTHS:
        yield "month", month
    yield "quarter", MAR
    yield "quarter", JUN
    yield "ytd", JUN


def every_metric(plan_year, rm):
    """A proposed (not approved) set holding every metric, so the RM's lines cover the
    catalogue, or the approved set when the RM has one."""
    if not TargetSet.objects.filter(rm=rm, status="approved").exists():
        leader = rm.team.leader
        target_set = TargetSetFactory(
            plan_year=plan_year,
            scope="rm",
            team=None,
            rm=rm,
            created_by=leader,
            last_edited_by=leader,
            status=TargetSet.Status.PROPOSED,
            proposed_by=leader,
        )
        from planning.models import Metric

        for m in Metric.objects.all():
            TargetLineFactory(target_set=target_set, metric=m)


def comparable(pva):
    data = pva.as_json()
    data.pop("source")
    data.pop("computed_at")
    return data


def test_the_stored_rows_equal_the_live_figures_for_every_rm_and_period(
    bank, plan_year, rm, teammate, other_rm
):
    for person in (rm, teammate, other_rm):
        every_metric(plan_year, person)
    ForecastSnapshot.objects.create(
        rm=rm, month=JUN, amount=D("250"), taken_at=timezone.now()
    )  # forecast accuracy: |5000 - 250| > 250, so 0 %
    live = {
        (p.pk, kind, month): rm_plan_versus_actual(p, plan_year=plan_year, period=kind, month=month)
        for p in (rm, teammate, other_rm)
        for kind, month in all_periods()
    }
    assert {pva.source for pva in live.values()} == {"live"}
    variances_recompute(today=TODAY)
    for (pk, kind, month), expected in live.items():
        person = {rm.pk: rm, teammate.pk: teammate, other_rm.pk: other_rm}[pk]
        stored = rm_plan_versus_actual(person, plan_year=plan_year, period=kind, month=month)
        assert stored.source == "stored"
        got, want = comparable(stored), comparable(expected)
        diff = [(g, w) for g, w in zip(got["lines"], want["lines"], strict=True) if g != w]
        assert got == want, repr((person, kind, month, diff))


# --- idempotent and safe ------------------------------------------------------------------------


def test_running_the_job_twice_gives_the_same_rows(bank):
    variances_recompute(today=TODAY)
    first = checksum()
    variances_recompute(today=TODAY)
    assert checksum() == first


def test_a_run_killed_half_way_leaves_the_previous_rows_and_a_rerun_completes(
    bank, rm, monkeypatch
):
    variances_recompute(today=TODAY)
    before = checksum()
    ActivityFactory(account=bank["a1"], rm=rm, date=datetime.date(2027, 6, 20))  # changes rows
    insert = job._insert

    def dies_half_way(rows):
        insert(rows[: len(rows) // 2])
        raise RuntimeError("worker killed")

    monkeypatch.setattr(job, "_insert", dies_half_way)
    with pytest.raises(RuntimeError):
        variances_recompute(today=TODAY)
    assert checksum() == before
    monkeypatch.setattr(job, "_insert", insert)
    variances_recompute(today=TODAY)
    after = checksum()
    assert after != before
    variances_recompute(today=TODAY)  # a clean run on the same data
    assert checksum() == after


def test_no_closed_month_writes_nothing(plan_year, rm):
    PositionFactory(month=BASE)
    assert variances_recompute(today=TODAY) == 0
    assert not Variance.objects.exists()


def test_no_plan_year_writes_nothing(rm):
    assert variances_recompute(today=TODAY) == 0


# --- set-based: the same queries for 3 and 30 RMs -------------------------------------------------


def grow_bank(team, other_rm, size):
    loan = ProductFactory(code="TL", family=ProductFamily.LOAN)
    for i in range(size):
        person = RmFactory(team=team)
        for _ in range(2):
            account = AccountFactory(owner=person, tier=TierFactory(code="A"))
            loans(account, loan, {BASE: "1000", MAY: str(1000 + i), JUN: "1100"})
            ActivityFactory(account=account, rm=person, date=datetime.date(2027, 6, 2))
            OpportunityFactory(
                account=account,
                rm=person,
                product=loan,
                status=OpportunityStatus.WON,
                closed_on=datetime.date(2027, 6, 3),
            )
        OwnershipChangeFactory(
            account=account,
            previous_owner=other_rm,
            new_owner=person,
            changed_at=timezone.make_aware(datetime.datetime(2027, 4, 1)),
        )
        targets(team.target_sets.first().plan_year, {"loan_growth": "8"}, rm=person)
        ForecastSnapshot.objects.create(
            rm=person, month=JUN, amount=D("100"), taken_at=timezone.now()
        )


# 19, + 4 for the relationship metrics (accounts with their balance at B, revenue by
# account and month, customer ratings, the minimum of raters).
RECOMPUTE_QUERIES = 23


@pytest.mark.parametrize("size", [3, 30])
def test_the_recompute_runs_the_same_queries_for_3_and_30_rms(
    plan_year, team, other_rm, size, django_assert_num_queries
):
    targets(plan_year, {"loan_growth": "6"}, team=team)
    grow_bank(team, other_rm, size)
    with django_assert_num_queries(RECOMPUTE_QUERIES):
        written = variances_recompute(today=TODAY)
    # the RMs, other_rm; North and South; the bank
    assert written == (size + 1 + 2 + 1) * 12 * 9


def test_the_query_count_does_not_depend_on_the_number_of_rows(plan_year, team, other_rm):
    targets(plan_year, {"loan_growth": "6"}, team=team)
    grow_bank(team, other_rm, 2)
    with CaptureQueriesContext(connection) as small:
        variances_recompute(today=TODAY)
    grow_bank(team, other_rm, 12)
    with CaptureQueriesContext(connection) as large:
        variances_recompute(today=TODAY)
    assert len(small.captured_queries) == len(large.captured_queries)


# --- forecast snapshots ---------------------------------------------------------------------------


@pytest.fixture
def pipeline(rm):
    """At the start of June: 1000 at 50 % and 400 at 25 % expected in June, 800 in July."""
    account = AccountFactory(owner=rm)
    june = datetime.date(2027, 6, 20)
    for amount, probability, expected in (("1000", 50, june), ("400", 25, june)):
        OpportunityFactory(
            account=account, amount=D(amount), probability=probability, expected_close=expected
        )
    OpportunityFactory(account=account, amount=D("800"), expected_close=datetime.date(2027, 7, 2))
    OpportunityFactory(  # created in June: not open at its start
        account=account, amount=D("900"), expected_close=june, created_on=datetime.date(2027, 6, 2)
    )
    return account


def test_the_forecast_is_frozen_once_per_month(rm, pipeline):
    assert forecasts_snapshot(today=datetime.date(2027, 6, 1)) == 1
    snapshot = ForecastSnapshot.objects.get(rm=rm, month=JUN)
    assert snapshot.amount == D("600.00")  # 1000 x 50 % + 400 x 25 %
    pipeline.opportunities.update(probability=100)
    assert forecasts_snapshot(today=datetime.date(2027, 6, 15)) == 0
    snapshot.refresh_from_db()
    assert snapshot.amount == D("600.00")
    assert ForecastSnapshot.objects.count() == 1


def test_an_opportunity_won_before_the_snapshot_still_counts_as_forecast(rm, pipeline):
    pipeline.opportunities.filter(amount=D("1000")).update(
        status=OpportunityStatus.WON, closed_on=datetime.date(2027, 6, 1), probability=100
    )
    forecasts_snapshot(today=datetime.date(2027, 6, 2))
    # open at the month's start, so forecast: at its probability when the snapshot is taken
    assert ForecastSnapshot.objects.get(rm=rm, month=JUN).amount == D("1100.00")


def test_forecast_accuracy_uses_the_frozen_forecast(plan_year, rm, pipeline):
    forecasts_snapshot(today=datetime.date(2027, 6, 1))
    pipeline.opportunities.filter(amount=D("1000")).update(
        status=OpportunityStatus.WON, closed_on=datetime.date(2027, 6, 25), probability=100
    )
    PositionFactory(month=JUN)
    variances_recompute(today=TODAY)
    june = row("forecast_accuracy", "month", JUN, rm=rm)
    assert june.actual == D("33.33")  # 100 x (1 - |1000 - 600| / 600)
    may = row("forecast_accuracy", "month", MAY, rm=rm)
    assert (may.actual, may.note) == (None, "no frozen forecast yet")


# --- the selector: stored when present, live otherwise --------------------------------------


def test_the_selector_reads_live_before_the_job_has_run(bank, plan_year, rm):
    result = rm_plan_versus_actual(rm, plan_year=plan_year)
    assert (result.source, result.computed_at) == ("live", None)


def test_the_selector_reads_the_stored_rows_once_the_job_has_run(bank, plan_year, rm):
    variances_recompute(today=TODAY)
    Variance.objects.filter(rm=rm, metric__code="loan_growth", period="ytd").update(
        actual=D("99.99")
    )
    result = rm_plan_versus_actual(rm, plan_year=plan_year)
    assert result.source == "stored"
    assert result.computed_at == Variance.objects.first().computed_at
    assert next(li for li in result.lines if li.metric.code == "loan_growth").actual == D("99.99")


def test_a_year_to_date_ending_before_the_closed_month_is_computed_live(bank, plan_year, rm):
    variances_recompute(today=TODAY)
    result = rm_plan_versus_actual(rm, plan_year=plan_year, period="ytd", month=MAR)
    assert result.source == "live"
    assert result.period_end == datetime.date(2027, 3, 31)


def test_a_month_closed_since_the_last_run_is_computed_live(bank, plan_year, rm):
    variances_recompute(today=TODAY)
    PositionFactory(month=datetime.date(2027, 7, 1))
    assert rm_plan_versus_actual(rm, plan_year=plan_year).source == "live"


def test_the_stored_path_reads_four_queries(bank, plan_year, rm, django_assert_num_queries):
    variances_recompute(today=TODAY)
    with django_assert_num_queries(4):
        rm_plan_versus_actual(rm, plan_year=plan_year, period="quarter")


def test_a_teams_and_the_banks_figures_are_read_from_the_stored_rows(bank, plan_year, team):
    assert scope_plan_versus_actual(plan_year=plan_year, team=team).lines == []
    variances_recompute(today=TODAY)
    north = scope_plan_versus_actual(plan_year=plan_year, team=team)
    assert (north.as_of, north.source) == (JUN, "stored")
    assert len(north.lines) == 12
    assert north.line("loan_growth").actual == D("7.50")
    assert north.line("loan_growth").on_course is True
    whole = scope_plan_versus_actual(plan_year=plan_year, period="month", month=JUN)
    assert whole.line("activities_per_week").actual == D("1.87")


def test_the_sign_off_shows_the_banks_stored_year_to_date(bank, plan_year, executive):
    from planning.selectors.signoff import bank_against_targets

    _set, before = bank_against_targets(executive, plan_year)
    assert {line.source for line in before} == {"live"}
    variances_recompute(today=TODAY)
    _set, lines = bank_against_targets(executive, plan_year)
    growth = next(line for line in lines if line.metric_name == metric("loan_growth").name)
    assert (growth.actual, growth.planned, growth.source, growth.as_of) == (
        D("-2.27"),
        D("4.00"),
        "stored",
        JUN,
    )
    retention = next(line for line in lines if line.metric_name == metric("retention").name)
    assert retention.actual == D("75.00")


def plan_section(pva, *, live=True):
    from django.template.loader import render_to_string

    from coaching.selectors.checkins import _json_ready

    plan = {"available": True, "period_label": "Year to date", **_json_ready(pva.as_json())}
    plan["plan_year"] = 2027
    return render_to_string(
        "coaching/checkins/_plan_vs_actual.html",
        {"figures": {"plan": plan, "computed_at": None}, "live": live, "checkin": None},
    )


def test_the_check_in_screen_names_stored_figures_and_when_they_were_computed(bank, plan_year, rm):
    assert "live figures" in plan_section(rm_plan_versus_actual(rm, plan_year=plan_year))
    variances_recompute(today=TODAY)
    stored = rm_plan_versus_actual(rm, plan_year=plan_year)
    html = plan_section(stored)
    when = timezone.localtime(stored.computed_at)
    assert f"nightly figures of {when:%-d %b %Y, %H:%M}" in html
    assert "as of June 2027 month-end" in html
    assert "live figures" not in html


def test_a_tiny_fall_rounds_to_zero_without_a_sign_stored_and_live(plan_year, rm):
    loan = ProductFactory(code="TL", family=ProductFamily.LOAN)
    account = AccountFactory(owner=rm)
    loans(account, loan, {BASE: "1000000", JAN: "1000000", FEB: "999999"})
    targets(plan_year, {"loan_growth": "8"}, rm=rm)
    live = rm_plan_versus_actual(rm, plan_year=plan_year, period="month", month=FEB)
    assert str(live.lines[0].actual) == "0.00"  # -0.0001 %, not "-0.00"
    variances_recompute(today=TODAY)
    stored = rm_plan_versus_actual(rm, plan_year=plan_year, period="month", month=FEB)
    assert stored.source == "stored"
    assert comparable(stored) == comparable(live)
