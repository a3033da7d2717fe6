"""Every role, state and action of the two workflows, as tables: who may do what, when.

Each row of a table is one person acting on one record, and its cells are the answer in
each state the record can be in. The services are called directly; the answers are what
the web turns them into (salesmgmt/workflow.py):

    ok     the action happens, and the record moves to the state it should
    404    the person cannot see the record: the access layer does not find it
    403    they see it but may not do this (PermissionDenied)
    4eyes  they may do this in general, not to this record: four eyes (403)
    409    not from this state (InvalidTransition)

A refused action changes nothing: neither the state, nor the version, nor the comments.
A role that may never do an action hears 403 whatever the state; 409 is for those who
could, another time. Rows where a service still disagrees with the rule are listed in
KNOWN_BUGS, marked xfail (strict) with the reason, and reported.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied

from planning.models import Comment, TargetSet, TerritoryPlan
from planning.services import plans, targets
from salesmgmt.workflow import FourEyesViolation, InvalidTransition

from ..factories import (
    CompleteTerritoryPlanFactory,
    ExecutiveFactory,
    PlanYearFactory,
    metric,
)

pytestmark = pytest.mark.django_db

# --- target sets -------------------------------------------------------------------------
#
# Subjects: a team's set (written by its leader), an RM's set (written by the RM's leader)
# and the bank's (written and proposed by an executive). States are reached through the
# services: draft (written, weights add up), proposed (by its writer), returned and
# approved (by an executive who did not propose it).
#
# Roles: writer = the team's leader, or the executive who wrote and proposed the bank's
# set; team_rm = an RM of the team; subject_rm = the RM whose set it is; teammate = another
# RM of that team; other_leader / other_rm = of another team; executive = one who did not
# propose it; other_executive = a second executive (bank set); admin = back office.
# "*" stands for every action: save, propose, approve, return, revise.

TARGET_SET_STATES = ("draft", "proposed", "returned", "approved")
TARGET_SET_ACTIONS = ("save", "propose", "approve", "return", "revise")

TARGET_SET_RULES = """
subject  role             action    draft  proposed  returned  approved
team     writer           save      ok     409       ok        409
team     writer           propose   ok     409       ok        409
team     writer           approve   403    403       403       403
team     writer           return    403    403       403       403
team     writer           revise    409    409       409       ok
team     team_rm          *         403    403       403       403
team     other_leader     *         404    404       404       404
team     other_rm         *         404    404       404       404
team     executive        save      403    403       403       403
team     executive        propose   403    403       403       403
team     executive        approve   409    ok        409       409
team     executive        return    409    ok        409       409
team     executive        revise    403    403       403       403
team     admin            *         403    403       403       403

rm       writer           save      ok     409       ok        409
rm       writer           propose   ok     409       ok        409
rm       writer           approve   403    403       403       403
rm       writer           return    403    403       403       403
rm       writer           revise    409    409       409       ok
rm       subject_rm       *         403    403       403       403
rm       teammate         *         404    404       404       404
rm       other_leader     *         404    404       404       404
rm       other_rm         *         404    404       404       404
rm       executive        save      403    403       403       403
rm       executive        propose   403    403       403       403
rm       executive        approve   409    ok        409       409
rm       executive        return    409    ok        409       409
rm       executive        revise    403    403       403       403
rm       admin            *         403    403       403       403

