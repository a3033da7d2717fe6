"""Check-in adherence: the share of check-ins due that were held on time, per leader and
per RM, on the leader's team overview and the executive's bank overview
(docs/checkins.md)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from coaching.models import Cadence
from coaching.selectors.checkins import Adherence, adherence, adherence_by_rm
from tests.factories import CadenceFactory, CheckInFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2027, 4, 1, 12, 0))


def day(month, d, hour=9):
    return timezone.make_aware(datetime.datetime(2027, month, d, hour))


def checkin(rm, scheduled, status="scheduled", completed=None):
    return CheckInFactory(
        rm=rm,
        period_start=scheduled.date(),
        scheduled_at=scheduled,
        status=status,
        completed_at=completed,
        snapshot={} if status == "completed" else None,
    )


@pytest.fixture
def example(rm, teammate, other_rm):
    """The worked example of docs/checkins.md, judged on 1 April 2027 at noon."""
    checkin(rm, day(3, 1), "completed", day(3, 1, 10))  # held on the day
    checkin(rm, day(3, 8), "completed", day(3, 14, 9))  # held six days late: on time
    checkin(rm, day(3, 15), "completed", day(3, 22, 10))  # a week and an hour: late
    checkin(rm, day(2, 1), "missed")  # missed
    checkin(teammate, day(2, 8), "cancelled")  # cancelled: not due
    checkin(teammate, day(3, 29))  # open, within its week: not judged yet
    checkin(teammate, day(3, 22))  # open, its week over: due, not held
    checkin(teammate, day(3, 30), "completed", day(3, 30, 10))  # held
    checkin(teammate, day(3, 2), "completed", day(3, 3, 9))  # held
    checkin(rm, timezone.make_aware(datetime.datetime(2026, 12, 1, 9)), "completed", day(1, 1))
    checkin(rm, day(4, 5))  # to come
    checkin(other_rm, day(3, 1), "completed", day(3, 1, 10))  # another leader's


def test_adherence_per_leader_on_a_hand_computed_example(example, leader, executive):
    # Due: 4 of rm's and 3 of the teammate's = 7; held on time: 2 + 2 = 4; 4 / 7 = 57 %.
    result = adherence(executive, leader=leader, now=NOW)
    assert (result.due, result.held, result.pct) == (7, 4, 57)


def test_adherence_per_rm_on_a_hand_computed_example(example, leader, team, rm, teammate):
    per_rm = adherence_by_rm(leader, team=team, now=NOW)
    assert (per_rm[rm.pk].due, per_rm[rm.pk].held, per_rm[rm.pk].pct) == (4, 2, 50)
    assert (per_rm[teammate.pk].due, per_rm[teammate.pk].held, per_rm[teammate.pk].pct) == (
        3,
        2,
        67,
    )


def test_another_leaders_check_ins_do_not_count(example, other_leader, executive):
    result = adherence(executive, leader=other_leader, now=NOW)
    assert (result.due, result.held) == (1, 1)


def test_a_leader_sees_only_their_own_teams_adherence(example, leader, other_leader):
    assert adherence(leader, leader=other_leader, now=NOW) == Adherence()


def test_no_check_in_due_is_no_figure_not_zero():
    assert Adherence(due=0, held=0).pct is None


# --- on the overviews -------------------------------------------------------------------------


def _recent(rm, days_ago, status, completed_after=None):
    when = timezone.now() - datetime.timedelta(days=days_ago)
    completed = when + completed_after if completed_after is not None else None
    return checkin(rm, when, status, completed)


@pytest.fixture
def recent(rm, teammate, other_rm):
    _recent(rm, 14, "completed", datetime.timedelta(hours=1))
    _recent(rm, 21, "missed")
    _recent(teammate, 28, "completed", datetime.timedelta(days=2))
    _recent(teammate, 35, "completed", datetime.timedelta(days=9))  # late
    _recent(other_rm, 14, "completed", datetime.timedelta(hours=1))


def test_the_team_overview_shows_the_leaders_adherence_and_each_rms(
    client, leader, team, rm, teammate, recent
):
    client.force_login(leader)
    response = client.get(reverse("org:team", args=[team.pk]))
    figures = response.context["adherence"]
    assert (figures.total.due, figures.total.held, figures.total.pct) == (4, 2, 50)
    assert {r.username: (a.due, a.held) for r, a in figures.by_rm} == {
        rm.username: (2, 1),
        teammate.username: (2, 1),
    }
    assert "50&nbsp;%" in response.text


def test_the_bank_overview_shows_each_leaders_adherence(
    client, executive, leader, other_leader, recent
):
    client.force_login(executive)
    lines = {
        line.leader: line.adherence for line in client.get(reverse("org:bank")).context["adherence"]
    }
    assert (lines[leader].due, lines[leader].held, lines[leader].pct) == (4, 2, 50)
    assert (lines[other_leader].due, lines[other_leader].pct) == (1, 100)


# --- what the cadence required, created or not (issue 13) -------------------------------------


def weekly_cadence(team, known_since):
    """Weekly on Mondays at 9:00, no monthly reviews; known (first recorded) on `known_since`."""
    cadence = CadenceFactory(
        team=team, weekly=True, monthly=False, quarterly=False, semi_annual=False
    )
    Cadence.history.filter(id=cadence.pk).update(history_date=known_since)
    return cadence


LONG_AGO = timezone.make_aware(datetime.datetime(2026, 6, 1, 9))


def test_a_required_check_in_never_created_counts_as_due_and_not_held(leader, team, rm, teammate):
    # On 1 April 2027 at noon the 13 weeks begin on 31 Dec 2026 at noon; a Monday check-in
    # is judged once its week is over (before 25 March noon): 4 Jan ... 22 Mar, 12 Mondays.
    weekly_cadence(team, LONG_AGO)
    checkin(rm, day(3, 1), "completed", day(3, 1, 10))  # the only one ever created
    per_rm = adherence_by_rm(leader, team=team, now=NOW)
    # Counting only what exists, rm read 1 of 1 = 100 % and the teammate had no figure.
    assert (per_rm[rm.pk].due, per_rm[rm.pk].held, per_rm[rm.pk].pct) == (12, 1, 8)
    assert (per_rm[teammate.pk].due, per_rm[teammate.pk].held, per_rm[teammate.pk].pct) == (
        12,
        0,
        0,
    )
    result = adherence(leader, leader=leader, now=NOW)
    assert (result.due, result.held, result.pct) == (24, 1, 4)


def test_nothing_is_required_before_the_cadence_was_first_known(leader, team, rm):
    # Known since 1 March 2027 (a bank going live then is not judged on January).
    weekly_cadence(team, timezone.make_aware(datetime.datetime(2027, 3, 1, 8)))
    checkin(rm, day(3, 1), "completed", day(3, 1, 10))
    per_rm = adherence_by_rm(leader, team=team, now=NOW)
    # 1, 8, 15 and 22 March: 4 due, 1 held.
    assert (per_rm[rm.pk].due, per_rm[rm.pk].held) == (4, 1)


def test_the_teams_first_check_in_makes_the_cadence_known_when_it_has_no_record(leader, team, rm):
    cadence = weekly_cadence(team, LONG_AGO)
    Cadence.history.filter(id=cadence.pk).delete()  # e.g. created without history
    checkin(rm, day(3, 15), "completed", day(3, 15, 10))
    per_rm = adherence_by_rm(leader, team=team, now=NOW)
    assert (per_rm[rm.pk].due, per_rm[rm.pk].held) == (2, 1)  # 15 and 22 March


def test_a_leaver_is_not_required_after_their_last_day(leader, team, rm):
    weekly_cadence(team, LONG_AGO)
    rm.departed_on = datetime.date(2027, 2, 10)
    rm.save()
    per_rm = adherence_by_rm(leader, team=team, now=NOW)
    # 4 Jan to 8 Feb: 6 Mondays, none held.
    assert (per_rm[rm.pk].due, per_rm[rm.pk].held) == (6, 0)


def test_a_cancelled_required_check_in_is_not_due(leader, team, rm):
    weekly_cadence(team, LONG_AGO)
    checkin(rm, day(3, 1), "cancelled")
    assert adherence_by_rm(leader, team=team, now=NOW)[rm.pk].due == 11


def test_the_team_overview_counts_the_check_ins_never_created(client, leader, team, rm):
    weekly_cadence(team, timezone.now() - datetime.timedelta(weeks=30))
    client.force_login(leader)
    figures = client.get(reverse("org:team", args=[team.pk])).context["adherence"]
    # The 13 weeks hold 12 or 13 Mondays whose week is over, whatever today is.
    assert figures.total.due in (12, 13)
    assert (figures.total.held, figures.total.pct) == (0, 0)
