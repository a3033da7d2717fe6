"""Where a plan does not add up (disconnects), and how covered a book is by relationship
plans. Worked examples of docs/plans.md."""

import datetime
from decimal import Decimal

import pytest

from accounts.models import AccountStatus, OpportunityKind
from org.access import visible_accounts
from org.models import User
from planning.models import ActivityStandard
from planning.selectors.plans import (
    Coverage,
    Disconnect,
    disconnects,
    disconnects_for,
    team_plan_rows,
    territory_plan_coverage,
    tier_a_coverage,
    tier_a_coverage_by_owner,
)
from planning.services import plans as services

from ..factories import (
    AccountFactory,
    CompleteTerritoryPlanFactory,
    OpportunityFactory,
    PlanYearFactory,
    RelationshipPlanFactory,
    RmFactory,
    TargetLineFactory,
    TargetSetFactory,
    TerritoryPlanFactory,
    TierFactory,
    metric,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_year():
    year = PlanYearFactory(year=2027)
    ActivityStandard.objects.create(
        plan_year=year, rm_style="finder", calls_per_week=12, visits_per_week=5, reviews_per_week=2
    )
    ActivityStandard.objects.create(
        plan_year=year, rm_style="minder", calls_per_week=6, visits_per_week=4, reviews_per_week=4
    )
    ActivityStandard.objects.create(
        plan_year=year, rm_style="both", calls_per_week=10, visits_per_week=4, reviews_per_week=2
    )
    return year


@pytest.fixture
def tier_a():
    return TierFactory(code="A")


def rm_targets(rm, plan_year, *lines, revision=1):
    ts = TargetSetFactory(
        plan_year=plan_year,
        scope="rm",
        team=None,
        rm=rm,
        created_by=rm.team.leader,
        revision=revision,
    )
    for code, value in lines:
        TargetLineFactory(target_set=ts, metric=metric(code), value=Decimal(value))
    return ts


def kinds(plan):
    return [d.kind for d in disconnects(plan)]


# --- activity below the standard --------------------------------------------------------------


def test_a_finder_planning_8_calls_against_12_has_one_activity_disconnect(rm, plan_year):
    rm.rm_style = "finder"
    rm.save()
    plan = CompleteTerritoryPlanFactory(
        rm=rm,
        plan_year=plan_year,
        planned_calls_per_week=Decimal("8"),
        planned_visits_per_week=Decimal("5"),
        planned_reviews_per_week=Decimal("3"),
    )
    [found] = disconnects(plan)
    assert found.kind == Disconnect.ACTIVITY
    assert found.title == "Calls below the standard"
    assert found.detail == "Plans 8 calls a week; the FY 2027 standard for finders is 12."


def test_the_same_plan_meets_the_minders_standard_for_calls_but_not_reviews(rm, plan_year):
    rm.rm_style = "minder"
    rm.save()
    plan = CompleteTerritoryPlanFactory(
        rm=rm,
        plan_year=plan_year,
        planned_calls_per_week=Decimal("8"),
        planned_visits_per_week=Decimal("5"),
        planned_reviews_per_week=Decimal("3"),
    )
    assert [d.title for d in disconnects(plan)] == ["Reviews below the standard"]


def test_calls_visits_and_reviews_each_count(rm, plan_year):
    plan = CompleteTerritoryPlanFactory(
        rm=rm,
        plan_year=plan_year,
        planned_calls_per_week=Decimal("1"),
        planned_visits_per_week=Decimal("1"),
        planned_reviews_per_week=Decimal("1"),
    )
    assert kinds(plan) == [Disconnect.ACTIVITY] * 3


def test_activity_at_the_standard_is_no_disconnect(rm, plan_year):
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)  # 10 / 4 / 2, style both
    assert disconnects(plan) == []


def test_activity_not_planned_yet_is_a_missing_section_not_a_disconnect(rm, plan_year):
    plan = TerritoryPlanFactory(rm=rm, plan_year=plan_year)
    assert disconnects(plan) == []
    assert "activity" in services.missing_sections(plan)