bank     writer           save      ok     409       ok        409
bank     writer           propose   ok     409       ok        409
bank     writer           approve   409    4eyes     409       409
bank     writer           return    409    4eyes     409       409
bank     writer           revise    409    409       409       ok
bank     other_executive  save      ok     409       ok        409
bank     other_executive  propose   ok     409       ok        409
bank     other_executive  approve   409    ok        409       409
bank     other_executive  return    409    ok        409       409
bank     other_executive  revise    409    409       409       ok
bank     leader           *         403    403       403       403
bank     team_rm          *         403    403       403       403
bank     admin            *         403    403       403       403
"""

# What a successful action leaves the set in (revise: the approved set stays approved and
# a new draft revision follows it).
TARGET_SET_AFTER = {
    "save": "draft",
    "propose": "proposed",
    "approve": "approved",
    "return": "returned",
    "revise": "approved",
}

# --- territory plans -----------------------------------------------------------------------
#
# A complete plan (every section filled) by an RM of the team, taken through the services:
# draft, submitted (by the RM), endorsed (by the leader), approved (by an executive) or
# returned (by the leader, with a comment).
#
# Roles: owner = the RM whose plan it is; teammate = another RM of the team; leader = the
# team's leader; other_leader = another team's leader; executive; admin. "*": every action:
# save_section, submit, endorse, approve, return, comment.

PLAN_STATES = ("draft", "submitted", "endorsed", "approved", "returned")
PLAN_ACTIONS = ("save_section", "submit", "endorse", "approve", "return", "comment")

PLAN_RULES = """
role          action        draft  submitted  endorsed  approved  returned
owner         save_section  ok     409        409       409       ok
owner         submit        ok     409        409       409       ok
owner         endorse       403    403        403       403       403
owner         approve       403    403        403       403       403
owner         return        403    403        403       403       403
owner         comment       ok     ok         ok        ok        ok
teammate      *             404    404        404       404       404
leader        save_section  403    403        403       403       403
leader        submit        403    403        403       403       403
leader        endorse       409    ok         409       409       409
leader        approve       403    403        403       403       403
leader        return        409    ok         403       409       409
leader        comment       ok     ok         ok        ok        ok
other_leader  *             404    404        404       404       404
executive     save_section  403    403        403       403       403
executive     submit        403    403        403       403       403
executive     endorse       403    403        403       403       403
executive     approve       409    409        ok        409       409
executive     return        409    403        ok        409       409
executive     comment       ok     ok         ok        ok        ok
admin         save_section  403    403        403       403       403
admin         submit        403    403        403       403       403
admin         endorse       403    403        403       403       403
admin         approve       403    403        403       403       403
admin         return        403    403        403       403       403
admin         comment       403    403        403       403       403
"""

# What a successful action leaves the plan in (saving a section keeps the state).
PLAN_AFTER = {
    "submit": "submitted",
    "endorse": "endorsed",
    "approve": "approved",
    "return": "returned",
}

KNOWN_BUGS: dict[tuple[str, ...], str] = {}


def _cases(table: str, key: tuple[str, ...], states, actions, kind: str) -> list:
    """One pytest case per cell: (*key columns, action, state, expected)."""
    rows = [line.split() for line in table.strip().splitlines()]
    header, body = rows[0], [r for r in rows[1:] if r]
    assert header[len(key) + 1 :] == list(states), header
    cases, seen = [], set()
    for row in body:
        who, action, outcomes = tuple(row[: len(key)]), row[len(key)], row[len(key) + 1 :]
        for act in actions if action == "*" else [action]:
            assert (*who, act) not in seen, f"{who} {act}: two rows"
            seen.add((*who, act))
            for state, expected in zip(states, outcomes, strict=True):
                bug = KNOWN_BUGS.get((kind, *who, act, state))
                marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
                cases.append(
                    pytest.param(
                        *who, act, state, expected, id="-".join([*who, act, state]), marks=marks
                    )
                )
    return cases


def _outcome(call) -> str:
    try:
        call()
    except FourEyesViolation:
        return "4eyes"
    except PermissionDenied:
        return "403"
    except ObjectDoesNotExist:
        return "404"
    except InvalidTransition:
        return "409"
    return "ok"


@pytest.fixture
def other_executive(db):
    return ExecutiveFactory(username="exec_two")


@pytest.fixture
def decider(db):
    """The executive who decides in the states' back story: neither role of the tables."""
    return ExecutiveFactory(username="exec_decides")


