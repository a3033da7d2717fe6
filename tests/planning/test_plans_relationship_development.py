"""Relationship plans (per must-keep / must-grow account) and development plans (per RM):
written by the RM, read by the leader and executives, 404 outside scope."""

import datetime

import pytest
from django.urls import reverse

from planning.models import DevelopmentGoal, DevelopmentPlan, PlannedAction, RelationshipPlan

from ..factories import (
    AccountFactory,
    DevelopmentGoalFactory,
    DevelopmentPlanFactory,
    PlannedActionFactory,
    PlanYearFactory,
    RelationshipPlanFactory,
    TargetLineFactory,
    TargetSetFactory,
    TierFactory,
    metric,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
OUTSIDERS = ["other_rm", "other_leader", "teammate"]


@pytest.fixture
def plan_year():
    return PlanYearFactory(year=2027)


@pytest.fixture
def tier_a_account(rm):
    return AccountFactory(owner=rm, tier=TierFactory(code="A"), name="Harbor Logistics")


@pytest.fixture
def relationship_plan(tier_a_account, plan_year):
    return RelationshipPlanFactory(account=tier_a_account, plan_year=plan_year)


@pytest.fixture
def development_plan(rm, plan_year):
    return DevelopmentPlanFactory(rm=rm, plan_year=plan_year)


def plan_form(version, **overrides):
    data = {
        "version": version,
        "intent": "must_keep",
        "objectives": "Renew the credit line.",
        "expected_results": "Line renewed; cash management added.",
        "expected_balance": "1500000",
        "resources": "Treasury specialist.",
        "review_on": "2027-06-30",
    }
    data.update(overrides)
    return data


# --- relationship plans ------------------------------------------------------------------------


def test_account_link_opens_the_form_for_a_new_plan(client, rm, tier_a_account, plan_year):
    client.force_login(rm)
    url = reverse("planning:account_relationship_plan", args=[tier_a_account.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "New relationship plan 2027 · Harbor Logistics" in response.text
    assert response.context["form"].initial["intent"] == "must_keep"


def test_rm_writes_a_relationship_plan_from_the_account(client, rm, tier_a_account, plan_year):
    client.force_login(rm)
    url = reverse("planning:account_relationship_plan", args=[tier_a_account.pk])
    response = client.post(url, plan_form(0))
    plan = RelationshipPlan.objects.get(account=tier_a_account, plan_year=plan_year)
    assert response.url == plan.get_absolute_url()
    assert (plan.intent, plan.expected_balance, plan.author) == ("must_keep", 1500000, rm)
    assert client.get(url).url == plan.get_absolute_url()  # the link now opens it


def test_a_plan_written_meanwhile_in_another_tab_is_not_overwritten(
    client, rm, tier_a_account, plan_year
):
    client.force_login(rm)
    url = reverse("planning:account_relationship_plan", args=[tier_a_account.pk])
    client.get(url)  # the form is open in this tab …
    RelationshipPlanFactory(account=tier_a_account, plan_year=plan_year, objectives="Theirs.")
    response = client.post(url, plan_form(0, objectives="Mine."))  # … the other tab was first
    assert response.status_code == 409
    assert "Somebody wrote a relationship plan for this account meanwhile" in response.text
    assert "Mine." in response.text  # what they typed, to copy back
    assert RelationshipPlan.objects.get(account=tier_a_account).objectives == "Theirs."


def test_tier_c_accounts_get_no_relationship_plan(client, rm, plan_year):
    account = AccountFactory(owner=rm, tier=TierFactory(code="C"))
    client.force_login(rm)
    url = reverse("planning:account_relationship_plan", args=[account.pk])
    assert "written for tier-A (must keep) and tier-B" in client.get(url).text
    client.post(url, plan_form(0))
    assert not RelationshipPlan.objects.exists()


def test_rm_edits_a_relationship_plan(client, rm, relationship_plan):
    client.force_login(rm)
    response = client.post(
        relationship_plan.get_absolute_url(),
        plan_form(relationship_plan.version, intent="must_grow", objectives="Add payroll."),
    )
    relationship_plan.refresh_from_db()
    assert response.status_code == 302
    assert (relationship_plan.intent, relationship_plan.objectives) == ("must_grow", "Add payroll.")


def test_stale_relationship_plan_save_shows_the_conflict(client, rm, relationship_plan):
    read_at = relationship_plan.version
    relationship_plan.objectives = "Changed elsewhere."
    relationship_plan.version += 1
    relationship_plan.save()
    client.force_login(rm)
    response = client.post(
        relationship_plan.get_absolute_url(), plan_form(read_at, objectives="Mine.")
    )
    relationship_plan.refresh_from_db()
    assert response.status_code == 409
    assert relationship_plan.objectives == "Changed elsewhere."
    assert "changed after you opened it" in response.text
    assert "Mine." in response.text


def test_bad_relationship_plan_input_re_renders_with_the_reason(client, rm, relationship_plan):
    client.force_login(rm)
    response = client.post(
        relationship_plan.get_absolute_url(),
        plan_form(relationship_plan.version, expected_balance="-5", review_on="someday"),
    )
    assert response.status_code == 400
    assert "greater than or equal to 0" in response.text
    assert "Enter a valid date." in response.text


def test_leader_reads_but_cannot_edit_a_relationship_plan(client, leader, relationship_plan):
    client.force_login(leader)
    page = client.get(relationship_plan.get_absolute_url())
    assert page.context["form"] is None
    assert "Renew the credit line" in page.text
    response = client.post(relationship_plan.get_absolute_url(), plan_form(1))
    assert response.status_code == 403


def test_leader_cannot_write_a_new_relationship_plan(client, leader, tier_a_account, plan_year):
    client.force_login(leader)
    url = reverse("planning:account_relationship_plan", args=[tier_a_account.pk])
    assert "has no relationship plan for FY 2027 yet" in client.get(url).text
    assert client.post(url, plan_form(0)).status_code == 403


def test_rm_adds_a_planned_action(client, rm, leader, relationship_plan):
    client.force_login(rm)
    response = client.post(
        reverse("planning:planned_action_add", args=[relationship_plan.pk]),
        {"description": "Joint visit with treasury", "due_on": "2027-03-01", "owner": leader.pk},
    )
    action = PlannedAction.objects.get()
    assert response.status_code == 302
    assert (action.owner, action.due_on) == (leader, datetime.date(2027, 3, 1))


def test_action_owner_must_be_of_the_team(client, rm, other_rm, relationship_plan):
    client.force_login(rm)
    response = client.post(
        reverse("planning:planned_action_add", args=[relationship_plan.pk]),
        {"description": "Visit", "due_on": "2027-03-01", "owner": other_rm.pk},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert not PlannedAction.objects.exists()


def test_rm_ticks_an_action_done_inline(client, rm, relationship_plan):
    action = PlannedActionFactory(relationship_plan=relationship_plan)
    client.force_login(rm)
    url = reverse("planning:planned_action_done", args=[action.pk])
    response = client.post(url, {"done": "1"}, **HTMX)
    action.refresh_from_db()
    assert action.done
    assert f'id="action-{action.pk}"' in response.text
    assert "<html" not in response.text
    client.post(url, {"done": "0"})  # and back, without JavaScript
    action.refresh_from_db()
    assert not action.done


def test_leader_cannot_tick_the_rms_action(client, leader, relationship_plan):
    action = PlannedActionFactory(relationship_plan=relationship_plan)
    client.force_login(leader)
    response = client.post(reverse("planning:planned_action_done", args=[action.pk]), {"done": "1"})
    assert response.status_code == 403


def test_my_plan_lists_tier_a_and_b_accounts_with_coverage(
    client, rm, relationship_plan, plan_year
):
    AccountFactory(owner=rm, tier=TierFactory(code="A"), name="Bare Ltd")
    AccountFactory(owner=rm, tier=TierFactory(code="B"), name="Grow Ltd")
    AccountFactory(owner=rm, tier=TierFactory(code="C"), name="Maintain Ltd")
    client.force_login(rm)
    response = client.get(reverse("planning:my_plan"))
    names = [line.account.name for line in response.context["relationship_lines"]]
    assert names == ["Bare Ltd", "Harbor Logistics", "Grow Ltd"]
    assert str(response.context["coverage"]) == "1 of 2"
    assert "<strong>1 of 2</strong> tier-A accounts have a relationship plan" in response.text


def test_relationship_plan_list_shows_the_rms_coverage(client, rm, relationship_plan):
    client.force_login(rm)
    response = client.get(reverse("planning:relationship_plans"))
    assert str(response.context["coverage"]) == "1 of 1"


def test_leaders_relationship_plan_list_is_their_teams(client, leader, other_rm, relationship_plan):
    theirs = RelationshipPlanFactory(account__owner=other_rm, plan_year=relationship_plan.plan_year)
    client.force_login(leader)
    plans = list(client.get(reverse("planning:relationship_plans")).context["page"].object_list)
    assert plans == [relationship_plan]
    assert theirs not in plans


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_gets_404_on_a_relationship_plan(client, request, relationship_plan, outsider):
    client.force_login(request.getfixturevalue(outsider))
    assert client.get(relationship_plan.get_absolute_url()).status_code == 404
    assert client.post(relationship_plan.get_absolute_url(), plan_form(1)).status_code == 404
    url = reverse("planning:planned_action_add", args=[relationship_plan.pk])
    assert client.post(url, {}).status_code == 404


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_gets_404_on_an_accounts_relationship_plan_link(
    client, request, tier_a_account, plan_year, outsider
):
    client.force_login(request.getfixturevalue(outsider))
    url = reverse("planning:account_relationship_plan", args=[tier_a_account.pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_gets_404_on_ticking_an_action(client, request, relationship_plan, outsider):
    action = PlannedActionFactory(relationship_plan=relationship_plan)
    client.force_login(request.getfixturevalue(outsider))
    url = reverse("planning:planned_action_done", args=[action.pk])
    assert client.post(url, {"done": "1"}).status_code == 404


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsiders_list_leaves_the_plan_out(client, request, relationship_plan, outsider):
    client.force_login(request.getfixturevalue(outsider))
    page = client.get(reverse("planning:relationship_plans")).context["page"]
    assert relationship_plan not in page.object_list


# --- development plans -------------------------------------------------------------------------


def test_rm_starts_a_development_plan(client, rm, plan_year):
    client.force_login(rm)
    page = client.get(reverse("planning:my_development_plan"))
    assert "Start my development plan" in page.text
    assert not DevelopmentPlan.objects.exists()
    response = client.post(
        reverse("planning:my_development_plan"),
        {"version": 0, "support_needed": "Joint visits.", "review_on": "2027-06-30"},
    )
    plan = DevelopmentPlan.objects.get(rm=rm)
    assert response.url == plan.get_absolute_url()
    assert client.get(reverse("planning:my_development_plan")).url == plan.get_absolute_url()


def test_development_goal_must_be_tied(client, rm, development_plan):
    client.force_login(rm)
    response = client.post(
        reverse("planning:development_goal_add", args=[development_plan.pk]),
        {"skill": "Negotiation", "behaviour": "", "actions": "Course."},
    )
    assert response.status_code == 400
    assert "Tie the goal to one of your target lines or name an RB behaviour." in response.text
    assert not DevelopmentGoal.objects.exists()


def test_development_goal_tied_to_an_rb_behaviour(client, rm, development_plan):
    client.force_login(rm)
    client.post(
        reverse("planning:development_goal_add", args=[development_plan.pk]),
        {"skill": "Open questions", "behaviour": "Listening"},
    )
    assert DevelopmentGoal.objects.get().behaviour == "Listening"


def test_development_goal_tied_to_the_rms_own_target_line(
    client, rm, leader, team, development_plan, plan_year
):
    own = TargetSetFactory(plan_year=plan_year, scope="rm", team=None, rm=rm, created_by=leader)
    line = TargetLineFactory(target_set=own, metric=metric("cross_sell_ratio"))
    team_line = TargetLineFactory(target_set__team=team, target_set__plan_year=plan_year)
    client.force_login(rm)
    url = reverse("planning:development_goal_add", args=[development_plan.pk])
    assert (
        client.post(url, {"skill": "Needs analysis", "target_line": team_line.pk}).status_code
        == 400
    )
    client.post(url, {"skill": "Needs analysis", "target_line": line.pk})
    assert DevelopmentGoal.objects.get().target_line == line


def test_rm_removes_a_goal(client, rm, development_plan):
    goal = DevelopmentGoalFactory(development_plan=development_plan)
    client.force_login(rm)
    client.post(reverse("planning:development_goal_remove", args=[development_plan.pk, goal.pk]))
    assert not DevelopmentGoal.objects.exists()


def test_stale_development_plan_save_shows_the_conflict(client, rm, development_plan):
    read_at = development_plan.version
    DevelopmentPlan.objects.filter(pk=development_plan.pk).update(
        version=read_at + 1, support_needed="Theirs."
    )
    client.force_login(rm)
    response = client.post(
        development_plan.get_absolute_url(), {"version": read_at, "support_needed": "Mine."}
    )
    development_plan.refresh_from_db()
    assert response.status_code == 409
    assert development_plan.support_needed == "Theirs."


def test_leader_reads_but_cannot_edit_a_development_plan(client, leader, development_plan):
    DevelopmentGoalFactory(development_plan=development_plan, skill="Consultative questioning")
    client.force_login(leader)
    page = client.get(development_plan.get_absolute_url())
    assert page.context["form"] is None
    assert "Consultative questioning" in page.text
    response = client.post(development_plan.get_absolute_url(), {"version": 1})
    assert response.status_code == 403
    url = reverse("planning:development_goal_add", args=[development_plan.pk])
    assert client.post(url, {"skill": "x", "behaviour": "Listening"}).status_code == 403


def test_development_plan_is_an_rms(client, leader, plan_year):
    client.force_login(leader)
    assert client.get(reverse("planning:my_development_plan")).status_code == 403


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_gets_404_on_a_development_plan(client, request, development_plan, outsider):
    goal = DevelopmentGoalFactory(development_plan=development_plan)
    client.force_login(request.getfixturevalue(outsider))
    assert client.get(development_plan.get_absolute_url()).status_code == 404
    url = reverse("planning:development_goal_add", args=[development_plan.pk])
    assert client.post(url, {"skill": "x", "behaviour": "Listening"}).status_code == 404
    url = reverse("planning:development_goal_remove", args=[development_plan.pk, goal.pk])
    assert client.post(url).status_code == 404
    assert DevelopmentGoal.objects.filter(pk=goal.pk).exists()


@pytest.mark.parametrize("n", [5, 50])
def test_relationship_plan_page_query_count_is_flat(
    client, rm, relationship_plan, n, django_assert_max_num_queries
):
    PlannedActionFactory.create_batch(n, relationship_plan=relationship_plan)
    client.force_login(rm)
    with django_assert_max_num_queries(10):
        response = client.get(relationship_plan.get_absolute_url())
    assert len(response.context["actions"]) == n


@pytest.mark.parametrize("n", [5, 50])
def test_development_plan_page_query_count_is_flat(
    client, rm, development_plan, n, django_assert_max_num_queries
):
    DevelopmentGoalFactory.create_batch(n, development_plan=development_plan)
    client.force_login(rm)
    with django_assert_max_num_queries(8):
        response = client.get(development_plan.get_absolute_url())
    assert len(response.context["goals"]) == n