def test_without_a_standard_for_the_year_activity_is_not_judged(rm):
    plan = CompleteTerritoryPlanFactory(
        rm=rm, plan_year=PlanYearFactory(year=2030), planned_calls_per_week=Decimal("0")
    )
    assert disconnects(plan) == []


def test_an_rm_without_a_style_is_held_to_the_finder_and_minder_standard(rm, plan_year):
    rm.rm_style = ""
    rm.save()
    plan = CompleteTerritoryPlanFactory(
        rm=rm, plan_year=plan_year, planned_calls_per_week=Decimal("9.5")
    )
    assert [d.detail for d in disconnects(plan)] == [
        "Plans 9.5 calls a week; the FY 2027 standard for finder and minders is 10."
    ]


# --- a growth goal with nothing behind it --------------------------------------------------------


def test_growth_target_with_no_top_account_and_no_opportunity_is_a_disconnect(rm, plan_year):
    rm_targets(rm, plan_year, ("loan_growth", "8"), ("tier_a_retention", "100"))
    plan = TerritoryPlanFactory(rm=rm, plan_year=plan_year)
    [found] = disconnects(plan)
    assert found.kind == Disconnect.GROWTH
    assert "Loan balance growth %" in found.detail
    assert "Retention" not in found.detail


def test_a_named_top_account_backs_the_growth_goal(rm, plan_year):
    rm_targets(rm, plan_year, ("loan_growth", "8"))
    plan = TerritoryPlanFactory(rm=rm, plan_year=plan_year)
    plan.top_accounts.add(AccountFactory(owner=rm))
    assert disconnects(plan) == []


@pytest.mark.parametrize(
    ("kind", "backs"),
    [
        (OpportunityKind.NEW_BUSINESS, True),
        (OpportunityKind.CROSS_SELL, True),
        (OpportunityKind.RENEWAL, False),  # keeps a balance, does not grow one
    ],
)
def test_an_open_growth_opportunity_backs_the_growth_goal(rm, plan_year, kind, backs):
    rm_targets(rm, plan_year, ("new_relationships", "3"))
    OpportunityFactory(account=AccountFactory(owner=rm), kind=kind)
    plan = TerritoryPlanFactory(rm=rm, plan_year=plan_year)
    assert (disconnects(plan) == []) is backs


def test_a_won_opportunity_does_not_back_next_years_growth(rm, plan_year):
    rm_targets(rm, plan_year, ("loan_growth", "8"))
    OpportunityFactory(
        account=AccountFactory(owner=rm), status="won", closed_on=datetime.date(2026, 10, 1)
    )
    plan = TerritoryPlanFactory(rm=rm, plan_year=plan_year)
    assert kinds(plan) == [Disconnect.GROWTH]


def test_a_zero_growth_target_asks_for_nothing(rm, plan_year):
    rm_targets(rm, plan_year, ("loan_growth", "0"))
    assert disconnects(TerritoryPlanFactory(rm=rm, plan_year=plan_year)) == []


def test_only_the_latest_target_revision_counts(rm, plan_year):
    rm_targets(rm, plan_year, ("loan_growth", "8"), revision=1)
    rm_targets(rm, plan_year, ("tier_a_retention", "100"), revision=2)
    assert disconnects(TerritoryPlanFactory(rm=rm, plan_year=plan_year)) == []


def test_the_teams_growth_target_is_not_the_rms(rm, team, plan_year):
    TargetLineFactory(target_set__team=team, target_set__plan_year=plan_year)
    assert disconnects(TerritoryPlanFactory(rm=rm, plan_year=plan_year)) == []


# --- tier-A accounts without a relationship plan ------------------------------------------------


def test_tier_a_accounts_without_a_relationship_plan_are_listed(rm, plan_year, tier_a):
    planned = AccountFactory(owner=rm, tier=tier_a, name="Alpine Dairy")
    bare = AccountFactory(owner=rm, tier=tier_a, name="Harbor Logistics")
    AccountFactory(owner=rm, tier=TierFactory(code="B"))  # tier B: not owed one
    AccountFactory(
        owner=rm,
        tier=tier_a,
        status=AccountStatus.LOST,
        lost_reason="Moved",
        closed_on=datetime.date(2026, 5, 1),
    )
    RelationshipPlanFactory(account=planned, plan_year=plan_year)
    RelationshipPlanFactory(account=bare, plan_year=PlanYearFactory(year=2026))  # last year's
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)
    [found] = disconnects(plan)
    assert found.kind == Disconnect.TIER_A
    assert found.title == "1 tier-A account without a relationship plan"
    assert found.accounts == (bare,)


