"""Four eyes: nobody approves what they proposed, wrote, last edited or endorsed."""

import pytest
from django.db import IntegrityError

from planning.models import TargetSet, TerritoryPlan
from planning.services import plans, targets
from salesmgmt.workflow import FourEyesViolation

from ..factories import (
    CompleteTerritoryPlanFactory,
    ExecutiveFactory,
    PlanYearFactory,
    TargetLineFactory,
    metric,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposed_team_set(team):
    line = TargetLineFactory(target_set__team=team)
    return targets.target_set_propose(target_set_id=line.target_set.pk, by=team.leader)


@pytest.fixture
def bank_set_proposed_by_exec(executive):
    ts = targets.target_set_create(plan_year=PlanYearFactory(), scope="bank", by=executive)
    targets.target_set_save(
        target_set_id=ts.pk,
        by=executive,
        growth_share_pct=60,
        lines=[targets.LineInput(metric("loan_growth"), 10, 100)],
    )
    return targets.target_set_propose(target_set_id=ts.pk, by=executive)


def test_executive_cannot_approve_bank_targets_they_proposed(executive, bank_set_proposed_by_exec):
    with pytest.raises(FourEyesViolation):
        targets.target_set_approve(target_set_id=bank_set_proposed_by_exec.pk, by=executive)


def test_second_executive_approves_bank_targets(bank_set_proposed_by_exec):
    other = ExecutiveFactory(username="exec_two")
    ts = targets.target_set_approve(target_set_id=bank_set_proposed_by_exec.pk, by=other)
    assert (ts.status, ts.decided_by) == (TargetSet.Status.APPROVED, other)


def test_executive_approves_a_team_set_their_leader_proposed(executive, proposed_team_set):
    ts = targets.target_set_approve(target_set_id=proposed_team_set.pk, by=executive)
    assert ts.status == TargetSet.Status.APPROVED


def test_database_refuses_approval_by_the_proposer(proposed_team_set):
    with pytest.raises(IntegrityError):
        TargetSet.objects.filter(pk=proposed_team_set.pk).update(
            status="approved", decided_by=proposed_team_set.proposed_by
        )


@pytest.fixture
def endorsed_plan(team):
    plan = CompleteTerritoryPlanFactory(rm__team=team)
    plans.territory_plan_submit(plan_id=plan.pk, by=plan.rm)
    return plans.territory_plan_endorse(plan_id=plan.pk, by=team.leader)


def test_executive_approves_an_endorsed_plan(executive, endorsed_plan):
    plan = plans.territory_plan_approve(plan_id=endorsed_plan.pk, by=executive)
    assert plan.status == TerritoryPlan.Status.APPROVED


def test_database_refuses_a_plan_approved_by_its_endorser(endorsed_plan):
    with pytest.raises(IntegrityError):
        TerritoryPlan.objects.filter(pk=endorsed_plan.pk).update(
            status="approved", approved_by=endorsed_plan.endorsed_by
        )
