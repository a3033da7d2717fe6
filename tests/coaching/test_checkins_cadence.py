"""Check-ins created from a team's cadence: which kind after which month, the horizon, no
duplicates, weekends, missed ones, and the create_checkins command (docs/checkins.md)."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from coaching.models import CheckIn
from coaching.services.checkins import (
    checkins_create_all,
    checkins_create_coming,
    checkins_create_for_team,
    checkins_mark_missed,
    occurrences,
)
from tests.factories import CadenceFactory, CheckInFactory, RmFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2027, 3, 1)


def at(day, hour=9, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def reviews(cadence, year=2027):
    """The reviews held from February of `year` to January of the next: {month held: o}."""
    found = occurrences(cadence, datetime.date(year, 2, 1), datetime.date(year + 1, 1, 31))
    return {o.when.date().month: o for o in found if o.kind != CheckIn.Kind.WEEKLY}


# --- kinds by month ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("held_in", "kind", "period_start", "period_end"),
    [
        (2, "monthly", datetime.date(2027, 1, 1), datetime.date(2027, 1, 31)),
        (3, "monthly", datetime.date(2027, 2, 1), datetime.date(2027, 2, 28)),
        (4, "quarterly", datetime.date(2027, 1, 1), datetime.date(2027, 3, 31)),
        (5, "monthly", datetime.date(2027, 4, 1), datetime.date(2027, 4, 30)),
        (7, "semi_annual", datetime.date(2027, 1, 1), datetime.date(2027, 6, 30)),
        (10, "quarterly", datetime.date(2027, 7, 1), datetime.date(2027, 9, 30)),
        (1, "semi_annual", datetime.date(2027, 7, 1), datetime.date(2027, 12, 31)),
    ],
)
def test_the_review_after_a_month_end_is_the_largest_conversation_due(
    team, held_in, kind, period_start, period_end
):
    review = reviews(CadenceFactory(team=team))[held_in]
    assert (review.kind, review.period_start, review.period_end) == (
        kind,
        period_start,
        period_end,
    )


def test_a_team_without_semi_annual_reviews_holds_a_quarterly_one_after_june(team):
    review = reviews(CadenceFactory(team=team, semi_annual=False))[7]
    assert (review.kind, review.period_start) == ("quarterly", datetime.date(2027, 4, 1))


def test_a_team_without_monthly_reviews_holds_only_quarterly_and_semi_annual_ones(team):
    held = reviews(CadenceFactory(team=team, monthly=False))
    assert sorted(held) == [1, 4, 7, 10]


def test_reviews_are_held_on_the_cadences_day_at_its_time(team):
    review = reviews(CadenceFactory(team=team, monthly_day=12))[3]
    assert review.when == at(datetime.date(2027, 3, 12), 14)


def test_a_review_falling_on_a_weekend_is_held_the_monday_after(team):
    # 5 June 2027 is a Saturday, 5 September a Sunday.
    held = reviews(CadenceFactory(team=team))
    assert held[6].when.date() == datetime.date(2027, 6, 7)
    assert held[9].when.date() == datetime.date(2027, 9, 6)


def test_weekly_check_ins_cover_monday_to_sunday_and_are_held_on_the_cadences_day(team):
    cadence = CadenceFactory(team=team, weekly_day=2, weekly_time=datetime.time(8, 30))
    weekly = [
        o
        for o in occurrences(cadence, MONDAY, MONDAY + datetime.timedelta(days=13))
        if o.kind == CheckIn.Kind.WEEKLY
    ]
    assert [(o.period_start, o.period_end, o.when) for o in weekly] == [
        (MONDAY, datetime.date(2027, 3, 7), at(datetime.date(2027, 3, 3), 8, 30)),
        (
            datetime.date(2027, 3, 8),
            datetime.date(2027, 3, 14),
            at(datetime.date(2027, 3, 10), 8, 30),
        ),
    ]


# --- creating them -----------------------------------------------------------------------------


def test_coming_check_ins_are_created_for_every_rm_up_to_the_horizon(team, rm, teammate):
    created = checkins_create_coming(team=team, today=MONDAY)
    # 1 Mar to 5 Apr: six Mondays, February's monthly review on 5 Mar, Q1's on 5 Apr.
    assert created == 16
    kinds = sorted(CheckIn.objects.filter(rm=rm).values_list("kind", flat=True))
    assert kinds == ["monthly", "quarterly"] + ["weekly"] * 6
    assert set(CheckIn.objects.values_list("leader", flat=True)) == {team.leader_id}


def test_creating_twice_creates_nothing_twice(team, rm):
    first = checkins_create_coming(team=team, today=MONDAY)
    second = checkins_create_coming(team=team, today=MONDAY)
    later = checkins_create_coming(team=team, today=MONDAY + datetime.timedelta(days=7))
    assert (first, second, later) == (8, 0, 1)  # a week later: one more Monday comes in
    assert CheckIn.objects.filter(rm=rm).count() == 9


def test_the_horizon_limits_how_far_ahead_check_ins_are_created(team, rm):
    CadenceFactory(team=team, horizon_days=7)
    checkins_create_coming(team=team, today=MONDAY)
    days = sorted(d.date() for d in CheckIn.objects.values_list("scheduled_at", flat=True))
    assert days == [MONDAY, datetime.date(2027, 3, 5), datetime.date(2027, 3, 8)]


def test_an_existing_check_in_is_kept_not_duplicated(team, rm, leader):
    kept = CheckInFactory(rm=rm, period_start=MONDAY, status="in_progress")
    checkins_create_coming(team=team, today=MONDAY)
    assert CheckIn.objects.filter(rm=rm, kind="weekly", period_start=MONDAY).get() == kept


def test_departed_and_inactive_rms_get_no_check_ins(team, rm):
    RmFactory(team=team, departed_on=datetime.date(2027, 1, 31), username="gone")
    RmFactory(team=team, is_active=False, username="inactive")
    checkins_create_coming(team=team, today=MONDAY)
    assert set(CheckIn.objects.values_list("rm__username", flat=True)) == {rm.username}


def test_a_team_without_a_leader_gets_no_check_ins(team, rm):
    team.leader = None
    team.save()
    assert checkins_create_coming(team=team, today=MONDAY) == 0


def test_create_all_covers_every_team(rm, other_rm):
    assert checkins_create_all(today=MONDAY) == 16
    assert set(CheckIn.objects.values_list("rm", flat=True)) == {rm.pk, other_rm.pk}


def test_only_the_teams_leader_creates_its_check_ins_from_the_button(team, rm, other_leader):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        checkins_create_for_team(team_id=team.pk, by=other_leader, today=MONDAY)
    with pytest.raises(PermissionDenied):
        checkins_create_for_team(team_id=team.pk, by=rm, today=MONDAY)
    assert checkins_create_for_team(team_id=team.pk, by=team.leader, today=MONDAY) == 8


# --- missed ------------------------------------------------------------------------------------


def test_a_check_in_still_open_a_week_after_its_time_is_missed(rm):
    old = CheckInFactory(rm=rm, period_start=datetime.date(2027, 3, 1))
    recent = CheckInFactory(rm=rm, period_start=datetime.date(2027, 3, 8))
    held = CheckInFactory(
        rm=rm,
        period_start=datetime.date(2027, 2, 22),
        status="completed",
        completed_at=at(datetime.date(2027, 2, 22)),
        snapshot={},
    )
    assert checkins_mark_missed(now=at(datetime.date(2027, 3, 9), 10)) == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    held.refresh_from_db()
    assert (old.status, recent.status, held.status) == ("missed", "scheduled", "completed")


# --- the command -------------------------------------------------------------------------------


def test_create_checkins_command_creates_marks_missed_and_says_how_many(team, rm):
    overdue = CheckInFactory(rm=rm, period_start=datetime.date(2027, 2, 15))
    out = StringIO()
    call_command("create_checkins", "--today", "2027-03-01", stdout=out)
    assert "8 check-in(s) created" in out.getvalue()
    assert "1 marked missed" in out.getvalue()
    overdue.refresh_from_db()
    assert overdue.status == "missed"


def test_create_checkins_command_run_twice_creates_nothing_the_second_time(team, rm):
    call_command("create_checkins", "--today", "2027-03-01", stdout=StringIO())
    out = StringIO()
    call_command("create_checkins", "--today", "2027-03-01", stdout=out)
    assert out.getvalue().startswith("0 check-in(s) created")
    assert CheckIn.objects.count() == 8


def test_create_checkins_command_refuses_a_malformed_day(team):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("create_checkins", "--today", "1 March", stdout=StringIO())


def test_an_rm_who_is_leaving_gets_no_check_ins_after_their_last_day(team):
    leaving = RmFactory(team=team, departed_on=datetime.date(2027, 3, 10), username="leaving")
    checkins_create_coming(team=team, today=MONDAY)
    days = sorted(d.date() for d in leaving.checkins.values_list("scheduled_at", flat=True))
    assert days == [MONDAY, datetime.date(2027, 3, 5), datetime.date(2027, 3, 8)]
