"""Two runs at the same moment, on PostgreSQL: the job lock lets one through, and two
reminder sends that race past the lock still record and e-mail each reminder once.

PostgreSQL only: SQLite runs one writer at a time, so these races cannot happen there (the
SQLite claim is pinned in tests/test_jobs.py).
"""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from coaching.services import reminders
from org import jobs
from org.models import JobRun, Notification
from tests.factories import CheckInFactory, RmFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite runs one writer at a time, so two runs cannot race",
    ),
    pytest.mark.django_db(transaction=True),
]


def _in_threads(*targets):
    outcomes: list = [None] * len(targets)

    def call(i, target):
        try:
            outcomes[i] = target()
        except Exception as exc:  # the outcome under test, reported to the main thread
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def test_two_runs_of_a_job_at_once_one_runs_and_the_other_is_skipped():
    holding, release = threading.Event(), threading.Event()

    def slow(**kw):
        holding.set()
        assert release.wait(10)
        return 5

    def first():
        return jobs.run_job("demo", slow).outcome

    def second():
        assert holding.wait(10)
        try:
            return jobs.run_job("demo", lambda **kw: 99).outcome
        finally:
            release.set()

    assert sorted(_in_threads(first, second)) == ["skipped", "succeeded"]
    assert JobRun.objects.get(job="demo", outcome="succeeded").rows == 5


def test_the_lock_is_released_after_a_run_so_the_next_one_runs():
    jobs.run_job("demo", lambda **kw: 1)
    assert jobs.run_job("demo", lambda **kw: 2).outcome == JobRun.Outcome.SUCCEEDED


def test_a_running_row_left_by_a_killed_process_is_marked_interrupted_by_the_next_run():
    dead = JobRun.objects.create(job="demo", started_at=timezone.now())
    jobs.run_job("demo", lambda **kw: 1)
    dead.refresh_from_db()
    assert dead.outcome == JobRun.Outcome.FAILED
    assert dead.error.startswith("interrupted")


def test_two_reminder_sends_racing_past_the_lock_email_each_reminder_once(team, monkeypatch):
    """Both runs read "nothing recorded yet", wait for each other, then insert."""
    checkins = [CheckInFactory(rm=RmFactory(team=team)) for _ in range(4)]
    now = timezone.make_aware(datetime.datetime(2027, 3, 7, 12, 0))
    barrier = threading.Barrier(2)
    original = reminders.notifications_record

    def both_have_read(wanted):
        barrier.wait(timeout=10)
        return original(wanted)

    monkeypatch.setattr(reminders, "notifications_record", both_have_read)
    mail.outbox.clear()
    counts = _in_threads(
        lambda: reminders.checkin_reminders_send(now=now),
        lambda: reminders.checkin_reminders_send(now=now),
    )
    assert sum(counts) == 2 * len(checkins)
    assert len(mail.outbox) == 2 * len(checkins)
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == 2 * len(checkins)
    assert Notification.objects.count() == 2 * len(checkins)