@pytest.fixture
def plan_year(db):
    return PlanYearFactory()


@pytest.fixture
def people(
    leader,
    rm,
    teammate,
    other_leader,
    other_rm,
    executive,
    other_executive,
    administrator,
):
    return {
        "leader": leader,
        "team_rm": rm,
        "subject_rm": rm,
        "owner": rm,
        "teammate": teammate,
        "other_leader": other_leader,
        "other_rm": other_rm,
        "executive": executive,
        "other_executive": other_executive,
        "admin": administrator,
    }


# --- target sets -----------------------------------------------------------------------------


def _lines(value="10.00"):
    return [targets.LineInput(metric("loan_growth"), Decimal(value), 100)]


def _target_set_in(state: str, subject: str, *, plan_year, team, rm, writer, decider):
    scope_subject = {"team": {"team": team}, "rm": {"rm": rm}, "bank": {}}[subject]
    ts = targets.target_set_create(plan_year=plan_year, scope=subject, by=writer, **scope_subject)
    targets.target_set_save(
        target_set_id=ts.pk,
        by=writer,
        lines=_lines(),
        growth_share_pct=60 if subject == "bank" else None,
    )
    if state != "draft":
        targets.target_set_propose(target_set_id=ts.pk, by=writer)
    if state == "returned":
        targets.target_set_return(target_set_id=ts.pk, by=decider, comment="Aim higher.")
    if state == "approved":
        targets.target_set_approve(target_set_id=ts.pk, by=decider)
    return TargetSet.objects.get(pk=ts.pk)


def _target_set_action(action: str, ts: TargetSet, by):
    pk = ts.pk
    return {
        "save": lambda: targets.target_set_save(
            target_set_id=pk,
            by=by,
            lines=_lines("12.50"),
            growth_share_pct=60 if ts.scope == "bank" else None,
        ),
        "propose": lambda: targets.target_set_propose(target_set_id=pk, by=by),
        "approve": lambda: targets.target_set_approve(target_set_id=pk, by=by),
        "return": lambda: targets.target_set_return(target_set_id=pk, by=by, comment="Why?"),
        "revise": lambda: targets.target_set_revise(target_set_id=pk, by=by),
    }[action]


@pytest.mark.parametrize(
    ("subject", "role", "action", "state", "expected"),
    _cases(
        TARGET_SET_RULES,
        ("subject", "role"),
        TARGET_SET_STATES,
        TARGET_SET_ACTIONS,
        "target_set",
    ),
)
def test_target_set(subject, role, action, state, expected, people, plan_year, team, decider):
    rm = people["subject_rm"]
    writer = people["executive"] if subject == "bank" else team.leader
    by = writer if role == "writer" else people[role]
    ts = _target_set_in(
        state, subject, plan_year=plan_year, team=team, rm=rm, writer=writer, decider=decider
    )
    before = (ts.status, ts.version, ts.comments.count(), TargetSet.objects.count())

    assert _outcome(_target_set_action(action, ts, by)) == expected

    ts.refresh_from_db()
    if expected != "ok":
        after = (ts.status, ts.version, ts.comments.count(), TargetSet.objects.count())
        assert after == before, "a refused action changed the set"
        return
    assert ts.status == TARGET_SET_AFTER[action]
    if action == "save":
        assert ts.last_edited_by == by
        assert ts.lines.get().value == Decimal("12.50")
    if action == "propose":
        assert ts.proposed_by == by
    if action in ("approve", "return"):
        assert ts.decided_by == by
        assert ts.decided_by_id not in (ts.proposed_by_id, ts.last_edited_by_id)
        assert ts.comments.last().kind == {"approve": "approved", "return": "returned"}[action]
    if action == "revise":
        revision = ts.next_revision
        assert (revision.status, revision.revision, revision.created_by) == ("draft", 2, by)


# --- territory plans ---------------------------------------------------------------------------


