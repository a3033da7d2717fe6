"""Reading activities: My week, the activity lists, the log form's choices. Every function
starts from what the user may see (org.access.visible_activities / visible_accounts)."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import Account, Activity, ActivityKind, ActivityStatus
from org.access import visible_accounts, visible_activities
from org.models import RmStyle, User

# Activity kinds as the standard counts them: a meeting is a visit (docs/metrics.md). The
# check-in's figures read the same table. (key, label, kinds, ActivityStandard field,
# singular and plural words for the gap sentence)
STANDARD_MEASURES = (
    ("calls", "Calls", (ActivityKind.CALL,), "calls_per_week"),
    (
        "visits",
        "Visits and meetings",
        (ActivityKind.VISIT, ActivityKind.MEETING),
        "visits_per_week",
    ),
    ("reviews", "Reviews", (ActivityKind.REVIEW,), "reviews_per_week"),
)
WORDS = {
    "calls": ("call", "calls"),
    "visits": ("visit", "visits"),
    "reviews": ("review", "reviews"),
}
WEEKEND = 5  # Saturday's weekday()


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of `day`'s week."""
    return day - datetime.timedelta(days=day.weekday())


def parse_week(value: str | None, today: datetime.date) -> datetime.date:
    """The Monday of the week `?week=YYYY-MM-DD` names (any day of it); this week when
    the value is missing or no date."""
    try:
        return week_start(datetime.date.fromisoformat(value)) if value else week_start(today)
    except ValueError:
        return week_start(today)


def activity_rows(user: User) -> QuerySet[Activity]:
    """Activities `user` sees, with what a row shows."""
    return (
        visible_activities(user)
        .select_related("account", "rm", "contact")
        .prefetch_related(Prefetch("participants", queryset=User.objects.order_by("username")))
    )


def loggable_accounts(user: User) -> QuerySet[Account]:
    """The accounts `user` may log an activity on: those they see and own or cover."""
    return (
        visible_accounts(user)
        .filter(Q(owner=user) | Q(covering_rm=user))
        .only("pk", "name", "number", "owner_id", "covering_rm_id")
        .order_by("name", "pk")
    )


def account_label(account: Account) -> str:
    """How the log form's account field shows an account (and reads it back)."""
    return f"{account.name} ({account.number})"


# --- My week ---------------------------------------------------------------------------------


@dataclass
class Measure:
    key: str
    label: str
    done: int
    planned: int
    standard: Decimal | None

    @property
    def short(self) -> int:
        """Activities still to do to reach the standard (a standard of 2.5 needs 3)."""
        if self.standard is None or self.done >= self.standard:
            return 0
        return math.ceil(self.standard - self.done)

    @property
    def short_with_planned(self) -> int:
        if self.standard is None or self.done + self.planned >= self.standard:
            return 0
        return math.ceil(self.standard - self.done - self.planned)


@dataclass
class Day:
    date: datetime.date
    is_today: bool
    activities: list[Activity] = field(default_factory=list)


@dataclass
class Week:
    start: datetime.date
    end: datetime.date
    today: datetime.date
    days: list[Day]
    measures: list[Measure]
    style: str
    has_standard: bool
    follow_ups: list[Activity]

    @property
    def previous(self) -> datetime.date:
        return self.start - datetime.timedelta(days=7)

    @property
    def next(self) -> datetime.date:
        return self.start + datetime.timedelta(days=7)

    @property
    def is_current(self) -> bool:
        return self.start <= self.today <= self.end

    @property
    def is_past(self) -> bool:
        return self.end < self.today

    @property
    def done(self) -> int:
        return sum(m.done for m in self.measures)

    @property
    def planned(self) -> int:
        return sum(m.planned for m in self.measures)

    @property
    def standard(self) -> Decimal | None:
        return sum(m.standard for m in self.measures) if self.has_standard else None

    @property
    def on_standard(self) -> bool:
        return self.has_standard and not any(m.short for m in self.measures)

    @property
    def gap(self) -> str:
        """The gap in words (docs/metrics.md): "2 visits short of the standard this week"
        or "On standard this week"."""
        when = "that week" if self.is_past else "this week"
        if not self.has_standard:
            return f"No activity standard for {self.style.lower()}s this plan year."
        return gap_words([(m.key, m.short) for m in self.measures], when)

    @property
    def gap_with_planned(self) -> str | None:
        """What the plans would make of the gap, for this week and weeks ahead."""
        if not self.has_standard or self.is_past or not self.planned:
            return None
        shorts = [(m.key, m.short_with_planned) for m in self.measures]
        if not any(n for _, n in shorts):
            return "With what is planned: on standard."
        return "With what is planned: " + gap_words(shorts, "").rstrip() + "."


def gap_words(shorts: list[tuple[str, int]], when: str) -> str:
    parts = [f"{n} {WORDS[key][n != 1]}" for key, n in shorts if n]
    if not parts:
        return f"On standard {when}".rstrip()
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{listed} short of the standard {when}".rstrip()


def my_week(user: User, start: datetime.date, *, today: datetime.date, standard=None) -> Week:
    """The RM's planned and done activities of the week starting `start` (a Monday), day
    by day, against `standard` (the plan year's ActivityStandard for the RM's style, or
    None), and the follow-ups due by the week's end. Three queries."""
    end = start + datetime.timedelta(days=6)
    activities = list(
        activity_rows(user).filter(rm=user, date__gte=start, date__lte=end).order_by("date", "pk")
    )
    by_day: dict[datetime.date, list[Activity]] = {}
    for a in activities:
        by_day.setdefault(a.date, []).append(a)
    days = [
        Day(day, day == today, by_day.get(day, []))
        for day in (start + datetime.timedelta(days=i) for i in range(7))
        # Saturday and Sunday only when something happened or is planned then.
        if day.weekday() < WEEKEND or day in by_day
    ]
    measures = []
    for key, label, kinds, standard_field in STANDARD_MEASURES:
        of_kind = [a for a in activities if a.kind in kinds]
        measures.append(
            Measure(
                key,
                label,
                done=sum(1 for a in of_kind if a.status == ActivityStatus.DONE),
                planned=sum(1 for a in of_kind if a.status == ActivityStatus.PLANNED),
                standard=getattr(standard, standard_field) if standard else None,
            )
        )
    follow_ups = list(
        visible_activities(user)
        .filter(
            rm=user,
            next_step_due__isnull=False,
            next_step_done_on__isnull=True,
            next_step_due__lte=end,
        )
        .select_related("account")
        .order_by("next_step_due", "pk")
    )
    style = RmStyle(user.rm_style or RmStyle.BOTH).label
    return Week(start, end, today, days, measures, style, standard is not None, follow_ups)
