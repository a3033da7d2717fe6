"""Territory, relationship and development plan rules the matrix does not show: drafts
never fail, submitting says what is missing, lost updates, returns keep the thread, plans
link only what is the RM's own, and a closed year no longer changes."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError

from planning.models import Comment, TerritoryPlan
from planning.services import plans
from salesmgmt.workflow import Incomplete, InvalidTransition, StaleEdit

from ..factories import (
    AccountFactory,
    CompleteTerritoryPlanFactory,
    PlanYearFactory,
    TargetLineFactory,
    TerritoryPlanFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

Status = TerritoryPlan.Status


@pytest.fixture
def plan_year():
    return PlanYearFactory()


@pytest.fixture
def draft(rm, plan_year):
    return TerritoryPlanFactory(rm=rm, plan_year=plan_year)


@pytest.fixture
def complete(rm, plan_year):
    return CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)


@pytest.fixture
def submitted(complete, rm):
    return plans.territory_plan_submit(plan_id=complete.pk, by=rm)


def save(plan, by, section="strategies", version=None, **data):
    return plans.territory_plan_save_section(
        plan_id=plan.pk,
        section=section,
        data=data or {"strategies": "Referral lunches."},
        by=by,
        expected_version=version,
    )


# --- drafts and submitting ----------------------------------------------------------------


def test_saving_a_draft_never_fails_for_incompleteness(draft, rm):
    plan = save(draft, rm, section="goals", goals_personal="Know my tier-A owners.")
    assert plan.goals_personal == "Know my tier-A owners."
    assert plan.status == Status.DRAFT


def test_submitting_names_every_section_still_missing_and_changes_nothing(draft, rm):
    save(draft, rm, strategies="Referral lunches.")

    with pytest.raises(Incomplete) as refused:
        plans.territory_plan_submit(plan_id=draft.pk, by=rm)

    assert set(refused.value.missing) == {
        "goals",
        "measures",
        "activity",
        "top_accounts",
        "resources",
        "risks",
    }
    assert TerritoryPlan.objects.get(pk=draft.pk).status == Status.DRAFT
    assert not Comment.objects.filter(territory_plan=draft).exists()


def test_a_save_from_a_stale_page_is_refused_and_overwrites_nothing(draft, rm):
    read_at = draft.version
    save(draft, rm, version=read_at, strategies="Mine, from the first tab.")

    with pytest.raises(StaleEdit):
        save(draft, rm, version=read_at, strategies="Mine, from the second tab.")

    assert TerritoryPlan.objects.get(pk=draft.pk).strategies == "Mine, from the first tab."


# --- returns and the thread ---------------------------------------------------------------


def test_a_plan_returned_by_the_executive_loses_its_endorsement_and_keeps_its_thread(
    submitted, rm, leader, executive
):
    plans.territory_plan_endorse(plan_id=submitted.pk, by=leader, comment="Good.")
    plans.territory_plan_return(plan_id=submitted.pk, by=executive, comment="Name prospects.")

    plan = TerritoryPlan.objects.get(pk=submitted.pk)
    assert (plan.status, plan.endorsed_by) == (Status.RETURNED, None)

    save(plan, rm, strategies="Referral lunches, and these ten prospects.")
    plans.territory_plan_submit(plan_id=plan.pk, by=rm, comment="Prospects added.")
    plans.territory_plan_endorse(plan_id=plan.pk, by=leader)
    plan = plans.territory_plan_approve(plan_id=plan.pk, by=executive)

    thread = list(plan.comments.values_list("kind", "author__username"))
    assert thread == [
        ("submitted", "rm_north"),
        ("endorsed", "leader_north"),
        ("returned", "exec"),
        ("submitted", "rm_north"),
        ("endorsed", "leader_north"),
        ("approved", "exec"),
    ]


def test_a_return_says_why(submitted, leader):
    with pytest.raises(ValidationError):
        plans.territory_plan_return(plan_id=submitted.pk, by=leader, comment=" ")
    assert TerritoryPlan.objects.get(pk=submitted.pk).status == Status.SUBMITTED


# --- what a plan may link to --------------------------------------------------------------


def test_top_accounts_come_from_the_rms_own_book(draft, rm, teammate):
    theirs = AccountFactory(owner=teammate)
    with pytest.raises(ValidationError):
        save(draft, rm, section="top_accounts", top_accounts=[AccountFactory(owner=rm), theirs])
    assert not TerritoryPlan.objects.get(pk=draft.pk).top_accounts.exists()


def test_measured_lines_are_lines_the_rm_may_see(draft, rm, teammate, leader, plan_year):
    def rm_line(owner):
        return TargetLineFactory(
            target_set__scope="rm",
            target_set__team=None,
            target_set__rm=owner,
            target_set__plan_year=plan_year,
            target_set__created_by=leader,
        )

    mine, theirs = rm_line(rm), rm_line(teammate)
    with pytest.raises(ValidationError):
        save(draft, rm, section="measures", measures="By line.", measured_lines=[mine, theirs])
    assert not TerritoryPlan.objects.get(pk=draft.pk).measured_lines.exists()


# --- a closed year ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("save_section", "draft"),
        ("submit", "draft"),
        ("endorse", "submitted"),
        ("approve", "endorsed"),
        ("return", "submitted"),
    ],
)
def test_the_plans_of_a_closed_year_no_longer_change(
    action, state, complete, rm, leader, executive, plan_year
):
    if state != "draft":
        plans.territory_plan_submit(plan_id=complete.pk, by=rm)
    if state == "endorsed":
        plans.territory_plan_endorse(plan_id=complete.pk, by=leader)
    plan_year.is_open = False
    plan_year.save()
    act = {
        "save_section": lambda: save(complete, rm),
        "submit": lambda: plans.territory_plan_submit(plan_id=complete.pk, by=rm),
        "endorse": lambda: plans.territory_plan_endorse(plan_id=complete.pk, by=leader),
        "approve": lambda: plans.territory_plan_approve(plan_id=complete.pk, by=executive),
        "return": lambda: plans.territory_plan_return(plan_id=complete.pk, by=leader, comment="x"),
    }[action]

    with pytest.raises(InvalidTransition):
        act()

    assert TerritoryPlan.objects.get(pk=complete.pk).status == state


# --- relationship and development plans ---------------------------------------------------


@pytest.fixture
def tier_a_account(rm):
    return AccountFactory(owner=rm, tier=TierFactory(code="A"))


def relationship_save(account, by, plan_year, version=None):
    return plans.relationship_plan_save(
        account_id=account.pk,
        plan_year=plan_year,
        by=by,
        data={"intent": "must_keep", "objectives": "Renew the line early."},
        expected_version=version,
    )


def test_the_accounts_rm_and_its_covering_rm_write_its_relationship_plan(
    tier_a_account, rm, teammate, plan_year
):
    plan = relationship_save(tier_a_account, rm, plan_year)
    assert plan.author == rm
    tier_a_account.covering_rm = teammate
    tier_a_account.save()
    plan = relationship_save(tier_a_account, teammate, plan_year, version=plan.version)
    assert plan.objectives == "Renew the line early."


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("leader", PermissionDenied),  # sees the account, comments rather than writes
        ("executive", PermissionDenied),
        ("teammate", ObjectDoesNotExist),  # not their account: does not exist for them
        ("other_rm", ObjectDoesNotExist),
    ],
)
def test_nobody_else_writes_an_accounts_relationship_plan(
    who, refusal, request, tier_a_account, plan_year
):
    with pytest.raises(refusal):
        relationship_save(tier_a_account, request.getfixturevalue(who), plan_year)


def test_planned_actions_need_the_accounts_rm(tier_a_account, rm, leader, plan_year):
    plan = relationship_save(tier_a_account, rm, plan_year)
    action = plans.planned_action_add(
        relationship_plan_id=plan.pk,
        by=rm,
        description="Quarterly review",
        due_on=datetime.date(2027, 3, 31),
        owner=leader,
    )
    assert action.owner == leader
    with pytest.raises(PermissionDenied):
        plans.planned_action_add(
            relationship_plan_id=plan.pk,
            by=leader,
            description="My own idea",
            due_on=datetime.date(2027, 3, 31),
            owner=leader,
        )


@pytest.mark.parametrize("who", ["leader", "teammate", "executive"])
def test_only_the_rm_writes_their_development_plan(who, request, rm, plan_year):
    with pytest.raises(PermissionDenied):
        plans.development_plan_save(
            rm=rm, plan_year=plan_year, by=request.getfixturevalue(who), data={}
        )


def test_a_development_goal_is_tied_to_a_target_line_or_a_behaviour(rm, plan_year):
    plan = plans.development_plan_save(
        rm=rm, plan_year=plan_year, by=rm, data={"support_needed": "Joint visits."}
    )
    with pytest.raises(ValidationError):
        plans.development_goal_add(plan_id=plan.pk, by=rm, data={"skill": "Negotiation"})
    goal = plans.development_goal_add(
        plan_id=plan.pk, by=rm, data={"skill": "Negotiation", "behaviour": "Consultation"}
    )
    assert goal.development_plan == plan
    assert Decimal(plan.version) >= 1
