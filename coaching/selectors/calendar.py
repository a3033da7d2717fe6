"""The personal calendar feed: a person's check-ins and planned activities as iCalendar
(RFC 5545), for Outlook or any calendar to subscribe to (docs/account-page.md).

    feed_by_token(token)                       the CalendarFeed, or None (the view's 404)
    feed_events(user, *, today)                what the feed holds for `user`
    feed_calendar(user, *, today, url_for)     the iCalendar file, bytes

Only the person's own events: the check-ins where they are the RM or the leader who holds
them, and the planned activities they recorded or go along on (a joint call). Both start
from org.access. Two queries for the events, whatever their number.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from icalendar import Calendar, Event

from accounts.models import Activity, ActivityStatus
from org.access import visible_activities, visible_checkins
from org.models import CalendarFeed, User

from ..models import CheckIn
from .checkins import checkin_name

# The window the feed carries: recent history for context, the half year ahead to plan.
DAYS_BACK = 30
DAYS_AHEAD = 180
# A check-in lasts as long as its team's cadence says; this when the team has none.
DEFAULT_MINUTES = 30
# How often a subscribed calendar should fetch the feed again.
REFRESH = datetime.timedelta(hours=1)
UID_DOMAIN = "flightpath"
PRODID = "-//Flightpath//Calendar feed//EN"


def feed_by_token(token: str) -> CalendarFeed | None:
    """The feed whose secret `token` is, for an active user; None otherwise. A unique
    index lookup: the database compares the whole token, and an unknown one finds nothing."""
    if not token or len(token) > CalendarFeed._meta.get_field("token").max_length:
        return None
    return (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .first()
    )


@dataclass(frozen=True)
class FeedEvents:
    start: datetime.date
    end: datetime.date
    checkins: list[CheckIn]
    activities: list[Activity]


def feed_events(user: User, *, today: datetime.date | None = None) -> FeedEvents:
    """The user's check-ins (as RM or as the leader holding them; cancelled ones left out)
    and planned activities (recorded by them or joined), DAYS_BACK before `today` to
    DAYS_AHEAD after it. Two queries."""
    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=DAYS_BACK)
    end = today + datetime.timedelta(days=DAYS_AHEAD)
    tz = timezone.get_current_timezone()
    checkins = list(
        visible_checkins(user)
        .filter(Q(rm=user) | Q(leader=user))
        .exclude(status=CheckIn.Status.CANCELLED)
        .filter(
            scheduled_at__gte=datetime.datetime.combine(start, datetime.time.min, tz),
            scheduled_at__lt=datetime.datetime.combine(
                end + datetime.timedelta(days=1), datetime.time.min, tz
            ),
        )
        .select_related("rm__team__cadence", "leader")
        .order_by("scheduled_at", "pk")
    )
    joined = Activity.participants.through.objects.filter(user=user).values("activity_id")
    activities = list(
        visible_activities(user)
        .filter(Q(rm=user) | Q(pk__in=joined))
        .filter(status=ActivityStatus.PLANNED, date__gte=start, date__lte=end)
        .select_related("account", "contact", "rm")
        .order_by("date", "pk")
    )
    return FeedEvents(start=start, end=end, checkins=checkins, activities=activities)


def _minutes(checkin: CheckIn) -> int:
    team = checkin.rm.team
    cadence = getattr(team, "cadence", None) if team else None
    return cadence.duration_minutes if cadence else DEFAULT_MINUTES


def _checkin_event(checkin: CheckIn, user: User, tz, url_for, stamp) -> Event:
    event = Event()
    event.add("uid", f"checkin-{checkin.pk}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    start = checkin.scheduled_at.astimezone(tz)
    event.add("dtstart", start)
    event.add("dtend", start + datetime.timedelta(minutes=_minutes(checkin)))
    other = checkin.leader if checkin.rm_id == user.pk else checkin.rm
    event.add("summary", f"{checkin_name(checkin)} with {other}")
    lines = [f"{checkin_name(checkin)} of {checkin.rm}, {checkin.period_label}."]
    if checkin.status != CheckIn.Status.SCHEDULED:
        lines.append(f"Status: {checkin.get_status_display()}.")
    url = url_for(checkin.get_absolute_url())
    lines.append(url)
    event.add("description", "\n".join(lines))
    event.add("url", url)
    event.add("sequence", checkin.version)
    event.add("categories", ["Check-in"])
    return event


def _activity_event(activity: Activity, user: User, url_for, stamp) -> Event:
    event = Event()
    event.add("uid", f"activity-{activity.pk}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    # A planned activity has a day, not a time: an all-day event.
    event.add("dtstart", activity.date)
    event.add("dtend", activity.date + datetime.timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    event.add("summary", f"{activity.get_kind_display()}: {activity.account.name}")
    lines = [f"Planned {activity.get_kind_display().lower()} with {activity.account.name}."]
    if activity.contact_id:
        lines.append(f"Contact: {activity.contact.name}.")
    if activity.rm_id != user.pk:
        lines.append(f"Joint call: {activity.rm} recorded it.")
    if activity.next_step:
        lines.append(f"Next step: {activity.next_step}.")
    url = url_for(activity.account.get_absolute_url())
    lines.append(url)
    event.add("description", "\n".join(lines))
    event.add("url", url)
    event.add("sequence", activity.version)
    event.add("categories", ["Activity"])
    return event


def feed_calendar(
    user: User,
    *,
    today: datetime.date | None = None,
    url_for: Callable[[str], str] = lambda path: path,
    now: datetime.datetime | None = None,
) -> bytes:
    """The user's feed as an iCalendar file. Times are in the bank's time zone
    (TIME_ZONE, with its VTIMEZONE); UIDs are stable (the record's kind and id), so a
    calendar updates an event rather than adding it twice; SEQUENCE is the record's
    version. `url_for` makes a page's path absolute for the links in the events."""
    events = feed_events(user, today=today)
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    stamp = (now or timezone.now()).astimezone(datetime.UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Flightpath · {user.get_full_name() or user.username}")
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH)
    for checkin in events.checkins:
        cal.add_component(_checkin_event(checkin, user, tz, url_for, stamp))
    for activity in events.activities:
        cal.add_component(_activity_event(activity, user, url_for, stamp))
    cal.add_missing_timezones(first_date=events.start, last_date=events.end)
    return cal.to_ical()


def feed_of(user: User) -> CalendarFeed | None:
    """The user's own feed, if they have created one."""
    return CalendarFeed.objects.filter(user=user).first()
