"""The relationship metric the bank chose (SteeringStandard.relationship_metric) drives one
line on every RM's scorecard: My week, the report card and compensation
(planning.selectors.relationship, docs/metrics.md "The relationship metric").

A small book worked by hand; the year is 2027, the closed month E is June 2027:

    a1  in the base, active   balance at B 1,000 (loan 600, DDA 400)   revenue 10 a month in
                              Jan-Jun 2026, 12 a month in Jan-Jun 2027
    a2  in the base, lost on 15 March 2027   balance at B 3,000 (loan)   revenue 5 a month
                              in Jan-Jun 2026 and in Jan-Feb 2027
    a3  opened 1 Feb 2027 (not in the base)  revenue 2 a month Feb-Jun 2027

    retention (accounts)       1 of 2 kept                   = 50.00 %
    balance-weighted retention 1,000 of 4,000 kept           = 25.00 %
    revenue growth YTD         (72 + 10 + 10) vs (60 + 30)   = 100 x 2 / 90 = 2.22 %
    products per relationship  a1 holds 2 products, a3 1, 2 active = 1.50
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AccountStatus, ProductFamily
from planning.models import SteeringStandard, TargetSet
from planning.selectors.relationship import relationship_metric_line
from planning.selectors.variances import rm_plan_versus_actual, scope_plan_versus_actual
from planning.services.variances import variances_recompute

from ..factories import (
    AccountFactory,
    BehaviourFactory,
    BehaviourSetFactory,
    ExecutiveFactory,
    PlanYearFactory,
    PositionFactory,
    ProductFactory,
    TargetLineFactory,
    TargetSetFactory,
    metric,
)

pytestmark = pytest.mark.django_db

D = Decimal
BASE = datetime.date(2026, 12, 1)
JUN = datetime.date(2027, 6, 1)
TODAY = datetime.date(2027, 7, 10)


def months(year, first, last):
    return [datetime.date(year, m, 1) for m in range(first, last + 1)]


@pytest.fixture
def plan_year():
    return PlanYearFactory(year=2027)


def choose(plan_year, choice):
    SteeringStandard.objects.update_or_create(
        plan_year=plan_year,
        defaults={"forecast_accuracy_pct": D("85"), "relationship_metric": choice},
    )


@pytest.fixture
def book(rm, plan_year):
    loan = ProductFactory(code="TL", family=ProductFamily.LOAN)
    dda = ProductFactory(code="DDA", family=ProductFamily.DEPOSIT)
    a1 = AccountFactory(owner=rm)
    a2 = AccountFactory(
        owner=rm,
        status=AccountStatus.LOST,
        closed_on=datetime.date(2027, 3, 15),
        lost_reason="Price",
    )
    a3 = AccountFactory(owner=rm, opened_on=datetime.date(2027, 2, 1))
    PositionFactory(account=a1, product=loan, month=BASE, balance=D("600"), revenue=0)
    PositionFactory(account=a1, product=dda, month=BASE, balance=D("400"), revenue=0)
    PositionFactory(account=a2, product=loan, month=BASE, balance=D("3000"), revenue=0)
    for m in months(2026, 1, 6):
        PositionFactory(account=a1, product=loan, month=m, balance=D("600"), revenue=D("10"))
        PositionFactory(account=a2, product=loan, month=m, balance=D("3000"), revenue=D("5"))
    for m in months(2027, 1, 6):
        PositionFactory(account=a1, product=loan, month=m, balance=D("600"), revenue=D("12"))
        PositionFactory(account=a1, product=dda, month=m, balance=D("400"), revenue=0)
    for m in months(2027, 1, 2):
        PositionFactory(account=a2, product=loan, month=m, balance=D("3000"), revenue=D("5"))
    for m in months(2027, 2, 6):
        PositionFactory(account=a3, product=dda, month=m, balance=D("50"), revenue=D("2"))
    return {"a1": a1, "a2": a2, "a3": a3}


def approved(rm, plan_year, lines):
    leader = rm.team.leader
    ts = TargetSetFactory(
        plan_year=plan_year,
        scope="rm",
        team=None,
        rm=rm,
        created_by=leader,
        last_edited_by=leader,
        proposed_by=leader,
        status=TargetSet.Status.APPROVED,
        decided_by=ExecutiveFactory(username="exec_decides"),
    )
    for code, (value, weight) in lines.items():
        TargetLineFactory(target_set=ts, metric=metric(code), value=D(value), weight=weight)
    return ts


def actual(rm, plan_year, code, period="ytd"):
    pva = rm_plan_versus_actual(rm, plan_year=plan_year, period=period, also=metric(code))
    (line,) = [line for line in pva.lines if line.metric.code == code]
    return line.actual, line.note, pva.source


# --- the figures, by hand ---------------------------------------------------------------------


def test_balance_weighted_retention_is_the_share_of_the_start_balances_kept(rm, plan_year, book):
    assert actual(rm, plan_year, "balance_retention")[0] == D("25.00")  # 1,000 of 4,000
    assert actual(rm, plan_year, "retention")[0] == D("50.00")  # 1 account of 2


def test_revenue_growth_compares_the_year_to_date_with_the_same_months_last_year(
    rm, plan_year, book
):
    assert actual(rm, plan_year, "revenue_growth")[0] == D("2.22")  # 92 against 90
    # June alone: 12 + 2 against 10 + 5: 100 x -1 / 15 = -6.67 %
    assert actual(rm, plan_year, "revenue_growth", "month")[0] == D("-6.67")


def test_revenue_growth_without_revenue_last_year_has_no_figure(rm, plan_year):
    a = AccountFactory(owner=rm)
    PositionFactory(account=a, month=JUN, revenue=D("5"))
    value, note, _ = actual(rm, plan_year, "revenue_growth")
    assert (value, note) == (None, "no revenue in the same months last year")


def rate(rm, behaviours, ratings):
    """`ratings`: one list of scores per customer (an account of the RM's), March 2027."""
    for scores in ratings:
        account = AccountFactory(owner=rm)
        for behaviour, score in zip(behaviours, scores, strict=False):
            from coaching.models import CustomerRating

            CustomerRating.objects.create(
                account=account,
                rm=rm,
                behaviour=behaviour,
                month=datetime.date(2027, 3, 1),
                rating=score,
            )


@pytest.fixture
def behaviours(plan_year):
    bs = BehaviourSetFactory(plan_year=plan_year)  # min_ratings_for_ranking 5
    return [BehaviourFactory(behaviour_set=bs), BehaviourFactory(behaviour_set=bs)]


def test_the_average_customer_rating_is_the_mean_of_the_answers_of_enough_customers(
    rm, plan_year, behaviours
):
    PositionFactory(month=JUN)  # E = June
    # five customers; the first answered both behaviours: (5 + 2 + 4 + 4 + 3 + 5) / 6 = 3.83
    rate(rm, behaviours, [[5, 2], [4], [4], [3], [5]])
    assert actual(rm, plan_year, "customer_rating")[0] == D("3.83")


def test_four_customers_are_not_enough_for_an_average_rating(rm, plan_year, behaviours):
    PositionFactory(month=JUN)
    # eight answers, but four customers: the rule counts customers, not answers
    rate(rm, behaviours, [[5, 5], [5, 5], [5, 5], [5, 5]])
    value, note, _ = actual(rm, plan_year, "customer_rating")
    assert (value, note) == (None, "not enough ratings (4 of 5 customers)")


# --- one definition: stored = live ---------------------------------------------------------


CODES = ("balance_retention", "revenue_growth", "customer_rating")


@pytest.mark.parametrize("period", ["month", "quarter", "ytd"])
def test_the_job_stores_what_the_live_path_computes(rm, team, plan_year, book, behaviours, period):
    rate(rm, behaviours, [[5, 2], [4], [4], [3], [5]])
    live = {code: actual(rm, plan_year, code, period) for code in CODES}
    assert {source for _a, _n, source in live.values()} == {"live"}
    variances_recompute(today=TODAY)
    stored = {code: actual(rm, plan_year, code, period) for code in CODES}
    assert {source for _a, _n, source in stored.values()} == {"stored"}
    assert {c: v[:2] for c, v in stored.items()} == {c: v[:2] for c, v in live.items()}
    # The RM is the whole of North and of the bank here: the same figures for both scopes.
    north = scope_plan_versus_actual(plan_year=plan_year, team=team, period=period)
    bank = scope_plan_versus_actual(plan_year=plan_year, period=period)
    for code in CODES:
        assert north.line(code).actual == bank.line(code).actual == live[code][0]


def test_the_stored_ytd_figures_are_the_ones_worked_by_hand(rm, plan_year, book, behaviours):
    rate(rm, behaviours, [[5, 2], [4], [4], [3], [5]])
    variances_recompute(today=TODAY)
    assert actual(rm, plan_year, "balance_retention")[:1] == (D("25.00"),)
    assert actual(rm, plan_year, "revenue_growth")[:1] == (D("2.22"),)
    assert actual(rm, plan_year, "customer_rating")[:1] == (D("3.83"),)


# --- the line follows the bank's choice ------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "code", "figure"),
    [
        ("retention", "balance_retention", D("25.00")),
        ("revenue", "revenue_growth", D("2.22")),
        ("products_per_relationship", "cross_sell_ratio", D("1.50")),
    ],
)
def test_the_line_is_the_metric_behind_the_banks_choice(rm, plan_year, book, choice, code, figure):
    choose(plan_year, choice)
    line = relationship_metric_line(rm, plan_year)
    assert (line.metric.code, line.actual, line.weight, line.planned) == (code, figure, None, None)


