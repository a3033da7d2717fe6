"""Check-in reminders and overdue notices, monthly report cards: each once per person
(coaching/services/reminders.py, docs/jobs.md)."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from coaching.services import reminders
from org.models import Notification
from tests.factories import CheckInFactory, NotificationFactory, RmFactory, UserFactory

pytestmark = pytest.mark.django_db

# The factory's check-in is on Monday 8 March 2027 at 9:00.
SUNDAY_NOON = timezone.make_aware(datetime.datetime(2027, 3, 7, 12, 0))
FRIDAY = timezone.make_aware(datetime.datetime(2027, 3, 5, 12, 0))


def keys(user):
    return set(Notification.objects.filter(user=user).values_list("key", flat=True))


def test_a_check_in_within_the_lead_time_reminds_the_rm_and_the_leader(rm, leader):
    checkin = CheckInFactory(rm=rm)
    assert reminders.checkin_reminders_send(now=SUNDAY_NOON) == 2
    assert keys(rm) == keys(leader) == {f"checkin:{checkin.pk}:before"}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([rm.email, leader.email])


def test_the_reminder_names_the_other_person_and_links_the_check_in(rm, leader, settings):
    checkin = CheckInFactory(rm=rm)
    reminders.checkin_reminders_send(now=SUNDAY_NOON)
    note = Notification.objects.get(user=rm)
    assert leader.get_full_name() in note.subject
    assert note.url == checkin.get_absolute_url()
    sent = next(m for m in mail.outbox if m.to == [rm.email])
    assert f"{settings.FLIGHTPATH_BASE_URL}{checkin.get_absolute_url()}" in sent.body


def test_a_check_in_beyond_the_lead_time_gets_no_reminder_yet(rm):
    CheckInFactory(rm=rm)
    assert reminders.checkin_reminders_send(now=FRIDAY) == 0
    assert not mail.outbox


def test_the_lead_time_is_a_setting(rm, settings):
    settings.FLIGHTPATH_REMINDER_LEAD_HOURS = 72
    CheckInFactory(rm=rm)
    assert reminders.checkin_reminders_send(now=FRIDAY) == 2


def test_reminders_are_not_sent_again_on_a_second_run(rm):
    CheckInFactory(rm=rm)
    reminders.checkin_reminders_send(now=SUNDAY_NOON)
    later = SUNDAY_NOON + datetime.timedelta(hours=6)
    assert reminders.checkin_reminders_send(now=later) == 0
    assert len(mail.outbox) == 2


def test_a_sent_reminder_is_marked_emailed(rm):
    CheckInFactory(rm=rm)
    reminders.checkin_reminders_send(now=SUNDAY_NOON)
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_a_reminder_already_recorded_by_another_run_is_not_emailed_again(rm, leader):
    checkin = CheckInFactory(rm=rm)
    NotificationFactory(user=rm, key=f"checkin:{checkin.pk}:before")
    assert reminders.checkin_reminders_send(now=SUNDAY_NOON) == 1
    assert [m.to for m in mail.outbox] == [[leader.email]]


@pytest.mark.parametrize("status", ["completed", "cancelled", "missed"])
def test_a_check_in_no_longer_open_gets_no_reminder(rm, status):
    done = {"snapshot": {}, "completed_at": FRIDAY} if status == "completed" else {}
    CheckInFactory(rm=rm, status=status, **done)
    reminders.checkin_reminders_send(now=SUNDAY_NOON)
    assert Notification.objects.filter(key__endswith=":before").count() == 0


def test_a_missed_check_in_sends_an_overdue_notice_to_both_once(rm, leader):
    checkin = CheckInFactory(rm=rm, status="missed")
    a_week_later = SUNDAY_NOON + datetime.timedelta(days=8)
    assert reminders.checkin_reminders_send(now=a_week_later) == 2
    assert reminders.checkin_reminders_send(now=a_week_later) == 0
    assert keys(rm) == keys(leader) == {f"checkin:{checkin.pk}:overdue"}
    assert Notification.objects.get(user=leader).subject.startswith("Missed:")


def test_a_check_in_missed_long_ago_gets_no_overdue_notice(rm):
    CheckInFactory(rm=rm, status="missed")
    two_months_later = SUNDAY_NOON + datetime.timedelta(days=60)
    assert reminders.checkin_reminders_send(now=two_months_later) == 0


def test_a_person_without_an_email_address_gets_the_notice_in_the_app_only(team):
    rm = RmFactory(team=team, email="")
    CheckInFactory(rm=rm)
    reminders.checkin_reminders_send(now=SUNDAY_NOON)
    assert Notification.objects.filter(user=rm, emailed_at__isnull=True).count() == 1
    assert [m.to for m in mail.outbox] == [[team.leader.email]]


# --- report cards --------------------------------------------------------------------------


def test_report_cards_go_to_every_rm_and_leader_once_per_month(rm, teammate, leader, other_rm):
    october = datetime.date(2026, 10, 1)
    assert reminders.report_cards_issue(month=october) == 5  # three RMs, two leaders
    assert reminders.report_cards_issue(month=october) == 0
    assert keys(rm) == keys(leader) == {"report-card:2026-10"}
    assert len(mail.outbox) == 5


def test_the_next_month_issues_again(rm):
    reminders.report_cards_issue(month=datetime.date(2026, 10, 1))
    reminders.report_cards_issue(month=datetime.date(2026, 11, 1))
    assert keys(rm) == {"report-card:2026-10", "report-card:2026-11"}


def test_the_rm_is_told_their_report_card_for_the_month_is_ready(rm):
    reminders.report_cards_issue(month=datetime.date(2026, 10, 1))
    note = Notification.objects.get(user=rm)
    assert note.subject == "Your report card for October 2026 is ready"
    assert note.url.startswith("/coaching/report-card/?")
    assert "month=2026-10" in note.url


def test_the_leader_gets_the_team_report_card_with_its_most_improved(leader, team):
    reminders.report_cards_issue(month=datetime.date(2026, 10, 1))
    note = Notification.objects.get(user=leader)
    assert note.subject == "Your team's report card for October 2026 is ready"
    assert f"/coaching/report-card/team/{team.pk}/" in note.url
    assert f"{team.name}: most improved in October 2026" in note.body


def test_a_newcomer_after_the_first_issue_still_gets_theirs(rm, team):
    october = datetime.date(2026, 10, 1)
    reminders.report_cards_issue(month=october)
    newcomer = RmFactory(team=team)
    assert reminders.report_cards_issue(month=october) == 1
    assert keys(newcomer) == {"report-card:2026-10"}


def test_report_cards_default_to_the_month_just_closed(rm, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2026, 11, 2))
    reminders.report_cards_issue()
    assert keys(rm) == {"report-card:2026-10"}


def test_inactive_people_get_no_report_card(team):
    gone = RmFactory(team=team, is_active=False)
    UserFactory(username="plain_exec", role="executive")
    reminders.report_cards_issue(month=datetime.date(2026, 10, 1))
    assert keys(gone) == set()
    assert not Notification.objects.filter(user__username="plain_exec").exists()
