import pytest

from tests.factories import (
    BehaviourFactory,
    BehaviourSetFactory,
    ExecutiveFactory,
    PlanYearFactory,
)


@pytest.fixture
def plan_year(db):
    return PlanYearFactory(year=2027)


@pytest.fixture
def behaviours(plan_year, executive):
    """The year's approved behaviours: Listening 60 %, Follow-up 40 %, objective 80 %."""
    bs = BehaviourSetFactory(
        plan_year=plan_year,
        created_by=executive,
        last_edited_by=executive,
        proposed_by=executive,
        status="approved",
        decided_by=ExecutiveFactory(username="exec_second"),
    )
    listening = BehaviourFactory(behaviour_set=bs, name="Listening", weight=60, position=0)
    follow_up = BehaviourFactory(behaviour_set=bs, name="Follow-up", weight=40, position=1)
    return [listening, follow_up]