def _plan_in(state: str, *, rm, leader, decider, plan_year) -> TerritoryPlan:
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)
    if state != "draft":
        plans.territory_plan_submit(plan_id=plan.pk, by=rm)
    if state in ("endorsed", "approved"):
        plans.territory_plan_endorse(plan_id=plan.pk, by=leader)
    if state == "approved":
        plans.territory_plan_approve(plan_id=plan.pk, by=decider)
    if state == "returned":
        plans.territory_plan_return(plan_id=plan.pk, by=leader, comment="Name the prospects.")
    return TerritoryPlan.objects.get(pk=plan.pk)


def _plan_action(action: str, plan: TerritoryPlan, by):
    pk = plan.pk
    return {
        "save_section": lambda: plans.territory_plan_save_section(
            plan_id=pk,
            section="strategies",
            data={"strategies": "Referral lunches with accountants."},
            by=by,
            expected_version=plan.version,
        ),
        "submit": lambda: plans.territory_plan_submit(plan_id=pk, by=by),
        "endorse": lambda: plans.territory_plan_endorse(plan_id=pk, by=by),
        "approve": lambda: plans.territory_plan_approve(plan_id=pk, by=by),
        "return": lambda: plans.territory_plan_return(plan_id=pk, by=by, comment="Not yet."),
        "comment": lambda: plans.plan_comment_add(plan_id=pk, by=by, text="Looks good."),
    }[action]


@pytest.mark.parametrize(
    ("role", "action", "state", "expected"),
    _cases(PLAN_RULES, ("role",), PLAN_STATES, PLAN_ACTIONS, "plan"),
)
def test_territory_plan(role, action, state, expected, people, plan_year, decider):
    by = people[role]
    plan = _plan_in(
        state, rm=people["owner"], leader=people["leader"], decider=decider, plan_year=plan_year
    )
    before = (plan.status, plan.version, plan.strategies, plan.comments.count())

    assert _outcome(_plan_action(action, plan, by)) == expected

    plan.refresh_from_db()
    if expected != "ok":
        after = (plan.status, plan.version, plan.strategies, plan.comments.count())
        assert after == before, "a refused action changed the plan"
        return
    assert plan.status == PLAN_AFTER.get(action, state)
    if action == "save_section":
        assert plan.strategies == "Referral lunches with accountants."
    if action == "endorse":
        assert plan.endorsed_by == by
    if action == "approve":
        assert plan.approved_by == by
        assert by.pk not in (plan.rm_id, plan.endorsed_by_id)
    if action == "comment":
        assert plan.comments.last().kind == Comment.Kind.COMMENT


def test_the_tables_cover_every_role_state_and_action():
    """The tables are complete: a role missing from a table would go untested."""
    target_cells = list(
        _cases(
            TARGET_SET_RULES,
            ("subject", "role"),
            TARGET_SET_STATES,
            TARGET_SET_ACTIONS,
            "target_set",
        )
    )
    roles = {
        "team": {"writer", "team_rm", "other_leader", "other_rm", "executive", "admin"},
        "rm": {"writer", "subject_rm", "teammate", "other_leader", "other_rm", "executive"}
        | {"admin"},
        "bank": {"writer", "other_executive", "leader", "team_rm", "admin"},
    }
    for subject, expected_roles in roles.items():
        cells = {(p.values[1], p.values[2]) for p in target_cells if p.values[0] == subject}
        assert cells == {(r, a) for r in expected_roles for a in TARGET_SET_ACTIONS}
    plan_cells = {
        (p.values[0], p.values[1])
        for p in _cases(PLAN_RULES, ("role",), PLAN_STATES, PLAN_ACTIONS, "plan")
    }
    plan_roles = {"owner", "teammate", "leader", "other_leader", "executive", "admin"}
    assert plan_cells == {(r, a) for r in plan_roles for a in PLAN_ACTIONS}
    assert len(target_cells) == 90 * len(TARGET_SET_STATES)
    assert len(plan_cells) * len(PLAN_STATES) == 180