def test_no_choice_no_line(rm, plan_year, book):
    assert relationship_metric_line(rm, plan_year) is None


def test_a_relationship_metric_that_is_a_target_line_carries_its_plan(rm, plan_year, book):
    choose(plan_year, "retention")
    approved(rm, plan_year, {"loan_growth": ("8", 70), "balance_retention": ("90", 30)})
    line = relationship_metric_line(rm, plan_year)
    # stock: planned at June 100 - (100 - 90) x 6 / 12 = 95.00; 25.00 is 70 pp short
    assert (line.weight, line.planned, line.actual, line.difference) == (
        30,
        D("95.00"),
        D("25.00"),
        D("-70.00"),
    )
    assert line.on_course is False


# --- the three screens show the same figure ----------------------------------------------------


def pages(client, rm, executive):
    client.force_login(rm)
    week = client.get(reverse("accounts:my_week")).content.decode()
    card = client.get(reverse("coaching:report_card") + "?year=2027").content.decode()
    client.force_login(executive)
    pay = client.get(reverse("coaching:compensation") + "?year=2027").content.decode()
    return week, card, pay


def test_my_week_the_report_card_and_compensation_show_the_chosen_metric(
    client, rm, executive, plan_year, book, behaviours
):
    choose(plan_year, "retention")
    week, card, pay = pages(client, rm, executive)
    for html in (week, card, pay):
        assert "Balance-weighted retention %" in html
        assert "25.00" in html
    assert 'id="relationship-metric"' in week
    assert 'id="relationship-metric"' in card
    assert "for information" in pay


