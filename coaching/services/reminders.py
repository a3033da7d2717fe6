"""Reminders and notices: check-ins coming and missed, report cards ready. Each exactly once.

Every message is a `Notification` (the bell) with a key that says what it is about, unique
per person (`checkin:<id>:before`, `checkin:<id>:overdue`, `report-card:<yyyy-mm>`). The
order makes each one exactly once, even when the scheduler fires twice or two workers run
the same job at once:

1. INSERT the notification first, each in its own (sub)transaction. The unique constraint
   (user, key) lets exactly one insert through; a run that finds the row already there, or
   hits the constraint because another run inserted it a moment before, skips it.
2. E-mail only the notifications this run inserted, after the insert has committed.
3. Mark `emailed_at` with a conditional UPDATE (only where it is still empty).

So neither service runs inside one big transaction: an e-mail is sent only once its record
is committed, and a rollback can never leave a sent e-mail without its record. A send that
fails (the mail server is down) fails the job (visible on the job status page); the
notification is in the bell, `emailed_at` stays empty, and it is not e-mailed again (at
most once by e-mail, exactly once in the app). docs/jobs.md has the design.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from org.models import Notification, Role, Team, User
from salesmgmt import formatting

from ..models import CheckIn

# Missed check-ins older than this get no overdue notice (the history before the job ran).
OVERDUE_NOTICE_WITHIN = datetime.timedelta(days=30)
MOST_IMPROVED_SHOWN = 3


def lead_time() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.FLIGHTPATH_REMINDER_LEAD_HOURS)


# --- recording and sending, exactly once ---------------------------------------------------


def notifications_record(wanted: list[Notification]) -> list[Notification]:
    """Insert the notifications not yet there; return the ones this call inserted.

    One query finds the keys already recorded (the usual case on a rerun); each new one is
    inserted in its own savepoint, and losing the race to another run (IntegrityError on
    the unique key) just means that run sends it.
    """
    if not wanted:
        return []
    existing = set(
        Notification.objects.filter(
            user_id__in={n.user_id for n in wanted}, key__in={n.key for n in wanted}
        ).values_list("user_id", "key")
    )
    created = []
    for note in wanted:
        if (note.user_id, note.key) in existing:
            continue
        existing.add((note.user_id, note.key))
        try:
            with transaction.atomic():
                note.save(force_insert=True)
        except IntegrityError:
            continue  # another run inserted it first: it sends it
        created.append(note)
    return created


def notifications_email(notes: list[Notification]) -> int:
    """E-mail the notifications this run inserted; mark each sent. Return how many."""
    sent = 0
    for note in notes:
        if not note.user.email:
            continue  # in the app only
        link = f"{settings.FLIGHTPATH_BASE_URL}{note.url}" if note.url else ""
        body = f"{note.body}\n\n{link}".strip() if link else note.body
        send_mail(note.subject, body, None, [note.user.email])
        sent += Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
    return sent


def notify(wanted: list[Notification]) -> int:
    """Record, then e-mail what this run recorded; return how many were new."""
    created = notifications_record(wanted)
    notifications_email(created)
    return len(created)


# --- check-in reminders --------------------------------------------------------------------


def _when(checkin: CheckIn) -> str:
    return formatting.date(timezone.localtime(checkin.scheduled_at), "l j M Y, H:i")


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def _before(checkin: CheckIn) -> list[Notification]:
    kind = checkin.get_kind_display().lower()
    key, url = f"checkin:{checkin.pk}:before", checkin.get_absolute_url()
    return [
        Notification(
            user=checkin.rm,
            key=key,
            url=url,
            subject=f"Your {kind} check-in with {_name(checkin.leader)}, {_when(checkin)}",
            body=f"Your {kind} check-in ({checkin.period_label}) with {_name(checkin.leader)} "
            f"is on {_when(checkin)}. Bring your pipeline and your open commitments.",
        ),
        Notification(
            user=checkin.leader,
            key=key,
            url=url,
            subject=f"{kind.capitalize()} check-in with {_name(checkin.rm)}, {_when(checkin)}",
            body=f"Your {kind} check-in ({checkin.period_label}) with {_name(checkin.rm)} is "
            f"on {_when(checkin)}. The figures are ready on the check-in page.",
        ),
    ]


def _overdue(checkin: CheckIn) -> list[Notification]:
    kind = checkin.get_kind_display().lower()
    key, url = f"checkin:{checkin.pk}:overdue", checkin.get_absolute_url()
    return [
        Notification(
            user=checkin.rm,
            key=key,
            url=url,
            subject=f"Missed: your {kind} check-in of {_when(checkin)}",
            body=f"Your {kind} check-in ({checkin.period_label}) with "
            f"{_name(checkin.leader)}, planned for {_when(checkin)}, was not held.",
        ),
        Notification(
            user=checkin.leader,
            key=key,
            url=url,
            subject=f"Missed: {kind} check-in with {_name(checkin.rm)} of {_when(checkin)}",
            body=f"The {kind} check-in ({checkin.period_label}) with {_name(checkin.rm)}, "
            f"planned for {_when(checkin)}, was not held. Plan the next conversation.",
        ),
    ]


def checkin_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Before each open check-in due within the lead time: a reminder to the RM and the
    leader; after each check-in missed in the last 30 days: an overdue notice to both.
    Each exactly once (module docstring). Returns how many notifications were new."""
    now = now or timezone.now()
    people = ("rm", "leader")
    coming = CheckIn.objects.filter(
        status__in=CheckIn.OPEN, scheduled_at__gt=now, scheduled_at__lte=now + lead_time()
    ).select_related(*people)
    missed = CheckIn.objects.filter(
        status=CheckIn.Status.MISSED,
        scheduled_at__gte=now - OVERDUE_NOTICE_WITHIN,
        scheduled_at__lte=now,
    ).select_related(*people)
    wanted = [n for c in coming.order_by("scheduled_at", "pk") for n in _before(c)]
    wanted += [n for c in missed.order_by("scheduled_at", "pk") for n in _overdue(c)]
    return notify([n for n in wanted if n.user.is_active])


