"""The executive's sign-off dashboard: queues, coverage, decisions one by one or at once."""

import pytest
from django.urls import reverse

from planning.models import Comment, TargetSet, TerritoryPlan
from planning.services import plans, targets

from ..factories import (
    AccountFactory,
    CompleteTerritoryPlanFactory,
    ExecutiveFactory,
    PlanYearFactory,
    RelationshipPlanFactory,
    RmFactory,
    TargetLineFactory,
    TeamFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_year():
    return PlanYearFactory(year=2026, starts_on="2026-01-01", ends_on="2026-12-31")


def proposed_team_set(team, plan_year):
    line = TargetLineFactory(target_set__team=team, target_set__plan_year=plan_year)
    return targets.target_set_propose(target_set_id=line.target_set.pk, by=team.leader)


def endorsed_plan(rm, plan_year):
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)
    plans.territory_plan_submit(plan_id=plan.pk, by=rm)
    return plans.territory_plan_endorse(plan_id=plan.pk, by=rm.team.leader)


@pytest.mark.parametrize("role", ["rm", "leader", "administrator"])
def test_sign_off_is_for_executives_only(client, request, role, plan_year):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("planning:signoff")).status_code == 403


def test_dashboard_lists_proposed_targets_and_endorsed_plans(
    client, executive, team, rm, plan_year
):
    ts = proposed_team_set(team, plan_year)
    plan = endorsed_plan(rm, plan_year)
    client.force_login(executive)
    response = client.get(reverse("planning:signoff"))
    assert list(response.context["target_sets"]) == [ts]
    assert list(response.context["plans"]) == [plan]


def test_dashboard_shows_plan_coverage(client, executive, rm, teammate, plan_year):
    tier_a = TierFactory(code="A")
    covered, _ = AccountFactory.create_batch(2, owner=rm, tier=tier_a)
    RelationshipPlanFactory(account=covered, plan_year=plan_year)
    plan = endorsed_plan(rm, plan_year)
    plans.territory_plan_approve(plan_id=plan.pk, by=executive)
    client.force_login(executive)
    coverage = client.get(reverse("planning:signoff")).context["coverage"]
    assert (coverage.rms_with_approved_plan, coverage.rms) == (1, 2)
    assert (coverage.tier_a_with_relationship_plan, coverage.tier_a_accounts) == (1, 2)


def test_selection_is_confirmed_before_it_is_approved(client, executive, team, plan_year):
    ts = proposed_team_set(team, plan_year)
    client.force_login(executive)
    response = client.post(
        reverse("planning:signoff_decide"), {"action": "approve", "target": [ts.pk]}
    )
    assert "Yes, approve it" in response.text
    ts.refresh_from_db()
    assert ts.status == TargetSet.Status.PROPOSED


def test_confirmed_selection_approves_every_item(
    client, executive, team, rm, other_team, plan_year
):
    first, second = proposed_team_set(team, plan_year), proposed_team_set(other_team, plan_year)
    plan = endorsed_plan(rm, plan_year)
    client.force_login(executive)
    client.post(
        reverse("planning:signoff_decide"),
        {
            "action": "approve",
            "confirmed": "yes",
            "target": [first.pk, second.pk],
            "plan": [plan.pk],
        },
    )
    assert set(TargetSet.objects.values_list("status", flat=True)) == {"approved"}
    plan.refresh_from_db()
    assert plan.status == TerritoryPlan.Status.APPROVED


def test_approving_the_same_selection_twice_approves_once(client, executive, team, plan_year):
    ts = proposed_team_set(team, plan_year)
    client.force_login(executive)
    data = {"action": "approve", "confirmed": "yes", "target": [ts.pk]}
    client.post(reverse("planning:signoff_decide"), data)
    second = client.post(reverse("planning:signoff_decide"), data, follow=True)
    assert Comment.objects.filter(target_set=ts, kind="approved").count() == 1
    assert "Not approved" in second.text


def test_returning_a_selection_needs_a_comment(client, executive, team, plan_year):
    ts = proposed_team_set(team, plan_year)
    client.force_login(executive)
    response = client.post(
        reverse("planning:signoff_decide"),
        {"action": "return", "confirmed": "yes", "target": [ts.pk]},
        follow=True,
    )
    assert "returning needs a comment" in response.text
    ts.refresh_from_db()
    assert ts.status == TargetSet.Status.PROPOSED


def test_returned_selection_carries_the_comment(client, executive, team, plan_year):
    ts = proposed_team_set(team, plan_year)
    client.force_login(executive)
    client.post(
        reverse("planning:signoff_decide"),
        {"action": "return", "confirmed": "yes", "target": [ts.pk], "comment": "Too timid"},
    )
    ts.refresh_from_db()
    assert (ts.status, ts.decision_comment) == (TargetSet.Status.RETURNED, "Too timid")


def test_four_eyes_item_in_a_selection_is_refused_and_the_rest_decided(client, plan_year):
    proposer = ExecutiveFactory(username="exec_a")
    bank = targets.target_set_create(plan_year=plan_year, scope="bank", by=proposer)
    TargetLineFactory(target_set=bank)
    TargetSet.objects.filter(pk=bank.pk).update(growth_share_pct=60)
    targets.target_set_propose(target_set_id=bank.pk, by=proposer)
    team_set = proposed_team_set(TeamFactory(), plan_year)
    client.force_login(proposer)
    response = client.post(
        reverse("planning:signoff_decide"),
        {"action": "approve", "confirmed": "yes", "target": [bank.pk, team_set.pk]},
        follow=True,
    )
    assert "Four eyes" in response.text
    assert TargetSet.objects.get(pk=bank.pk).status == "proposed"
    assert TargetSet.objects.get(pk=team_set.pk).status == "approved"


def test_unknown_or_nonsense_ids_decide_nothing(client, executive, plan_year):
    client.force_login(executive)
    response = client.post(
        reverse("planning:signoff_decide"),
        {"action": "approve", "target": ["987654", "x", "-1"]},
        follow=True,
    )
    assert response.status_code == 200
    assert "None of the selected items" in response.text


@pytest.mark.parametrize("count", [5, 50])
def test_dashboard_query_count_does_not_grow_with_queues(
    client, executive, plan_year, count, django_assert_max_num_queries
):
    for _ in range(count // 5):
        team = TeamFactory()
        proposed_team_set(team, plan_year)
        for _ in range(4):
            endorsed_plan(RmFactory(team=team), plan_year)
    client.force_login(executive)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("planning:signoff"))
    assert len(response.context["plans"]) == 4 * (count // 5)
