"""A real Celery worker on Redis runs our tasks; reminders fired twice at once go out once.

The worker is started in this process (celery.contrib.testing.worker.start_worker, a
thread pool of 2), consuming from Redis database 5 (not the 0 the app uses) on a queue of
its own; the tasks reach it through the broker, not in-process. Its threads open their own
database connections, so these tests commit (transaction=True). Skipped, saying why, when
Redis is not reachable on 127.0.0.1:6379 (CI has it, so there they run).
"""

from __future__ import annotations

import datetime
import socket
import time
import uuid
from collections import Counter

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.db import close_old_connections, connection, connections
from django.utils import timezone

from coaching import tasks as coaching_tasks
from org.models import JobRun, Notification
from salesmgmt.celery import app
from tests.factories import CheckInFactory, RmFactory, TeamFactory, UserFactory

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
BROKER = f"redis://{REDIS_HOST}:{REDIS_PORT}/5"


def _redis_up() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.skipif(
        not _redis_up(), reason=f"needs Redis on {REDIS_HOST}:{REDIS_PORT} (CI has it)"
    ),
    pytest.mark.django_db(transaction=True),
]


def _forget_broker_connections():
    # An eager .delay() earlier in the session made a producer pool for the old broker;
    # without this, messages would not reach Redis.
    app._pool = None
    app.amqp._producer_pool = None


def _close_thread_connections(**kwargs):
    # Each worker thread's own connection; the test database is dropped at the end.
    connections.close_all()


@pytest.fixture
def worker():
    """A worker of two threads on Redis db 5, consuming a queue of its own."""
    queue = f"flightpath-test-{uuid.uuid4().hex[:8]}"
    saved = {
        key: app.conf[key]
        for key in ("broker_url", "task_always_eager", "task_default_queue", "result_backend")
    }
    app.conf.update(
        broker_url=BROKER, task_always_eager=False, task_default_queue=queue, result_backend=None
    )
    _forget_broker_connections()
    task_postrun.connect(_close_thread_connections, weak=False)
    try:
        with start_worker(
            app,
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            loglevel="WARNING",
            queues=[queue],
            shutdown_timeout=30,
        ) as started:
            yield queue, started
    finally:
        task_postrun.disconnect(_close_thread_connections)
        app.conf.update(saved)
        _forget_broker_connections()
        close_old_connections()


def wait_for_runs(job: str, count: int, timeout: float = 60) -> list[JobRun]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = list(JobRun.objects.filter(job=job).exclude(outcome=JobRun.Outcome.RUNNING))
        if len(runs) >= count:
            return runs
        time.sleep(0.2)
    raise AssertionError(f"{job}: fewer than {count} finished run(s) after {timeout} s")


def test_a_real_worker_runs_a_task_sent_through_redis(worker):
    queue, _ = worker
    team = TeamFactory(leader=UserFactory(role="leader"))
    RmFactory(team=team)
    coaching_tasks.create_checkins.apply_async(queue=queue)
    [run] = wait_for_runs("create_checkins", 1)
    assert run.outcome == JobRun.Outcome.SUCCEEDED
    assert run.triggered_by == "celery"
    assert run.rows > 0


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite runs one writer at a time, so the two runs cannot race",
)
def test_reminders_fired_twice_at_once_through_the_worker_are_emailed_once(worker):
    queue, _ = worker
    soon = timezone.now() + datetime.timedelta(hours=2)
    team = TeamFactory(leader=UserFactory(role="leader"))
    checkins = [
        CheckInFactory(
            rm=RmFactory(team=team),
            scheduled_at=soon,
            period_start=soon.date() - datetime.timedelta(days=soon.weekday()),
        )
        for _ in range(3)
    ]
    mail.outbox.clear()
    for _ in range(2):
        coaching_tasks.send_checkin_reminders.apply_async(queue=queue)
    runs = wait_for_runs("send_checkin_reminders", 2)

    # exactly one e-mail per person and check-in, whichever way the two runs met
    per_recipient = Counter((m.to[0], m.subject) for m in mail.outbox)
    assert len(mail.outbox) == 2 * len(checkins)
    assert set(per_recipient.values()) == {1}
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2 * len(checkins)
    outcomes = sorted(r.outcome for r in runs)
    assert outcomes in (["skipped", "succeeded"], ["succeeded", "succeeded"])
    assert sum(r.rows or 0 for r in runs) == 2 * len(checkins)
