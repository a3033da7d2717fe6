"""Two people at once: approving twice approves once, and no save overwrites another.

Each test runs the same action in two threads, each with its own database connection and
transaction, released together by a barrier once both transactions have read the record
(so both have seen it "proposed", or at the same version). The service is slowed down
just after its checks pass, while it holds the row lock: without the lock both threads
would pass the checks and both would write. With it, the second waits on the first's
lock, then reads the record as the first left it and refuses.

PostgreSQL only: SQLite has no row locks (select_for_update is a no-op there) and lets
one writer in at a time, so it cannot show the race, nor its absence.
"""

from __future__ import annotations

import importlib
import threading
import time
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, transaction

from planning.models import Comment, TargetSet, TerritoryPlan
from planning.services import plans, targets
from salesmgmt.workflow import InvalidTransition, StaleEdit

from ..factories import CompleteTerritoryPlanFactory, ExecutiveFactory, PlanYearFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite has no row locks and runs one writer at a time, "
        "so two transactions cannot race there",
    ),
    pytest.mark.django_db(transaction=True),
]

# How long the first thread holds the row lock after its checks pass: long enough for the
# second to reach the lock (or, were there none, to pass the same checks).
HOLD_SECONDS = 0.3


def race(read, *calls):
    """Run `calls` at once, each in a thread with its own connection and transaction.

    Each thread first reads the record (`read()`, so its transaction has begun and seen
    it), waits for the others at a barrier, then calls. Returns what each thread read and
    what its call returned or raised.
    """
    barrier = threading.Barrier(len(calls))
    seen: list = [None] * len(calls)
    outcomes: list = [None] * len(calls)

    def run(i, call):
        try:
            with transaction.atomic():
                seen[i] = read()
                barrier.wait(timeout=10)
                outcomes[i] = call()
        except Exception as exc:  # the outcome under test, reported to the main thread
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a thread hung: a lock was never released"
    return seen, outcomes


def slowed(module, name, monkeypatch):
    """Make `module.name` (a check the service calls while holding the lock) take a while
    after it passes."""
    original = getattr(module, name)

    def slow(*args, **kwargs):
        result = original(*args, **kwargs)
        time.sleep(HOLD_SECONDS)
        return result

    monkeypatch.setattr(module, name, slow)


def one_won(outcomes, loser_error):
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    assert isinstance(losers[0], loser_error), losers[0]
    return winners[0]


@pytest.fixture
def catalogue():
    """The metric catalogue (a transactional test flushes what the migration wrote)."""
    migration = importlib.import_module("planning.migrations.0002_metric_catalogue")
    migration.add_metrics(apps, None)
    return {m.code: m for m in apps.get_model("planning", "Metric").objects.all()}


@pytest.fixture
def plan_year():
    return PlanYearFactory()


@pytest.fixture
def proposed_team_set(team, plan_year, catalogue):
    ts = targets.target_set_create(plan_year=plan_year, scope="team", team=team, by=team.leader)
    targets.target_set_save(
        target_set_id=ts.pk,
        by=team.leader,
        lines=[targets.LineInput(catalogue["loan_growth"], Decimal("10"), 100)],
    )
    return targets.target_set_propose(target_set_id=ts.pk, by=team.leader)


@pytest.mark.parametrize("second", ["same executive (double click)", "another executive"])
def test_approving_a_target_set_twice_at_once_approves_it_once(
    second, proposed_team_set, executive, monkeypatch
):
    other = executive if second.startswith("same") else ExecutiveFactory(username="exec_two")
    slowed(targets, "_decide", monkeypatch)
    pk = proposed_team_set.pk

    seen, outcomes = race(
        lambda: TargetSet.objects.get(pk=pk).status,
        lambda: targets.target_set_approve(target_set_id=pk, by=executive, comment="first"),
        lambda: targets.target_set_approve(target_set_id=pk, by=other, comment="second"),
    )

    assert seen == ["proposed", "proposed"]
    winner = one_won(outcomes, InvalidTransition)
    ts = TargetSet.objects.get(pk=pk)
    assert ts.status == TargetSet.Status.APPROVED
    assert (ts.decided_by_id, ts.decision_comment) == (
        winner.decided_by_id,
        winner.decision_comment,
    )
    assert ts.version == proposed_team_set.version + 1
    assert ts.comments.filter(kind=Comment.Kind.APPROVED).count() == 1


def test_endorsing_a_plan_twice_at_once_endorses_it_once(rm, leader, plan_year, monkeypatch):
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)
    plans.territory_plan_submit(plan_id=plan.pk, by=rm)
    slowed(plans, "_is_leader_of", monkeypatch)

    seen, outcomes = race(
        lambda: TerritoryPlan.objects.get(pk=plan.pk).status,
        lambda: plans.territory_plan_endorse(plan_id=plan.pk, by=leader, comment="tab one"),
        lambda: plans.territory_plan_endorse(plan_id=plan.pk, by=leader, comment="tab two"),
    )

    assert seen == ["submitted", "submitted"]
    one_won(outcomes, InvalidTransition)
    plan.refresh_from_db()
    assert (plan.status, plan.endorsed_by) == (TerritoryPlan.Status.ENDORSED, leader)
    assert plan.comments.filter(kind=Comment.Kind.ENDORSED).count() == 1


def test_two_saves_of_the_same_section_from_the_same_version_lose_nothing(
    rm, plan_year, monkeypatch
):
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)
    read_at = plan.version
    slowed(plans, "_check_version", monkeypatch)

    def save(text):
        return lambda: plans.territory_plan_save_section(
            plan_id=plan.pk,
            section="strategies",
            data={"strategies": text},
            by=rm,
            expected_version=read_at,
        )

    seen, outcomes = race(
        lambda: TerritoryPlan.objects.get(pk=plan.pk).version,
        save("Written in the first tab."),
        save("Written in the second tab."),
    )

    assert seen == [read_at, read_at]
    winner = one_won(outcomes, StaleEdit)
    plan.refresh_from_db()
    assert plan.strategies == winner.strategies
    assert plan.strategies in ("Written in the first tab.", "Written in the second tab.")
    assert plan.version == read_at + 1


def test_two_saves_of_the_same_targets_from_the_same_version_lose_nothing(
    team, plan_year, catalogue, monkeypatch
):
    leader = team.leader
    ts = targets.target_set_create(plan_year=plan_year, scope="team", team=team, by=leader)
    read_at = ts.version
    original = targets._bump_version

    def slow_bump(target_set, expected_version, **changes):
        # The version check is the first thing _bump_version does; hold the lock after it.
        if expected_version is not None and expected_version == target_set.version:
            time.sleep(HOLD_SECONDS)
        return original(target_set, expected_version, **changes)

    monkeypatch.setattr(targets, "_bump_version", slow_bump)

    def save(value):
        line = targets.LineInput(catalogue["loan_growth"], Decimal(value), 100)
        return lambda: targets.target_set_save(
            target_set_id=ts.pk, by=leader, lines=[line], expected_version=read_at
        )

    seen, outcomes = race(
        lambda: TargetSet.objects.get(pk=ts.pk).version, save("8.00"), save("12.00")
    )

    assert seen == [read_at, read_at]
    winner = one_won(outcomes, StaleEdit)
    ts.refresh_from_db()
    assert ts.version == read_at + 1
    assert [line.value for line in ts.lines.all()] == [winner.lines.get().value]
