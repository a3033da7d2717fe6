"""Team membership over time (issue 13): a team's figures for a month count the RMs who were
in it at that month's end; every change of User.team keeps the history."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.admin.sites import AdminSite
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from org.admin import UserAdmin
from org.models import TeamMembership, User
from org.services import team_join, team_move
from planning.models import Variance
from planning.services.variances import variances_recompute

from ..factories import (
    AccountFactory,
    ActivityFactory,
    PlanYearFactory,
    PositionFactory,
    RmFactory,
    metric,
)

pytestmark = pytest.mark.django_db

D = Decimal
HIRED = datetime.date(2020, 3, 1)
MOVED = datetime.date(2027, 5, 1)
APR, MAY = datetime.date(2027, 4, 1), datetime.date(2027, 5, 1)
MAR = datetime.date(2027, 3, 1)


def joined(user, on=HIRED):
    return team_join(user=user, on=on)


def test_a_move_closes_the_open_membership_the_day_before_and_opens_the_next(rm, other_team):
    first_team = rm.team
    joined(rm)
    team_move(user=rm, team=other_team, on=MOVED)
    rm.refresh_from_db()
    assert rm.team == other_team
    assert [(m.team, m.started_on, m.ended_on) for m in rm.memberships.all()] == [
        (first_team, HIRED, datetime.date(2027, 4, 30)),
        (other_team, MOVED, None),
    ]


def test_a_move_of_someone_without_history_starts_their_past_at_the_hiring_date(rm, other_team):
    rm.hired_on = HIRED
    rm.save()
    first_team = rm.team
    team_move(user=rm, team=other_team, on=MOVED)
    assert [(m.team, m.started_on) for m in rm.memberships.all()] == [
        (first_team, HIRED),
        (other_team, MOVED),
    ]


def test_two_memberships_of_one_person_may_not_overlap(rm, other_team):
    joined(rm)
    overlapping = TeamMembership(user=rm, team=other_team, started_on=HIRED, ended_on=MOVED)
    with pytest.raises(ValidationError):
        overlapping.full_clean()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="an exclusion constraint")
def test_the_database_refuses_overlapping_memberships(rm, other_team):
    TeamMembership.objects.create(user=rm, team=rm.team, started_on=HIRED, ended_on=MOVED)
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamMembership.objects.create(
            user=rm, team=other_team, started_on=APR, ended_on=datetime.date(2027, 6, 30)
        )


def test_a_team_change_in_the_admin_goes_through_the_membership_history(
    rm, other_team, administrator
):
    joined(rm)
    first_team = rm.team
    rm.team = other_team
    form = SimpleNamespace(changed_data=["team"])
    UserAdmin(User, AdminSite()).save_model(
        SimpleNamespace(user=administrator), rm, form, change=True
    )
    rm.refresh_from_db()
    assert rm.team == other_team
    assert [m.team for m in rm.memberships.all()] == [first_team, other_team]
    assert rm.memberships.get(ended_on__isnull=True).team == other_team


def _figure(code, month, team=None):
    rows = Variance.objects.filter(metric__code=code, period="month", period_start=month)
    row = rows.get(scope="team", team=team) if team else rows.get(scope="bank")
    return row.actual


def test_an_rm_who_moved_in_may_counts_for_the_old_team_to_april_and_the_new_from_may(
    team, other_team
):
    """x: North, the mover's first team; y: South. Done activities per month:
    April (30 days): mover 30, stayer in North 15, stayer in South 15;
    May (31 days): mover 31, North's stayer 31, South's stayer 62.
    Worked by hand (activities x 7 / days): April North (30 + 15) x 7 / 30 = 10.50, South
    15 x 7 / 30 = 3.50, bank 60 x 7 / 30 = 14.00; May North 31 x 7 / 31 = 7.00, South
    (31 + 62) x 7 / 31 = 21.00, bank 124 x 7 / 31 = 28.00. The mover's account opened in
    March is North's new relationship that month."""
    PlanYearFactory(year=2027)
    metric("activities_per_week"), metric("new_relationships")
    mover, north_rm, south_rm = (
        RmFactory(team=team, hired_on=HIRED),
        RmFactory(team=team, hired_on=HIRED),
        RmFactory(team=other_team, hired_on=HIRED),
    )
    for person in (mover, north_rm, south_rm):
        joined(person)
    team_move(user=mover, team=other_team, on=MOVED)
    own = AccountFactory(owner=mover, opened_on=datetime.date(2027, 3, 10))
    PositionFactory(account=own, month=MAY)  # May is the closed month
    for person, month, n in (
        (mover, APR, 30),
        (north_rm, APR, 15),
        (south_rm, APR, 15),
        (mover, MAY, 31),
        (north_rm, MAY, 31),
        (south_rm, MAY, 62),
    ):
        account = own if person == mover else AccountFactory(owner=person)
        for k in range(n):
            ActivityFactory(account=account, rm=person, date=month + datetime.timedelta(k % 28))

    variances_recompute(today=datetime.date(2027, 6, 5))

    apw = "activities_per_week"
    assert _figure(apw, APR, team) == D("10.50")
    assert _figure(apw, APR, other_team) == D("3.50")
    assert _figure(apw, MAY, team) == D("7.00")
    assert _figure(apw, MAY, other_team) == D("21.00")
    for month in (APR, MAY):
        assert _figure(apw, month, team) + _figure(apw, month, other_team) == _figure(apw, month)
    assert _figure("new_relationships", MAR, team) == 1
    assert _figure("new_relationships", MAR, other_team) == 0


def test_someone_created_in_a_team_in_the_admin_opens_a_membership_from_the_hiring_date(
    team, administrator
):
    person = User(username="nora", role="rm", team=team, hired_on=HIRED)
    UserAdmin(User, AdminSite()).save_model(
        SimpleNamespace(user=administrator), person, SimpleNamespace(changed_data=[]), change=False
    )
    assert [(m.team, m.started_on, m.ended_on) for m in person.memberships.all()] == [
        (team, HIRED, None)
    ]