def test_changing_the_choice_changes_what_the_screens_show(
    client, rm, executive, plan_year, book, behaviours
):
    choose(plan_year, "revenue")
    week, card, pay = pages(client, rm, executive)
    for html in (week, card, pay):
        assert "Revenue growth %" in html
        assert "2.22" in html
        assert "Balance-weighted retention %" not in html


def test_the_relationship_line_pays_nothing_unless_it_is_a_target(
    client, rm, executive, plan_year, book, behaviours
):
    from coaching.selectors.report_card import compensation

    choose(plan_year, "retention")
    approved(rm, plan_year, {"loan_growth": ("8", 100)})
    (row,) = compensation(executive, plan_year).rows
    assert row.relationship.actual == D("25.00")
    assert [p.metric.code for p in row.product_lines] == ["loan_growth"]


# --- query counts: the line costs the same whatever the size of the book -----------------------


def grow_book(rm, n):
    for _ in range(n):
        a = AccountFactory(owner=rm)
        PositionFactory(account=a, month=BASE, balance=D("100"), revenue=D("1"))
        PositionFactory(account=a, month=JUN, balance=D("100"), revenue=D("1"))


def count(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


# Measured with "retention" chosen, live (before the job) and stored (after it); before this
# line the pages cost 11 (My week), 12 (RM report card) and 10 + 6 per RM (compensation).
MY_WEEK = {"live": 17, "stored": 15}
REPORT_CARD = {"live": 18, "stored": 16}
COMPENSATION = {"live": 16, "stored": 14}  # one RM


@pytest.mark.parametrize("source", ["live", "stored"])
def test_the_pages_cost_the_same_queries_for_a_small_and_a_large_book(
    client, rm, executive, plan_year, book, behaviours, source
):
    choose(plan_year, "retention")
    counts = []
    for n in (3, 40):
        grow_book(rm, n)
        if source == "stored":
            variances_recompute(today=TODAY)
        client.force_login(rm)
        week = count(client, reverse("accounts:my_week"))
        card = count(client, reverse("coaching:report_card") + "?year=2027")
        client.force_login(executive)
        pay = count(client, reverse("coaching:compensation") + "?year=2027")
        counts.append((week, card, pay))
    assert counts[0] == counts[1] == (MY_WEEK[source], REPORT_CARD[source], COMPENSATION[source])