def test_accounts_the_rm_only_covers_are_the_owners_to_plan(rm, teammate, plan_year, tier_a):
    AccountFactory(owner=teammate, covering_rm=rm, tier=tier_a)
    assert disconnects(CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)) == []


# --- batched ----------------------------------------------------------------------------------


def test_disconnects_for_many_plans_runs_five_queries(
    team, plan_year, tier_a, django_assert_num_queries
):
    plans = []
    for i in range(20):
        member = RmFactory(team=team, rm_style=["finder", "minder"][i % 2])
        AccountFactory(owner=member, tier=tier_a)
        rm_targets(member, plan_year, ("loan_growth", "5"))
        plans.append(
            CompleteTerritoryPlanFactory(
                rm=member, plan_year=plan_year, planned_calls_per_week=Decimal(i)
            )
        )
    plans = list(type(plans[0]).objects.filter(pk__in=[p.pk for p in plans]).select_related("rm"))
    with django_assert_num_queries(5):
        found = disconnects_for(plans)
    assert all(Disconnect.TIER_A in [d.kind for d in found[p.pk]] for p in plans)
    assert found == {p.pk: disconnects(p) for p in plans}


# --- coverage --------------------------------------------------------------------------------


def test_coverage_reads_4_of_5(rm, plan_year, tier_a):
    accounts = AccountFactory.create_batch(5, owner=rm, tier=tier_a)
    for account in accounts[:4]:
        RelationshipPlanFactory(account=account, plan_year=plan_year)
    coverage = tier_a_coverage(visible_accounts(rm), plan_year=plan_year)
    assert (str(coverage), coverage.pct, coverage.complete) == ("4 of 5", 80, False)


def test_coverage_of_nothing_is_0_of_0_without_a_share():
    assert (str(Coverage()), Coverage().pct, Coverage().complete) == ("0 of 0", None, True)


def test_coverage_by_owner(leader, rm, teammate, plan_year, tier_a):
    mine = AccountFactory.create_batch(2, owner=rm, tier=tier_a)
    AccountFactory(owner=teammate, tier=tier_a)
    RelationshipPlanFactory(account=mine[0], plan_year=plan_year)
    by_owner = tier_a_coverage_by_owner(visible_accounts(leader), plan_year=plan_year)
    assert by_owner == {rm.pk: Coverage(1, 2), teammate.pk: Coverage(0, 1)}


def test_coverage_stays_inside_the_viewers_scope(other_leader, rm, plan_year, tier_a):
    AccountFactory(owner=rm, tier=tier_a)
    assert tier_a_coverage(visible_accounts(other_leader), plan_year=plan_year) == Coverage(0, 0)


def test_territory_plan_coverage_counts_approved_plans(rm, teammate, leader, plan_year, executive):
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)
    services.territory_plan_submit(plan_id=plan.pk, by=rm)
    services.territory_plan_endorse(plan_id=plan.pk, by=leader)
    services.territory_plan_approve(plan_id=plan.pk, by=executive)
    TerritoryPlanFactory(rm=teammate, plan_year=plan_year)
    rms = User.objects.filter(pk__in=[rm.pk, teammate.pk])
    assert territory_plan_coverage(rms, plan_year=plan_year) == Coverage(1, 2)
    assert territory_plan_coverage(
        rms, plan_year=plan_year, statuses=["approved", "draft"]
    ) == Coverage(2, 2)


def test_team_plan_rows_count_sections_done(leader, rm, teammate, plan_year):
    CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year, risks="")
    rows = {r.rm: r for r in team_plan_rows(leader, plan_year=plan_year)}
    assert (rows[rm].sections_done, rows[teammate].sections_done) == (6, 0)
