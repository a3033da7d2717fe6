"""Downloads of the check-in lists: This week (the leader's team, one line per check-in the
page shows) and My check-ins (`?list=checkins`, the RM's own). Only what the user sees,
dates with their time, queries fixed."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from coaching.models import CheckIn
from coaching.selectors.checkins import week_of
from tests.factories import CheckInFactory, RmFactory

from .download import column, fetch, filename, get_csv, get_xlsx, queries, xlsx_rows

pytestmark = pytest.mark.django_db

THIS_WEEK = reverse("coaching:this_week")
MY_CHECKINS = reverse("coaching:my_checkins")
DAY = datetime.timedelta(days=1)


def monday():
    return week_of(timezone.localdate())[0]


def checkin_on(rm, day, hour=9, **fields):
    return CheckInFactory(
        rm=rm,
        period_start=day,
        scheduled_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour))),
        **fields,
    )


# --- This week ---------------------------------------------------------------------------------


def test_this_week_download_lists_the_teams_checkins_under_the_pages_headings(
    client, leader, rm, teammate, other_rm
):
    checkin_on(rm, monday())
    checkin_on(rm, monday() - 14 * DAY)  # still scheduled: overdue
    checkin_on(teammate, monday() + 7 * DAY)  # next week: next
    checkin_on(other_rm, monday())
    rows = get_csv(client, leader, THIS_WEEK)
    assert rows[0] == [
        "RM",
        "Team",
        "Style",
        "Shown as",
        "Check-in",
        "Period",
        "Scheduled",
        "Status",
    ]
    shown = sorted(zip(column(rows, "RM"), column(rows, "Shown as"), strict=True))
    assert shown == sorted([(str(rm), "This week"), (str(rm), "Overdue"), (str(teammate), "Next")])


def test_this_week_download_names_an_rm_without_checkins(client, leader, rm):
    rows = get_csv(client, leader, THIS_WEEK)
    assert column(rows, "Shown as") == ["Nothing this week"]


def test_this_week_download_writes_the_time_in_local_time(client, leader, rm):
    checkin_on(rm, monday(), hour=14)
    (when,) = column(get_csv(client, leader, THIS_WEEK), "Scheduled")
    assert when == f"{monday():%Y-%m-%d} 14:00"


def test_this_week_in_excel_has_dates_with_their_time(client, leader, rm):
    checkin_on(rm, monday(), hour=14)
    rows = xlsx_rows(get_xlsx(client, leader, THIS_WEEK))
    assert column(rows, "Scheduled") == [datetime.datetime.combine(monday(), datetime.time(14))]
    assert column(rows, "Check-in") == ["Weekly check-in"]


def test_this_week_download_is_named_after_the_week(client, leader, rm):
    response = fetch(client, leader, THIS_WEEK, "xlsx")
    assert filename(response) == f"this-week-{monday()}.xlsx"


def test_an_rm_gets_403_on_the_this_week_download(client, rm):
    client.force_login(rm)
    assert client.get(THIS_WEEK, {"format": "csv"}).status_code == 403


def test_this_week_download_queries_do_not_grow_with_rms(client, leader, team):
    client.force_login(leader)
    for _ in range(2):
        checkin_on(RmFactory(team=team), monday())
    few = queries(client, THIS_WEEK, "csv")
    for _ in range(20):
        checkin_on(RmFactory(team=team), monday())
    assert queries(client, THIS_WEEK, "csv") == few == 5  # session, user, teams, RMs, check-ins


def test_this_week_page_offers_both_downloads(client, leader):
    client.force_login(leader)
    body = client.get(THIS_WEEK).content.decode()
    assert f'href="{THIS_WEEK}?format=csv"' in body
    assert f'href="{THIS_WEEK}?format=xlsx"' in body


# --- My check-ins ------------------------------------------------------------------------------


def test_my_checkins_download_lists_the_rms_own_upcoming_then_past(client, rm, other_rm):
    past = checkin_on(rm, monday() - 21 * DAY, status=CheckIn.Status.CANCELLED)
    coming = checkin_on(rm, monday() + 7 * DAY)
    checkin_on(other_rm, monday())
    rows = get_csv(client, rm, MY_CHECKINS, list="checkins")
    assert rows[0] == ["Check-in", "Period", "Scheduled", "With", "Status", "Acknowledged"]
    assert column(rows, "Period") == [coming.period_label, past.period_label]
    assert column(rows, "Status") == ["Scheduled", "Cancelled"]


def test_my_checkins_in_excel_have_their_leader(client, rm, leader):
    checkin_on(rm, monday())
    rows = xlsx_rows(get_xlsx(client, rm, MY_CHECKINS, list="checkins"))
    assert column(rows, "With") == [str(leader)]


def test_my_checkins_download_queries_do_not_grow_with_checkins(client, rm):
    client.force_login(rm)
    for week in range(2):
        checkin_on(rm, monday() + 7 * week * DAY)
    few = queries(client, MY_CHECKINS, "xlsx", list="checkins")
    for week in range(2, 30):
        checkin_on(rm, monday() + 7 * week * DAY)
    assert queries(client, MY_CHECKINS, "xlsx", list="checkins") == few == 4


def test_my_checkins_page_offers_the_checkins_and_the_commitments_downloads(client, rm):
    checkin_on(rm, monday())
    client.force_login(rm)
    body = client.get(MY_CHECKINS).content.decode()
    assert f'href="{MY_CHECKINS}?list=checkins&amp;format=xlsx"' in body
    assert 'id="checkins-csv"' in body
