"""The personal calendar feed: a secret link with the person's own check-ins and planned
activities as iCalendar, read back here with the icalendar package."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.models import ActivityStatus
from coaching.models import CheckIn
from coaching.services.calendar import calendar_feed_reset
from org.models import CalendarFeed

from ..factories import AccountFactory, ActivityFactory, CheckInFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
MONDAY = TODAY - datetime.timedelta(days=TODAY.weekday()) + datetime.timedelta(days=7)


def planned(account, *, rm=None, days=3, **extra):
    return ActivityFactory(
        account=account,
        rm=rm or account.owner,
        status=ActivityStatus.PLANNED,
        outcome="",
        date=TODAY + datetime.timedelta(days=days),
        **extra,
    )


def feed_url(user):
    feed = calendar_feed_reset(user=user)
    return reverse("coaching:calendar_ics", args=[feed.token])


def events_of(client, user) -> dict[str, object]:
    response = client.get(feed_url(user))
    assert response.status_code == 200
    cal = Calendar.from_ical(response.content)
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


# --- what the feed holds -------------------------------------------------------------------


def test_the_feed_holds_the_rms_check_ins_and_planned_activities(client, rm, account):
    checkin = CheckInFactory(rm=rm, period_start=MONDAY)
    visit = planned(account, kind="visit")

    events = events_of(client, rm)

    assert set(events) == {f"checkin-{checkin.pk}@flightpath", f"activity-{visit.pk}@flightpath"}
    c = events[f"checkin-{checkin.pk}@flightpath"]
    assert str(c["summary"]) == f"Weekly check-in with {rm.team.leader}"
    assert c.decoded("dtstart") == checkin.scheduled_at
    assert c.decoded("dtend") - c.decoded("dtstart") == datetime.timedelta(minutes=30)
    a = events[f"activity-{visit.pk}@flightpath"]
    assert str(a["summary"]) == f"Visit: {account.name}"
    assert a.decoded("dtstart") == visit.date  # a day, not a time
    assert account.get_absolute_url() in str(a["description"])


def test_a_leaders_feed_holds_the_check_ins_they_hold(client, leader, rm, teammate):
    mine = [CheckInFactory(rm=rm, period_start=MONDAY), CheckInFactory(rm=teammate)]
    mine[1].scheduled_at = timezone.now() + datetime.timedelta(days=2)
    mine[1].save()

    events = events_of(client, leader)

    assert set(events) == {f"checkin-{c.pk}@flightpath" for c in mine}
    assert str(events[f"checkin-{mine[0].pk}@flightpath"]["summary"]) == (
        f"Weekly check-in with {rm}"
    )


def test_another_persons_events_are_never_in_my_feed(
    client, rm, teammate, account, other_rm, other_leader
):
    CheckInFactory(rm=teammate, period_start=MONDAY)
    CheckInFactory(rm=other_rm, period_start=MONDAY)
    planned(AccountFactory(owner=teammate))
    planned(AccountFactory(owner=other_rm))
    # the teammate's visit on my account (I see it on the account page): still theirs
    planned(account, rm=teammate)

    assert events_of(client, rm) == {}


def test_a_joint_call_i_go_along_on_is_in_my_feed(client, rm, teammate):
    visit = planned(AccountFactory(owner=teammate))
    visit.participants.add(rm)

    events = events_of(client, rm)

    uid = f"activity-{visit.pk}@flightpath"
    assert list(events) == [uid]
    assert f"Joint call: {teammate} recorded it." in str(events[uid]["description"])


def test_done_activities_cancelled_check_ins_and_events_outside_the_window_are_left_out(
    client, rm, account
):
    ActivityFactory(account=account, status=ActivityStatus.DONE, date=TODAY)
    cancelled = CheckInFactory(rm=rm, period_start=MONDAY, status=CheckIn.Status.CANCELLED)
    cancelled.cancel_reason = "Holiday"
    cancelled.save()
    planned(account, days=181)
    planned(account, days=-31)
    kept = [planned(account, days=180), planned(account, days=-30)]

    events = events_of(client, rm)

    assert set(events) == {f"activity-{a.pk}@flightpath" for a in kept}


def test_uids_stay_the_same_from_one_fetch_to_the_next(client, rm, account):
    CheckInFactory(rm=rm, period_start=MONDAY)
    planned(account)
    url = feed_url(rm)

    first = Calendar.from_ical(client.get(url).content)
    second = Calendar.from_ical(client.get(url).content)

    assert [str(e["uid"]) for e in first.walk("VEVENT")] == [
        str(e["uid"]) for e in second.walk("VEVENT")
    ]


def test_times_are_in_the_banks_time_zone(client, settings, rm):
    settings.TIME_ZONE = "Europe/Zurich"
    timezone.activate("Europe/Zurich")
    try:
        checkin = CheckInFactory(rm=rm, period_start=MONDAY)
        response = client.get(feed_url(rm))
    finally:
        timezone.deactivate()

    cal = Calendar.from_ical(response.content)
    (event,) = cal.walk("VEVENT")
    assert event["dtstart"].params["TZID"] == "Europe/Zurich"
    assert event.decoded("dtstart").hour == 9  # 9:00 in Zurich, as scheduled
    assert event.decoded("dtstart") == checkin.scheduled_at
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Zurich"]


# --- the secret link -----------------------------------------------------------------------


def test_the_feed_needs_no_login_and_answers_text_calendar(client, rm):
    response = client.get(feed_url(rm))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.content.startswith(b"BEGIN:VCALENDAR")
    assert b"PRODID:-//Flightpath//Calendar feed//EN" in response.content


def test_an_unknown_token_is_404(client, rm):
    calendar_feed_reset(user=rm)

    response = client.get(reverse("coaching:calendar_ics", args=["not-a-token"]))

    assert response.status_code == 404


def test_resetting_the_link_makes_the_old_one_404(client, rm):
    old = feed_url(rm)

    new = feed_url(rm)

    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert CalendarFeed.objects.filter(user=rm).count() == 1


def test_the_feed_of_someone_who_has_left_is_404(client, rm):
    url = feed_url(rm)
    rm.is_active = False
    rm.save()

    assert client.get(url).status_code == 404


# --- the page --------------------------------------------------------------------------------


def test_the_page_is_reached_from_the_user_name_in_the_menu(client, rm):
    client.force_login(rm)

    text = client.get(reverse("accounts:book")).text

    assert f'href="{reverse("coaching:calendar_feed")}"' in text


def test_the_page_creates_the_link_and_shows_it_with_copy_and_reset(client, rm):
    client.force_login(rm)
    assert 'id="create-feed"' in client.get(reverse("coaching:calendar_feed")).text

    response = client.post(reverse("coaching:calendar_feed_reset"), follow=True)

    token = CalendarFeed.objects.get(user=rm).token
    assert f"/coaching/calendar/{token}.ics" in response.text
    assert 'id="copy-feed-url"' in response.text
    assert 'id="reset-feed"' in response.text


def test_resetting_from_the_page_replaces_the_token_and_says_so(client, rm):
    old = calendar_feed_reset(user=rm).token
    client.force_login(rm)

    response = client.post(reverse("coaching:calendar_feed_reset"), follow=True)

    assert CalendarFeed.objects.get(user=rm).token != old
    assert "no longer receive updates" in response.text


def test_the_page_needs_a_login(client):
    response = client.get(reverse("coaching:calendar_feed"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_page_shows_only_my_own_link(client, rm, teammate):
    theirs = calendar_feed_reset(user=teammate).token
    client.force_login(rm)

    assert theirs not in client.get(reverse("coaching:calendar_feed")).text


def test_reset_is_post_only(client, rm):
    client.force_login(rm)

    assert client.get(reverse("coaching:calendar_feed_reset")).status_code == 405


# --- query count: the same for few and many events -----------------------------------------

# feed by token (with its user), check-ins (with RM, team, cadence, leader), planned
# activities (with account, contact, RM).
FEED_QUERIES = 3


@pytest.mark.parametrize("rows", [2, 40])
def test_the_feed_query_count_does_not_grow_with_events(
    client, rm, account, rows, django_assert_num_queries
):
    for i in range(rows):
        CheckInFactory(rm=rm, period_start=MONDAY + datetime.timedelta(days=i))
        planned(account, days=i % 90)
    url = feed_url(rm)

    with django_assert_num_queries(FEED_QUERIES):
        response = client.get(url)

    assert len(Calendar.from_ical(response.content).walk("VEVENT")) == 2 * rows
