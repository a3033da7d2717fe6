"""The Retention page: who sees it, the accounts to defend, filters, priority, per-tier
retention, the year's attrition, and queries that do not grow with accounts."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AccountStatus, OpportunityStatus
from retention.selectors.risk import retention as retention_of
from tests.factories import (
    AccountFactory,
    OpportunityFactory,
    PlanYearFactory,
    PositionFactory,
    ProductFactory,
    RiskScoreFactory,
    RmFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 3, 10)
URL = reverse("retention:retention")


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: TODAY)
    return TODAY


def scored(owner, score=40, *, name=None, day=TODAY, reasons=None, **account):
    acc = AccountFactory(owner=owner, **({"name": name} if name else {}), **account)
    RiskScoreFactory(
        account=acc,
        scored_on=day,
        score=score,
        reasons=reasons
        if reasons is not None
        else [{"code": "no_contact", "points": score, "detail": "no contact for 99 days"}],
    )
    return acc


def names_on(response):
    return [s.account.name for s in response.context["page"].object_list]


# --- who sees it -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rm", "other_rm"])
def test_rms_get_403_on_the_retention_page(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403


def test_leader_sees_only_their_teams_accounts(client, leader, rm, other_rm):
    scored(rm, name="Ours Ltd")
    scored(other_rm, name="Theirs Ltd")
    client.force_login(leader)
    assert names_on(client.get(URL)) == ["Ours Ltd"]


def test_another_teams_leader_does_not_see_the_accounts(client, other_leader, rm):
    scored(rm, name="Ours Ltd")
    client.force_login(other_leader)
    response = client.get(URL)
    assert names_on(response) == []
    assert "Ours Ltd" not in response.text


def test_executive_sees_the_whole_bank(client, executive, rm, other_rm):
    scored(rm, name="Ours Ltd")
    scored(other_rm, name="Theirs Ltd")
    client.force_login(executive)
    assert sorted(names_on(client.get(URL))) == ["Ours Ltd", "Theirs Ltd"]


# --- the list ----------------------------------------------------------------------------------


def test_accounts_sorted_by_risk_with_latest_score_only(client, leader, rm):
    low = scored(rm, 20, name="Low Ltd")
    scored(rm, 70, name="High Ltd")
    RiskScoreFactory(account=low, scored_on=TODAY - datetime.timedelta(days=1), score=90)
    client.force_login(leader)
    response = client.get(URL)
    assert [(s.account.name, s.score) for s in response.context["page"].object_list] == [
        ("High Ltd", 70),
        ("Low Ltd", 20),
    ]


def test_lost_accounts_are_not_listed(client, leader, rm):
    scored(rm, name="Gone Ltd", status=AccountStatus.LOST, closed_on=TODAY, lost_reason="Moved")
    client.force_login(leader)
    assert names_on(client.get(URL)) == []


def test_page_shows_the_score_a_week_before(client, leader, rm):
    account = scored(rm, 50)
    RiskScoreFactory(account=account, scored_on=TODAY - datetime.timedelta(days=7), score=35)
    client.force_login(leader)
    assert "was 35 a week ago" in client.get(URL).text


def test_reasons_are_listed_and_escaped(client, leader, rm):
    scored(
        rm,
        30,
        reasons=[{"code": "lost_renewal", "points": 30, "detail": "renewal of <b>x</b> lost"}],
    )
    client.force_login(leader)
    text = client.get(URL).text
    assert "renewal of &lt;b&gt;x&lt;/b&gt; lost" in text
    assert "<b>x</b>" not in text


def test_fifty_accounts_a_page(client, executive, rm):
    for i in range(51):
        scored(rm, i, name=f"Customer {i:02d}")
    client.force_login(executive)
    page = client.get(URL).context["page"]
    assert (len(page.object_list), page.paginator.num_pages) == (50, 2)


# --- filters -----------------------------------------------------------------------------------


def test_filter_by_tier(client, leader, rm):
    scored(rm, name="Alpha", tier=TierFactory(code="A"))
    scored(rm, name="Bravo", tier=TierFactory(code="B"))
    client.force_login(leader)
    assert names_on(client.get(URL, {"tier": "A"})) == ["Alpha"]


def test_filter_contract_expiring_within_twelve_months(client, leader, rm):
    scored(rm, name="Soon", contract_until=datetime.date(2027, 9, 1))
    scored(rm, name="Later", contract_until=datetime.date(2028, 9, 1))
    scored(rm, name="None")
    client.force_login(leader)
    assert names_on(client.get(URL, {"contract": "expiring"})) == ["Soon"]


def test_filter_not_under_contract(client, leader, rm):
    scored(rm, name="Soon", contract_until=datetime.date(2027, 9, 1))
    scored(rm, name="Ended", contract_until=datetime.date(2026, 9, 1))
    scored(rm, name="None")
    client.force_login(leader)
    assert sorted(names_on(client.get(URL, {"contract": "none"}))) == ["Ended", "None"]


def test_filter_by_team_and_by_rm(client, executive, rm, teammate, other_rm):
    scored(rm, name="North one")
    scored(teammate, name="North two")
    scored(other_rm, name="South one")
    client.force_login(executive)
    assert sorted(names_on(client.get(URL, {"team": rm.team_id}))) == ["North one", "North two"]
    assert names_on(client.get(URL, {"rm": teammate.pk})) == ["North two"]


def test_leader_cannot_filter_on_another_teams_rm(client, leader, other_rm):
    scored(other_rm, name="South one")
    client.force_login(leader)
    response = client.get(URL, {"rm": other_rm.pk})
    assert names_on(response) == []
    assert "rm" in response.context["filterset"].errors


# --- priority bases ----------------------------------------------------------------------------


@pytest.fixture
def two_accounts(rm):
    """Risky but small, against less risky but large in revenue, pipeline and balances."""
    small = scored(rm, 60, name="Small risky")
    large = scored(rm, 20, name="Large calm")
    product = ProductFactory(code="TL")
    PositionFactory(
        account=small,
        product=product,
        month=datetime.date(2027, 2, 1),
        balance=Decimal("10000"),
        revenue=Decimal("100"),
    )
    PositionFactory(
        account=large,
        product=product,
        month=datetime.date(2027, 2, 1),
        balance=Decimal("900000"),
        revenue=Decimal("2000"),
    )
    OpportunityFactory(account=large, amount=Decimal("500000"), probability=50)
    OpportunityFactory(account=small, amount=Decimal("500000"), probability=10)
    # A lost opportunity is no pipeline.
    OpportunityFactory(
        account=small,
        amount=Decimal("9000000"),
        probability=90,
        status=OpportunityStatus.LOST,
        closed_on=datetime.date(2027, 1, 1),
    )
    return small, large


def test_risk_alone_puts_the_riskiest_first(client, leader, two_accounts):
    client.force_login(leader)
    assert names_on(client.get(URL)) == ["Small risky", "Large calm"]


@pytest.mark.parametrize("basis", ["revenue", "pipeline", "balances"])
def test_priority_basis_weighs_risk_by_the_accounts_value(client, leader, two_accounts, basis):
    client.force_login(leader)
    assert names_on(client.get(URL, {"basis": basis})) == ["Large calm", "Small risky"]


def test_values_shown_for_each_basis(client, leader, two_accounts):
    client.force_login(leader)
    rows = {s.account.name: s for s in client.get(URL).context["page"].object_list}
    large = rows["Large calm"]
    # Revenue of the last month loaded x 12; pipeline: amount x probability; balances.
    assert (large.revenue, large.pipeline, large.balances) == (
        Decimal("24000"),
        Decimal("250000"),
        Decimal("900000"),
    )
    assert rows["Small risky"].pipeline == Decimal("50000")


# --- retention against target, attrition ------------------------------------------------------


@pytest.fixture
def book_2027(rm):
    """Plan year 2027. Tier A (target 100 %): 4 active on 1 Jan, one lost in February.
    Tier B (target 90 %): 5 active on 1 Jan, one closed in March; one opened in February
    (not in the base) and one lost in 2026 (not in the base either)."""
    PlanYearFactory(year=2027)
    tier_a = TierFactory(code="A", retention_target_pct=Decimal("100"))
    tier_b = TierFactory(code="B", retention_target_pct=Decimal("90"))
    opened = datetime.date(2020, 1, 1)
    AccountFactory.create_batch(3, owner=rm, tier=tier_a, opened_on=opened)
    AccountFactory(
        owner=rm,
        tier=tier_a,
        opened_on=opened,
        status=AccountStatus.LOST,
        closed_on=datetime.date(2027, 2, 14),
        lost_reason="Competitor",
    )
    AccountFactory.create_batch(4, owner=rm, tier=tier_b, opened_on=opened)
    AccountFactory(
        owner=rm,
        tier=tier_b,
        opened_on=opened,
        status=AccountStatus.CLOSED,
        closed_on=datetime.date(2027, 3, 1),
    )
    AccountFactory(owner=rm, tier=tier_b, opened_on=datetime.date(2027, 2, 1))
    AccountFactory(
        owner=rm,
        tier=tier_b,
        opened_on=opened,
        status=AccountStatus.LOST,
        closed_on=datetime.date(2026, 11, 30),
        lost_reason="Sold the business",
    )
    AccountFactory(owner=rm, tier=tier_b, status=AccountStatus.PROSPECT, opened_on=None)
    # March is the last closed month: retention runs to its month-end, as the variances do.
    PositionFactory(month=datetime.date(2027, 3, 1))


def test_retention_per_tier_against_target(leader, book_2027):
    result = retention_of(leader, today=TODAY)
    rows = {t.tier.code: t for t in result.tiers}
    assert (rows["A"].at_start, rows["A"].still_active, rows["A"].retention_pct) == (
        4,
        3,
        Decimal("75"),
    )
    assert (rows["A"].gap_pct, rows["A"].on_target) == (Decimal("-25"), False)
    assert (rows["B"].at_start, rows["B"].still_active, rows["B"].retention_pct) == (
        5,
        4,
        Decimal("80"),
    )
    assert rows["B"].on_target is False


def test_attrition_rate_of_the_year(leader, book_2027):
    result = retention_of(leader, today=TODAY)
    # 1 lost + 1 closed of the 9 active on 1 Jan 2027.
    assert (result.starts_on, result.at_start, result.lost, result.closed) == (
        datetime.date(2027, 1, 1),
        9,
        1,
        1,
    )
    assert round(result.attrition_pct, 2) == Decimal("22.22")


def test_another_teams_leader_counts_none_of_these_accounts(other_leader, book_2027):
    assert retention_of(other_leader, today=TODAY).at_start == 0


def test_page_shows_retention_and_attrition(client, leader, book_2027):
    client.force_login(leader)
    text = client.get(URL).text
    assert "75.00\u00a0%" in text
    assert "\u221225.00\u00a0pp" in text  # percentage points, a true minus sign
    assert "22.22\u00a0%" in text
    assert "1 lost and 1 closed of the 9 accounts active on 1 Jan 2027" in text


# --- queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [10, 60])
@pytest.mark.parametrize("params", [{}, {"basis": "revenue", "contract": "expiring"}])
def test_page_query_count_does_not_grow_with_accounts(
    client, executive, team, rows, params, django_assert_max_num_queries
):
    product = ProductFactory(code="DDA")
    tier = TierFactory(code="A")
    for i in range(rows):
        account = scored(
            RmFactory(team=team), i % 100, tier=tier, contract_until=datetime.date(2027, 6, 1)
        )
        RiskScoreFactory(account=account, scored_on=TODAY - datetime.timedelta(days=7), score=5)
        PositionFactory(account=account, product=product, month=datetime.date(2027, 2, 1))
        OpportunityFactory(account=account)
    client.force_login(executive)
    # Retention by the variances' definitions: + the closed month and the ownership changes.
    with django_assert_max_num_queries(17):
        response = client.get(URL, params)
    assert len(response.context["page"].object_list) == min(rows, 50)
