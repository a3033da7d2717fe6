"""A small bank built by hand, and every retention, attrition, growth, activities and
RB-score figure of it, stored by the nightly job and shown on the Retention page, the
sign-off, the overviews, the report card and compensation, against numbers worked out
here (docs/metrics.md, "One definition per figure").

Plan year 2027; positions closed to June (E = June, L = 30 June 2027); today 5 July 2027.

    North (leader Nora): Ann, Bob          South (leader Sam): Cat, Dan (left 30 April)

    acct  owner          tier at 1 Jan  loans 31 Dec -> 30 Jun   what happens
    N1    Ann            A              1000 -> 1100
    N2    Ann            A              2000 -> 0                tier C from 15 April, lost 10 June
    N3    Ann            B               500 -> 600
    N4    Bob            B               800 -> 700
    N5    Bob            A              1000 -> 0                handed to Ann 20 June, lost 25 June
    N6    Bob            C                 - -> 300              opened 1 January (in no base)
    S1    Cat            A              1500 -> 1600             covered by Ann
    S2    Cat            B               700 -> 700
    S3    Dan            A              1200 -> 1200             handed to Cat 2 May (Dan left)
    S4    Dan            B               400 -> 0                lost 15 March
    S5    Cat            C               300 -> 350
    S6    Cat            B               600 -> 600              lost 2 July (after E)

Done activities in June (from the 8th, so also in the overviews' four weeks): Ann 8, Bob 4,
Cat 6, leader Nora 5; one planned by Ann (counts nowhere).
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountStatus, ActivityStatus, ProductFamily
from coaching.models import CustomerRating
from coaching.selectors import report_card as rc
from org.models import Role
from planning.models import TargetSet, Variance
from planning.services.variances import variances_recompute

from .factories import (
    AccountFactory,
    ActivityFactory,
    BehaviourFactory,
    BehaviourSetFactory,
    ExecutiveFactory,
    OwnershipChangeFactory,
    PlanYearFactory,
    PositionFactory,
    ProductFactory,
    RmFactory,
    TargetLineFactory,
    TargetSetFactory,
    TeamFactory,
    TierFactory,
    UserFactory,
    metric,
)

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = datetime.date(2027, 7, 5)
BASE, JUN = datetime.date(2026, 12, 1), datetime.date(2027, 6, 1)
JAN = datetime.date(2027, 1, 1)
MINUS = "\u2212"


def pct(part, whole) -> Decimal:
    """100 x part / whole, half up to 2 decimals: the arithmetic of this page, by hand."""
    return (D(100) * D(part) / D(whole)).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def per_week(count, days) -> Decimal:
    return (D(count) * 7 / D(days)).quantize(D("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: TODAY)


def saved_on(account, when):
    account.save()
    latest = account.history.order_by("-history_id").first()
    account.history.filter(history_id=latest.history_id).update(
        history_date=timezone.make_aware(when)
    )


def lose(account, day):
    account.status, account.closed_on, account.lost_reason = AccountStatus.LOST, day, "Price"
    saved_on(account, datetime.datetime.combine(day, datetime.time(12)))


def hand(account, giver, receiver, day):
    OwnershipChangeFactory(
        account=account,
        previous_owner=giver,
        new_owner=receiver,
        changed_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(12))),
    )


@pytest.fixture
def bank():
    plan_year = PlanYearFactory(year=2027)
    nora = UserFactory(username="nora", role=Role.LEADER)
    sam = UserFactory(username="sam", role=Role.LEADER)
    north = TeamFactory(name="North", leader=nora)
    south = TeamFactory(name="South", leader=sam)
    ann = RmFactory(username="ann", team=north)
    bob = RmFactory(username="bob", team=north)
    cat = RmFactory(username="cat", team=south)
    dan = RmFactory(username="dan", team=south, departed_on=datetime.date(2027, 4, 30))
    a, b, c = (TierFactory(code=code) for code in "ABC")
    loan = ProductFactory(code="TL", family=ProductFamily.LOAN)

    def account(name, owner, tier, base=None, june=None, **extra):
        acc = AccountFactory(name=name, owner=owner, tier=tier, **extra)
        for month, balance in ((BASE, base), (JUN, june)):
            if balance is not None:
                PositionFactory(account=acc, product=loan, month=month, balance=D(balance))
        return acc

    n1 = account("N1", ann, a, 1000, 1100)
    n2 = account("N2", ann, a, 2000)
    n2.tier = c
    saved_on(n2, datetime.datetime(2027, 4, 15, 12))
    lose(n2, datetime.date(2027, 6, 10))
    account("N3", ann, b, 500, 600)
    account("N4", bob, b, 800, 700)
    n5 = account("N5", ann, a, 1000)  # Bob's until 20 June
    hand(n5, bob, ann, datetime.date(2027, 6, 20))
    lose(n5, datetime.date(2027, 6, 25))
    account("N6", bob, c, None, 300, opened_on=JAN)
    account("S1", cat, a, 1500, 1600, covering_rm=ann)
    account("S2", cat, b, 700, 700)
    s3 = account("S3", cat, a, 1200, 1200)  # Dan's until 2 May
    hand(s3, dan, cat, datetime.date(2027, 5, 2))
    lose(account("S4", dan, b, 400), datetime.date(2027, 3, 15))
    account("S5", cat, c, 300, 350)
    lose(account("S6", cat, b, 600, 600), datetime.date(2027, 7, 2))

    for who, n in ((ann, 8), (bob, 4), (cat, 6), (nora, 5)):
        for i in range(n):
            ActivityFactory(rm=who, account=n1, date=datetime.date(2027, 6, 8 + i))
    ActivityFactory(rm=ann, account=n1, date=JUN, status=ActivityStatus.PLANNED, outcome="")

    author = ExecutiveFactory()
    bank_set = TargetSetFactory(
        plan_year=plan_year,
        scope="bank",
        team=None,
        created_by=author,
        last_edited_by=author,
        proposed_by=author,
        status=TargetSet.Status.APPROVED,
        decided_by=ExecutiveFactory(),
    )
    for code, value in (("loan_growth", "8"), ("retention", "90")):
        TargetLineFactory(target_set=bank_set, metric=metric(code), value=D(value))
    return {
        "plan_year": plan_year,
        "north": north,
        "south": south,
        "nora": nora,
        "sam": sam,
        **{u.username: u for u in (ann, bob, cat, dan)},
        "executive": ExecutiveFactory(username="eve"),
    }


# Worked by hand from the table above.
BANK_BASE, BANK_KEPT = 11, 8  # N6 not in the base; N2, N5, S4 ended by 30 June (S6 later)
TIER_A_BASE, TIER_A_KEPT = 5, 3  # N1, N2, N5, S1, S3; N2 is tier A though C today
NORTH_BASE, NORTH_KEPT = 5, 3  # Ann N1 N2 N3, Bob N4 N5 (N5's loss is Bob's)
NORTH_A_BASE, NORTH_A_KEPT = 3, 1  # N1, N2, N5
SOUTH_BASE, SOUTH_KEPT = 6, 5  # Cat S1 S2 S3 S5 S6, Dan S4
BANK_LOANS_B = 1000 + 2000 + 500 + 800 + 1000 + 1500 + 700 + 1200 + 400 + 300 + 600
BANK_LOANS_E = 1100 + 600 + 700 + 300 + 1600 + 700 + 1200 + 350 + 600


def row(code, period="ytd", start=JAN, **subject):
    scope = "rm" if "rm" in subject else "team" if "team" in subject else "bank"
    return Variance.objects.get(
        scope=scope, metric__code=code, period=period, period_start=start, **subject
    )


def test_stored_retention_of_every_scope(bank):
    variances_recompute(today=TODAY)
    assert row("retention").actual == pct(BANK_KEPT, BANK_BASE) == D("72.73")
    assert row("tier_a_retention").actual == pct(TIER_A_KEPT, TIER_A_BASE)
    assert row("retention", team=bank["north"]).actual == pct(NORTH_KEPT, NORTH_BASE)
    assert row("tier_a_retention", team=bank["north"]).actual == pct(NORTH_A_KEPT, NORTH_A_BASE)
    assert row("retention", team=bank["south"]).actual == pct(SOUTH_KEPT, SOUTH_BASE)
    assert NORTH_BASE + SOUTH_BASE == BANK_BASE
    # The RMs: the loss of N5, handed over in the month it was lost, stays with Bob.
    assert row("retention", rm=bank["ann"]).actual == pct(2, 3)  # N1, N3 of N1-N3
    assert row("retention", rm=bank["bob"]).actual == pct(1, 2)  # N4 of N4, N5
    assert row("retention", rm=bank["cat"]).actual == pct(5, 5)
    assert row("retention", rm=bank["dan"]).actual == pct(0, 1)  # the leaver's S4


def test_stored_retention_is_compared_in_points(bank):
    variances_recompute(today=TODAY)
    retention = row("retention")
    planned = D(100) - (D(100) - D(90)) * 6 / 12  # 95
    assert (retention.planned, retention.difference, retention.percent) == (
        planned,
        pct(BANK_KEPT, BANK_BASE) - planned,
        None,
    )


def test_stored_growth_of_the_bank_and_the_teams(bank):
    variances_recompute(today=TODAY)
    growth = row("loan_growth")
    assert growth.actual == pct(BANK_LOANS_E - BANK_LOANS_B, BANK_LOANS_B) == D("-28.50")
    assert (growth.planned, growth.difference, growth.percent) == (
        D("4.00"),
        D("-28.50") - D("4.00"),
        None,
    )
    north_b, north_e = 1000 + 2000 + 500 + 800 + 1000, 1100 + 600 + 700 + 300
    assert row("loan_growth", team=bank["north"]).actual == pct(north_e - north_b, north_b)
    south_b, south_e = 1500 + 700 + 1200 + 400 + 300 + 600, 1600 + 700 + 1200 + 350 + 600
    assert row("loan_growth", team=bank["south"]).actual == pct(south_e - south_b, south_b)


def test_stored_activities_per_week_add_up(bank):
    variances_recompute(today=TODAY)

    def june(**subject):
        return row("activities_per_week", "month", JUN, **subject).actual

    assert june(team=bank["north"]) == per_week(8 + 4, 30)
    assert june(team=bank["south"]) == per_week(6, 30)
    assert june() == per_week(8 + 4 + 6, 30) == D("4.20")  # Nora's 5 and the planned aside
    assert june(rm=bank["ann"]) == per_week(8, 30)


def test_the_retention_page_shows_the_banks_figures(client, bank):
    client.force_login(bank["executive"])
    response = client.get(reverse("retention:retention"))
    result = response.context["retention"]
    tiers = {t.tier.code: t for t in result.tiers}
    assert (result.at_start, result.lost, result.closed) == (BANK_BASE, 3, 0)
    assert (tiers["A"].at_start, tiers["A"].still_active) == (TIER_A_BASE, TIER_A_KEPT)
    assert (tiers["B"].at_start, tiers["B"].still_active) == (5, 4)  # S6 still active at E
    assert (tiers["C"].at_start, tiers["C"].still_active) == (1, 1)  # S5; N2 is tier A's
    attrition = D(100) - pct(BANK_KEPT, BANK_BASE)
    assert result.attrition_pct == attrition == D("27.27")
    assert "27.27\u00a0%" in response.text
    assert f"{pct(TIER_A_KEPT, TIER_A_BASE)}\u00a0%" in response.text


def test_the_retention_page_shows_a_leaders_team_as_the_variances_count_it(client, bank):
    variances_recompute(today=TODAY)
    client.force_login(bank["nora"])
    result = client.get(reverse("retention:retention")).context["retention"]
    tier_a = next(t for t in result.tiers if t.tier.code == "A")
    assert (tier_a.at_start, tier_a.retention_pct) == (
        NORTH_A_BASE,
        pct(NORTH_A_KEPT, NORTH_A_BASE),
    )
    assert result.attrition_pct == D(100) - pct(NORTH_KEPT, NORTH_BASE)
    assert result.attrition_pct == D(100) - row("retention", team=bank["north"]).actual
    assert result.covered_elsewhere == 1  # S1, Cat's, covered by Ann


def test_the_sign_off_shows_year_to_date_growth_live_and_stored(client, bank):
    client.force_login(bank["executive"])
    growth = pct(BANK_LOANS_E - BANK_LOANS_B, BANK_LOANS_B)
    difference = f"{MINUS}{abs(growth - D('4.00'))}\u00a0pp"
    before = client.get(reverse("planning:signoff"))
    variances_recompute(today=TODAY)
    after = client.get(reverse("planning:signoff"))
    for response, source in ((before, "live"), (after, "stored")):
        (line, _retention) = response.context["bank_lines"]
        assert (line.actual, line.source) == (growth, source)
        assert f"{MINUS}{abs(growth)}\u00a0%" in response.text
        assert difference in response.text


def test_the_overviews_show_the_activities_adding_up(client, bank):
    client.force_login(bank["executive"])
    response = client.get(reverse("org:bank"))
    lines = {line.subject.name: line.activities_4w for line in response.context["lines"]}
    assert lines == {"North": 8 + 4, "South": 6}
    activities = response.context["activities"]
    assert (activities.rms, activities.others) == (8 + 4 + 6, 5)
    client.force_login(bank["nora"])
    team = client.get(bank["north"].get_absolute_url()).context["lines"]
    assert {line.subject.username: line.activities_4w for line in team} == {"ann": 8, "bob": 4}


# --- a month with few ratings -------------------------------------------------------------
# June's survey: three customers of Ann (N1, N3, N5) rate Listening, all "good" (4). As a
# share that is 3 of 3 = 100 %, but three customers are fewer than the five a score needs
# (RB_MIN_RATERS; the year's behaviour set sets no minimum of its own): no score, "not enough
# ratings", and nothing of it in compensation.


@pytest.fixture
def few_ratings(bank):
    behaviour_set = BehaviourSetFactory(
        plan_year=bank["plan_year"],
        created_by=bank["executive"],
        last_edited_by=bank["executive"],
        proposed_by=bank["executive"],
        status="approved",
        decided_by=ExecutiveFactory(username="eve2"),
    )
    listening = BehaviourFactory(behaviour_set=behaviour_set, name="Listening", weight=100)
    ann = bank["ann"]
    for account in ann.owned_accounts.filter(name__in=["N1", "N3", "N5"]):
        CustomerRating.objects.create(
            account=account, rm=ann, behaviour=listening, month=JUN, rating=4
        )
    return bank


def test_a_month_rated_by_three_customers_has_no_score(few_ratings):
    ann = few_ratings["ann"]
    card = rc.rm_report_card(ann, ann, few_ratings["plan_year"], month=JUN, today=TODAY)
    # Counted by hand: 3 answers from 3 customers, 5 customers needed.
    assert (card.month_count, card.month_raters) == (3, 3)
    assert card.month_enough is False


def test_a_month_rated_by_three_customers_is_left_out_of_compensation(client, few_ratings):
    ann = few_ratings["ann"]
    (row,) = rc.compensation(ann, few_ratings["plan_year"], today=TODAY).rows
    assert (row.rb_raters, row.rb, row.combined) == (3, None, None)
    assert row.rb_note == "not enough ratings: 3 customers, 5 needed"
