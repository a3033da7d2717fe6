"""Do the parts add up? The RMs' targets against their team's, the teams' against the
bank's: counts and money add up, loan and deposit growth are weighted by balance, other
percentages and ratios are a plain average (docs/targets.md)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import ProductFamily
from planning.models import Metric, TargetSet
from planning.selectors.targets import Rule, roll_up, roll_ups
from planning.services import targets
from planning.services.targets import LineInput

from ..factories import (
    AccountFactory,
    PlanYearFactory,
    PositionFactory,
    ProductFactory,
    RmFactory,
    TeamFactory,
    metric,
)

pytestmark = pytest.mark.django_db

MONTH = datetime.date(2026, 10, 1)


@pytest.fixture
def plan_year():
    return PlanYearFactory(year=2027)


@pytest.fixture
def loan():
    return ProductFactory(code="TL", family=ProductFamily.LOAN)


@pytest.fixture
def deposit():
    return ProductFactory(code="DDA", family=ProductFamily.DEPOSIT)


def write(by, plan_year, lines, *, scope="rm", team=None, rm=None, approve_by=None):
    ts = targets.target_set_create(plan_year=plan_year, scope=scope, by=by, team=team, rm=rm)
    targets.target_set_save(
        target_set_id=ts.pk,
        by=by,
        growth_share_pct=60 if scope == "bank" else None,
        lines=[
            LineInput(metric(code) if isinstance(code, str) else code, Decimal(value), weight)
            for code, value, weight in lines
        ],
    )
    if approve_by is not None:
        targets.target_set_propose(target_set_id=ts.pk, by=by)
        targets.target_set_approve(target_set_id=ts.pk, by=approve_by)
    return TargetSet.objects.get(pk=ts.pk)


def holding(owner, product, balance):
    PositionFactory(
        account=AccountFactory(owner=owner), product=product, month=MONTH, balance=balance
    )


@pytest.fixture
def three_rms(team, loan):
    """Three RMs with loan books of 6, 3 and 1 million."""
    rms = [RmFactory(username=f"rm_{name}", team=team) for name in ("a", "b", "c")]
    for rm, balance in zip(rms, (6_000_000, 3_000_000, 1_000_000), strict=True):
        holding(rm, loan, balance)
    return rms


@pytest.fixture
def worked_example(leader, team, plan_year, three_rms, executive):
    """Team asks 8 % loan growth, 8 new relationships, a cross-sell ratio of 2.5."""
    values = [(10, 3, "2.0"), (5, 2, "2.5"), (2, 4, "3.0")]
    for rm, (growth, new, ratio) in zip(three_rms, values, strict=True):
        write(
            leader,
            plan_year,
            [
                ("loan_growth", growth, 50),
                ("new_relationships", new, 30),
                ("cross_sell_ratio", ratio, 20),
            ],
            rm=rm,
        )
    return write(
        leader,
        plan_year,
        [("loan_growth", 8, 50), ("new_relationships", 8, 30), ("cross_sell_ratio", "2.5", 20)],
        scope="team",
        team=team,
    )


def by_code(lines):
    return {line.metric.code: line for line in lines}


def test_worked_example_team_against_its_rms(worked_example, executive):
    lines = by_code(roll_up(worked_example, viewer=executive))

    loan = lines["loan_growth"]
    # (10 x 6 M + 5 x 3 M + 2 x 1 M) / 10 M = 7.7 %
    assert (loan.asked, loan.sum_of_parts) == (Decimal("8.00"), Decimal("7.70"))
    assert (loan.rule, loan.weighted_by) == (Rule.BALANCE_WEIGHTED, "loan balance")
    assert (loan.parts_count, loan.parts_expected, loan.missing_parts) == (3, 3, [])
    assert loan.gap == Decimal("-0.30")
    assert loan.adds_up is False
    assert loan.sentence == (
        "RM targets sum to 7.70\u00a0% loan balance growth (weighted by loan balance), "
        "team asks 8.00\u00a0%."
    )

    new = lines["new_relationships"]
    assert (new.sum_of_parts, new.rule, new.adds_up) == (Decimal("9.00"), Rule.SUM, True)
    assert new.sentence == "RM targets sum to 9 new relationships, team asks 8."

    ratio = lines["cross_sell_ratio"]
    # (2.0 + 2.5 + 3.0) / 3
    assert (ratio.sum_of_parts, ratio.rule, ratio.adds_up) == (Decimal("2.50"), Rule.AVERAGE, True)


def test_lines_follow_the_sets_order_then_metrics_only_the_parts_carry(
    leader, team, plan_year, three_rms, executive
):
    write(leader, plan_year, [("deposit_growth", 4, 100)], rm=three_rms[0])
    ts = write(leader, plan_year, [("loan_growth", 8, 100)], scope="team", team=team)
    lines = roll_up(ts, viewer=executive)
    assert [line.metric.code for line in lines] == ["loan_growth", "deposit_growth"]
    assert lines[0].sentence.startswith(
        "No RM targets for loan balance growth yet; team asks 8.00\u00a0%"
    )
    assert lines[1].asked is None
    assert lines[1].sentence == (
        # No deposit balances in these books: nothing to weigh by.
        "RM targets sum to 4.00\u00a0% deposit (DDA) balance growth (plain average), "
        "team sets no target for it. 2 of 3 without one."
    )


def test_an_rm_without_targets_is_a_missing_part(leader, team, plan_year, three_rms, executive):
    first, second, _ = three_rms
    write(leader, plan_year, [("new_relationships", 5, 100)], rm=first)
    write(leader, plan_year, [("loan_growth", 5, 100)], rm=second)  # targets, not this metric
    ts = write(leader, plan_year, [("new_relationships", 4, 100)], scope="team", team=team)
    line = roll_up(ts, viewer=executive)[0]
    assert (line.parts_count, line.parts_expected) == (1, 3)
    assert line.missing_parts == [str(second), str(three_rms[2])]
    # The one part with a target meets the ask, but a part is missing: not yes.
    assert (line.adds_up, line.complete, line.parts_meet_the_ask) == (False, False, True)


def test_an_approved_revision_counts_before_a_newer_draft(
    leader, team, plan_year, three_rms, executive
):
    first = three_rms[0]
    approved = write(
        leader, plan_year, [("new_relationships", 3, 100)], rm=first, approve_by=executive
    )
    revision = targets.target_set_revise(target_set_id=approved.pk, by=leader)
    targets.target_set_save(
        target_set_id=revision.pk,
        by=leader,
        lines=[LineInput(metric("new_relationships"), Decimal(30), 100)],
    )
    write(leader, plan_year, [("new_relationships", 2, 100)], rm=three_rms[1])  # latest: a draft
    ts = write(leader, plan_year, [("new_relationships", 5, 100)], scope="team", team=team)
    line = roll_up(ts, viewer=executive)[0]
    assert line.sum_of_parts == Decimal("5.00")  # 3 (approved r1, not the r2 draft) + 2
    assert [part.target_set.revision for part in line.parts] == [1, 1]


def test_rms_of_another_team_and_departed_rms_are_not_parts(
    leader, team, plan_year, three_rms, executive, other_rm
):
    write(other_rm.team.leader, plan_year, [("new_relationships", 50, 100)], rm=other_rm)
    departed = three_rms[2]
    write(leader, plan_year, [("new_relationships", 40, 100)], rm=departed)
    departed.is_active = False
    departed.save()
    ts = write(leader, plan_year, [("new_relationships", 1, 100)], scope="team", team=team)
    line = roll_up(ts, viewer=executive)[0]
    assert (line.sum_of_parts, line.parts_expected) == (None, 2)


def test_without_balances_growth_is_a_plain_average(leader, team, plan_year, executive):
    rms = [RmFactory(username=f"rm_nobook_{i}", team=team) for i in range(3)]
    for rm, growth in zip(rms, (10, 5, 2), strict=True):
        write(leader, plan_year, [("loan_growth", growth, 100)], rm=rm)
    ts = write(leader, plan_year, [("loan_growth", 5, 100)], scope="team", team=team)
    line = roll_up(ts, viewer=executive)[0]
    assert (line.sum_of_parts, line.rule) == (Decimal("5.67"), Rule.AVERAGE)
    assert "(plain average)" in line.sentence


def test_bank_against_its_teams_weighted_by_deposit_balance(
    executive, plan_year, team, other_team, deposit
):
    holding(RmFactory(team=team), deposit, 10_000_000)
    holding(RmFactory(team=other_team), deposit, 30_000_000)
    third = TeamFactory(name="West")
    write(team.leader, plan_year, [("deposit_growth", 8, 100)], scope="team", team=team)
    write(
        other_team.leader, plan_year, [("deposit_growth", 12, 100)], scope="team", team=other_team
    )
    bank = write(executive, plan_year, [("deposit_growth", 10, 100)], scope="bank")
    line = roll_up(bank, viewer=executive)[0]
    # (8 x 10 M + 12 x 30 M) / 40 M = 11 %
    assert line.sum_of_parts == Decimal("11.00")
    assert line.missing_parts == [third.name]
    assert line.sentence == (
        "Team targets sum to 11.00\u00a0% deposit (DDA) balance growth (weighted by deposit "
        "balance), bank asks 10.00\u00a0%. 1 of 3 without one."
    )


def test_money_adds_up_and_lower_is_better_compares_the_other_way(
    leader, team, plan_year, three_rms, executive
):
    revenue = Metric.objects.create(
        code="fee_revenue", name="Fee revenue", unit="money", category="growth", position=200
    )
    cost = Metric.objects.create(
        code="cost_income",
        name="Cost-income ratio %",
        unit="percent",
        direction="lower",
        category="retention",
        position=210,
    )
    for rm, (fees, ratio) in zip(
        three_rms, [(100_000, 50), (50_000, 60), (25_000, 40)], strict=True
    ):
        write(leader, plan_year, [(revenue, fees, 50), (cost, ratio, 50)], rm=rm)
    ts = write(leader, plan_year, [(revenue, 150_000, 50), (cost, 55, 50)], scope="team", team=team)
    lines = by_code(roll_up(ts, viewer=executive))
    assert (lines["fee_revenue"].sum_of_parts, lines["fee_revenue"].adds_up) == (
        Decimal("175000.00"),
        True,
    )
    assert (
        lines["fee_revenue"].sentence == "RM targets sum to 175,000 fee revenue, team asks 150,000."
    )
    assert (lines["cost_income"].sum_of_parts, lines["cost_income"].adds_up) == (
        Decimal("50.00"),
        True,
    )


def test_an_rm_set_has_no_parts(leader, plan_year, rm, executive):
    ts = write(leader, plan_year, [("loan_growth", 5, 100)], rm=rm)
    assert roll_up(ts, viewer=executive) == []


@pytest.mark.parametrize("n", [3, 30])
def test_roll_ups_of_many_sets_read_a_fixed_number_of_queries(
    executive, plan_year, team, other_team, loan, deposit, n, django_assert_num_queries
):
    sets = []
    for t in (team, other_team):
        for i in range(n):
            rm = RmFactory(username=f"rm_{t.pk}_{i}", team=t)
            holding(rm, loan, 1000 * (i + 1))
            write(
                t.leader, plan_year, [("loan_growth", i, 60), ("new_relationships", 1, 40)], rm=rm
            )
        sets.append(write(t.leader, plan_year, [("loan_growth", 5, 100)], scope="team", team=t))
    sets.append(write(executive, plan_year, [("deposit_growth", 5, 100)], scope="bank"))
    # The parts (RMs, teams), their sets, all the lines, the month, two balance queries.
    with django_assert_num_queries(7):
        result = roll_ups(sets, viewer=executive)
    # The bank: its deposit growth, then the loan growth only the teams carry.
    assert [len(result[ts.pk]) for ts in sets] == [2, 2, 2]
    assert result[sets[0].pk][0].parts_count == n


# --- on the page ------------------------------------------------------------------------------


def test_leader_sees_the_roll_up_of_their_team_set(client, leader, worked_example):
    client.force_login(leader)
    response = client.get(worked_example.get_absolute_url())
    assert [line.metric.code for line in response.context["roll_up"]] == [
        "loan_growth",
        "new_relationships",
        "cross_sell_ratio",
    ]
    assert "RM targets sum to 7.70\u00a0% loan balance growth" in response.text


def test_rm_does_not_see_the_roll_up_of_their_team(client, worked_example, three_rms):
    client.force_login(three_rms[0])
    response = client.get(worked_example.get_absolute_url())
    assert response.status_code == 200
    assert "roll_up" not in response.context
    assert "Do the parts add up?" not in response.text


def test_only_executives_see_the_bank_roll_up(client, executive, leader, plan_year):
    bank = write(executive, plan_year, [("loan_growth", 10, 100)], scope="bank")
    client.force_login(leader)
    assert "roll_up" not in client.get(bank.get_absolute_url()).context
    client.force_login(executive)
    assert "roll_up" in client.get(reverse("planning:target_set", args=[bank.pk])).context
