"""Coaching's jobs: check-ins from the cadences, reminders, monthly report cards.

A few lines each; the work is in the services (docs/jobs.md).
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.utils import timezone

from org.jobs import run_named_job


def daily_checkins(*, today: datetime.date | None = None, counts: dict | None = None) -> int:
    """The daily check-in job: create the coming check-ins from every team's cadence, then
    mark the ones a week late as missed; return both counts added (`counts`, when given,
    receives each). Given a day, "now" is the start of that day, so a rerun for the same
    day gives the same."""
    from coaching.services.checkins import checkins_create_all, checkins_mark_missed

    day = today or timezone.localdate()
    now = (
        timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
        if today
        else timezone.now()
    )
    created = checkins_create_all(today=day)
    missed = checkins_mark_missed(now=now)
    if counts is not None:
        counts.update(today=day, created=created, missed=missed)
    return created + missed


@shared_task(acks_late=True)
def create_checkins(triggered_by="celery"):
    return run_named_job("create_checkins", triggered_by=triggered_by).outcome


@shared_task(acks_late=True)
def send_checkin_reminders(triggered_by="celery"):
    """Reminders before check-ins and notices after missed ones, each exactly once."""
    return run_named_job("send_checkin_reminders", triggered_by=triggered_by).outcome


@shared_task(acks_late=True)
def issue_report_cards(triggered_by="celery"):
    """Last month's report cards to every RM and leader, once per month."""
    return run_named_job("issue_report_cards", triggered_by=triggered_by).outcome