# --- monthly report cards ------------------------------------------------------------------


def _improved_lines(leader: User, team: Team, plan_year, month: datetime.date) -> list[str]:
    from ..selectors.report_card import team_report_card

    card = team_report_card(leader, team, plan_year, month=month)
    if card.month != month:
        return []
    return [
        f"{e.rank}. {_name(e.rm)}: {e.before} → {e.after} ({e.change:+} points)"
        for e in card.improved_month[:MOST_IMPROVED_SHOWN]
    ]


def report_cards_issue(*, month: datetime.date | None = None) -> int:
    """Tell every active RM that their report card for `month` (default: the month just
    closed) is ready, and every leader their team's, with the team's most improved (top 3,
    month on month). Once per person and month (key `report-card:<yyyy-mm>`). Returns how
    many notifications were new."""
    from planning.models import PlanYear

    if month is None:
        month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    month = month.replace(day=1)
    key = f"report-card:{month:%Y-%m}"
    label = f"{month:%B %Y}"
    plan_year = PlanYear.objects.filter(starts_on__lte=month, ends_on__gte=month).first()
    query = f"?year={plan_year.year}&month={month:%Y-%m}" if plan_year else f"?month={month:%Y-%m}"
    active = User.objects.filter(is_active=True).exclude(departed_on__lt=month)

    if Notification.objects.filter(key=key).exists() and not _missing(active, key):
        return 0  # the usual rerun: everyone has theirs; spare the most-improved reading

    wanted = [
        Notification(
            user=rm,
            key=key,
            url=reverse("coaching:report_card") + query,
            subject=f"Your report card for {label} is ready",
            body=f"Your customers' ratings of {label} are in: your relationship-building "
            "score, its trend and the comments are on your report card.",
        )
        for rm in active.filter(role=Role.RM, team__isnull=False).order_by("pk")
    ]
    teams = defaultdict(list)
    for team in Team.objects.filter(leader__in=active).select_related("leader").order_by("pk"):
        teams[team.leader].append(team)
    for leader, led in teams.items():
        lines = []
        for team in led:
            improved = _improved_lines(leader, team, plan_year, month) if plan_year else []
            lines.append(f"{team.name}: most improved in {label}")
            lines += improved or ["(no one with enough ratings in both months)"]
        wanted.append(
            Notification(
                user=leader,
                key=key,
                url=reverse("coaching:team_report_card", args=[led[0].pk]) + query,
                subject=f"Your team's report card for {label} is ready",
                body=f"The report cards of {label} are ready.\n\n" + "\n".join(lines),
            )
        )
    return notify(wanted)


def _missing(active, key: str) -> bool:
    """Does anyone who should have the month's notification still lack it?"""
    should = active.filter(role=Role.RM, team__isnull=False) | active.filter(
        led_teams__isnull=False
    )
    return should.exclude(notifications__key=key).exists()
