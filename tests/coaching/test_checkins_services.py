"""Holding a check-in: who may run, complete and acknowledge it; commitments carry over;
completing freezes the figures and makes the check-in read-only (docs/checkins.md)."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import ProductFamily
from coaching.models import CheckIn, LineRating
from coaching.selectors.checkins import checkin_figures
from coaching.services import checkins as services
from salesmgmt.workflow import Incomplete, InvalidTransition, StaleEdit
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CheckInFactory,
    CommitmentFactory,
    ExecutiveFactory,
    PositionFactory,
    ProductFactory,
    TargetLineFactory,
    TargetSetFactory,
    metric,
)

pytestmark = pytest.mark.django_db

D = Decimal
WEEK = datetime.date(2027, 3, 8)


def at(day, hour=9):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def checkin(rm, leader):
    return CheckInFactory(rm=rm, period_start=WEEK)


@pytest.fixture
def earlier(rm):
    """Last week's check-in, completed on its day."""
    return CheckInFactory(
        rm=rm,
        period_start=WEEK - datetime.timedelta(days=7),
        status="completed",
        completed_at=at(WEEK - datetime.timedelta(days=7), 10),
        snapshot={},
    )


def complete(checkin, by):
    return services.checkin_complete(checkin_id=checkin.pk, by=by)


def approved_targets(rm, plan_year, lines):
    leader = rm.team.leader
    target_set = TargetSetFactory(
        plan_year=plan_year,
        scope="rm",
        team=None,
        rm=rm,
        created_by=leader,
        last_edited_by=leader,
        proposed_by=leader,
        status="approved",
        decided_by=ExecutiveFactory(username="exec_decides"),
    )
    for code, (value, weight) in lines.items():
        TargetLineFactory(target_set=target_set, metric=metric(code), value=D(value), weight=weight)
    return target_set


# --- carry-over --------------------------------------------------------------------------------


def test_open_commitments_of_earlier_check_ins_carry_into_the_next_one_first(
    checkin, earlier, leader
):
    carried = CommitmentFactory(checkin=earlier, text="Send the term sheet")
    services.commitment_add(
        checkin_id=checkin.pk, by=leader, owner=checkin.rm, text="Call the CFO", due_on=WEEK
    )
    items = checkin_figures(checkin)["commitments"]
    assert [(i["text"], i["carried"]) for i in items] == [
        ("Send the term sheet", True),
        ("Call the CFO", False),
    ]
    assert items[0]["id"] == carried.pk


def test_a_commitment_ticked_before_the_last_check_in_does_not_carry_over(checkin, earlier):
    CommitmentFactory(
        checkin=earlier, text="Done long ago", done=True, done_at=at(WEEK - datetime.timedelta(8))
    )
    assert checkin_figures(checkin)["commitments"] == []


def test_a_commitment_ticked_since_the_last_check_in_is_shown_done_after_the_open_ones(
    checkin, earlier
):
    CommitmentFactory(checkin=earlier, text="Ticked", done=True, done_at=at(WEEK, 8))
    CommitmentFactory(checkin=earlier, text="Still open")
    items = checkin_figures(checkin)["commitments"]
    assert [(i["text"], i["done"]) for i in items] == [("Still open", False), ("Ticked", True)]


def test_open_commitments_carry_over_oldest_first_across_several_check_ins(checkin, rm, earlier):
    older = CheckInFactory(rm=rm, period_start=WEEK - datetime.timedelta(days=14))
    CommitmentFactory(checkin=earlier, text="From last week")
    CommitmentFactory(checkin=older, text="From two weeks ago")
    texts = [i["text"] for i in checkin_figures(checkin)["commitments"]]
    assert texts == ["From two weeks ago", "From last week"]


def test_a_later_check_ins_commitments_are_not_carried_back(checkin, rm):
    later = CheckInFactory(rm=rm, period_start=WEEK + datetime.timedelta(days=7))
    CommitmentFactory(checkin=later)
    assert checkin_figures(checkin)["commitments"] == []


def test_the_rm_and_their_leader_tick_a_commitment_off_and_on(checkin, rm, leader):
    c = CommitmentFactory(checkin=checkin)
    services.commitment_set_done(commitment_id=c.pk, by=rm, done=True)
    c.refresh_from_db()
    assert (c.done, c.done_by, c.done_at is not None) == (True, rm, True)
    services.commitment_set_done(commitment_id=c.pk, by=leader, done=False)
    c.refresh_from_db()
    assert (c.done, c.done_by, c.done_at) == (False, None, None)


def test_a_teammate_and_another_teams_leader_cannot_find_the_commitment(
    checkin, teammate, other_leader
):
    c = CommitmentFactory(checkin=checkin)
    for user in (teammate, other_leader):
        with pytest.raises(ObjectDoesNotExist):
            services.commitment_set_done(commitment_id=c.pk, by=user, done=True)


def test_an_executive_sees_a_commitment_but_cannot_tick_it(checkin, executive):
    c = CommitmentFactory(checkin=checkin)
    with pytest.raises(PermissionDenied):
        services.commitment_set_done(commitment_id=c.pk, by=executive, done=True)


def test_a_commitment_is_the_rms_or_the_leaders(checkin, leader, teammate):
    with pytest.raises(ValidationError) as exc:
        services.commitment_add(
            checkin_id=checkin.pk, by=leader, owner=teammate, text="Help", due_on=WEEK
        )
    assert "owner" in exc.value.message_dict


def test_the_first_commitment_starts_the_check_in_without_making_open_notes_stale(checkin, leader):
    version = checkin.version
    services.commitment_add(
        checkin_id=checkin.pk, by=leader, owner=leader, text="Join a visit", due_on=WEEK
    )
    checkin.refresh_from_db()
    assert (checkin.status, checkin.version) == ("in_progress", version)
    services.checkin_save_notes(
        checkin_id=checkin.pk, by=leader, notes={"deals_notes": "x"}, expected_version=version
    )


# --- who runs it -------------------------------------------------------------------------------


def test_only_the_teams_leader_writes_notes(checkin, rm, executive):
    for user in (rm, executive):
        with pytest.raises(PermissionDenied):
            services.checkin_save_notes(checkin_id=checkin.pk, by=user, notes={"deals_notes": "x"})


@pytest.mark.parametrize("who", ["teammate", "other_leader", "other_rm"])
def test_someone_outside_the_check_ins_scope_cannot_find_it(request, checkin, who):
    user = request.getfixturevalue(who)
    with pytest.raises(ObjectDoesNotExist):
        services.checkin_save_notes(checkin_id=checkin.pk, by=user, notes={"deals_notes": "x"})
    with pytest.raises(ObjectDoesNotExist):
        complete(checkin, user)


@pytest.mark.parametrize("who", ["rm", "executive"])
def test_only_the_teams_leader_completes(request, checkin, who):
    with pytest.raises(PermissionDenied):
        complete(checkin, request.getfixturevalue(who))
    checkin.refresh_from_db()
    assert checkin.status == "scheduled"


def test_a_leader_who_no_longer_leads_the_rms_team_cannot_complete(checkin, rm, other_team):
    rm.team = other_team
    rm.save()
    with pytest.raises(ObjectDoesNotExist):
        complete(checkin, checkin.leader)


def test_notes_of_another_kind_are_refused(checkin, leader):
    with pytest.raises(ValidationError):
        services.checkin_save_notes(
            checkin_id=checkin.pk, by=leader, notes={"review_summary": "Not weekly"}
        )


def test_a_stale_save_is_refused_and_keeps_the_newer_notes(checkin, leader):
    v = checkin.version
    services.checkin_save_notes(
        checkin_id=checkin.pk, by=leader, notes={"deals_notes": "first"}, expected_version=v
    )
    with pytest.raises(StaleEdit):
        services.checkin_save_notes(
            checkin_id=checkin.pk, by=leader, notes={"deals_notes": "second"}, expected_version=v
        )
    checkin.refresh_from_db()
    assert checkin.deals_notes == "first"


# --- completing --------------------------------------------------------------------------------


def test_completing_saves_the_notes_given_and_freezes_the_figures(checkin, leader):
    services.checkin_complete(
        checkin_id=checkin.pk,
        by=leader,
        expected_version=checkin.version,
        notes={"deals_notes": "Harbor renewal signed"},
    )
    checkin.refresh_from_db()
    assert checkin.status == "completed"
    assert checkin.deals_notes == "Harbor renewal signed"
    assert (checkin.completed_by, checkin.completed_at is not None) == (leader, True)
    assert checkin.snapshot["kind"] == "weekly"
    json.dumps(checkin.snapshot)  # stored as JSON: nothing but plain values


def test_completing_from_a_stale_page_is_refused(checkin, leader):
    v = checkin.version
    services.checkin_save_notes(checkin_id=checkin.pk, by=leader, notes={"deals_notes": "x"})
    with pytest.raises(StaleEdit):
        services.checkin_complete(
            checkin_id=checkin.pk, by=leader, expected_version=v, notes={"deals_notes": "y"}
        )
    checkin.refresh_from_db()
    assert (checkin.status, checkin.deals_notes) == ("in_progress", "x")


def test_a_semi_annual_review_is_completed_only_with_its_rb_and_overall_ratings(rm, leader):
    review = CheckInFactory(
        rm=rm,
        kind="semi_annual",
        period_start=datetime.date(2027, 1, 1),
        period_end=datetime.date(2027, 6, 30),
        scheduled_at=at(datetime.date(2027, 7, 5), 14),
    )
    with pytest.raises(Incomplete) as exc:
        services.checkin_complete(
            checkin_id=review.pk,
            by=leader,
            notes={"review_summary": "A strong half"},
            ratings={"rb_rating": 4, "overall_rating": None},
        )
    assert set(exc.value.missing) == {"overall_rating"}
    review.refresh_from_db()
    assert (review.status, review.review_summary) == ("scheduled", "")  # nothing saved
    services.checkin_complete(
        checkin_id=review.pk,
        by=leader,
        notes={"review_summary": "A strong half"},
        ratings={"rb_rating": 4, "overall_rating": 3},
        line_ratings={metric("loan_growth").pk: (4, "Ahead of plan")},
    )
    review.refresh_from_db()
    assert (review.status, review.overall_rating) == ("completed", 3)
    assert LineRating.objects.get(checkin=review).comment == "Ahead of plan"


def test_only_the_semi_annual_review_is_rated(checkin, leader):
    with pytest.raises(ValidationError):
        services.checkin_save_notes(
            checkin_id=checkin.pk, by=leader, notes={}, ratings={"overall_rating": 3}
        )


def test_the_snapshot_stays_the_same_after_positions_and_activities_change(
    checkin, rm, leader, plan_year
):
    approved_targets(rm, plan_year, {"loan_growth": ("10", 60), "activities_per_week": ("5", 40)})
    loan = ProductFactory(code="TL", family=ProductFamily.LOAN)
    account = AccountFactory(owner=rm)
    PositionFactory(account=account, product=loan, month=datetime.date(2026, 12, 1), balance=100)
    feb = PositionFactory(
        account=account, product=loan, month=datetime.date(2027, 2, 1), balance=110
    )
    ActivityFactory(account=account, date=datetime.date(2027, 3, 5), kind="call")
    complete(checkin, leader)
    checkin.refresh_from_db()
    frozen = json.loads(json.dumps(checkin.snapshot))
    (growth,) = [line for line in frozen["plan"]["lines"] if line["metric"] == "loan_growth"]
    assert growth["actual"] == "10.00"

    feb.balance = D("200")
    feb.save()
    ActivityFactory.create_batch(5, account=account, date=datetime.date(2027, 3, 6))
    checkin.refresh_from_db()
    assert checkin.snapshot == frozen
    live = checkin_figures(checkin)
    (now_growth,) = [line for line in live["plan"]["lines"] if line["metric"] == "loan_growth"]
    assert now_growth["actual"] == "100.00"  # the book moved on; the snapshot did not


# --- a completed check-in is read-only ----------------------------------------------------------


@pytest.fixture
def completed(checkin, leader):
    complete(checkin, leader)
    checkin.refresh_from_db()
    return checkin


def test_a_completed_check_ins_notes_cannot_change(completed, leader):
    with pytest.raises(InvalidTransition):
        services.checkin_save_notes(checkin_id=completed.pk, by=leader, notes={"deals_notes": "x"})


def test_a_completed_check_in_takes_no_new_commitment(completed, leader):
    with pytest.raises(InvalidTransition):
        services.commitment_add(
            checkin_id=completed.pk, by=leader, owner=leader, text="Late", due_on=WEEK
        )


def test_a_completed_check_in_is_neither_completed_again_nor_cancelled(completed, leader):
    snapshot = completed.snapshot
    with pytest.raises(InvalidTransition):
        complete(completed, leader)
    with pytest.raises(InvalidTransition):
        services.checkin_cancel(checkin_id=completed.pk, by=leader, reason="Oops")
    completed.refresh_from_db()
    assert (completed.status, completed.snapshot) == ("completed", snapshot)


# --- acknowledging -----------------------------------------------------------------------------


def test_the_rm_acknowledges_a_completed_check_in_once(completed, rm):
    services.checkin_acknowledge(checkin_id=completed.pk, by=rm, comment=" Agreed ")
    completed.refresh_from_db()
    assert (completed.acknowledged_at is not None, completed.rm_comment) == (True, "Agreed")
    with pytest.raises(InvalidTransition):
        services.checkin_acknowledge(checkin_id=completed.pk, by=rm)


def test_acknowledging_leaves_the_snapshot_as_it_was(completed, rm):
    snapshot = completed.snapshot
    services.checkin_acknowledge(checkin_id=completed.pk, by=rm)
    completed.refresh_from_db()
    assert completed.snapshot == snapshot


@pytest.mark.parametrize("who", ["leader", "executive"])
def test_only_the_rm_acknowledges(request, completed, who):
    with pytest.raises(PermissionDenied):
        services.checkin_acknowledge(checkin_id=completed.pk, by=request.getfixturevalue(who))


def test_an_open_check_in_cannot_be_acknowledged(checkin, rm):
    with pytest.raises(InvalidTransition):
        services.checkin_acknowledge(checkin_id=checkin.pk, by=rm)


# --- cancelling --------------------------------------------------------------------------------


def test_a_cancelled_check_in_says_why(checkin, leader):
    with pytest.raises(ValidationError):
        services.checkin_cancel(checkin_id=checkin.pk, by=leader, reason="  ")
    services.checkin_cancel(checkin_id=checkin.pk, by=leader, reason="RM on holiday")
    checkin.refresh_from_db()
    assert (checkin.status, checkin.cancel_reason) == ("cancelled", "RM on holiday")


def test_a_check_in_with_every_status_but_open_cannot_be_cancelled(rm, leader):
    missed = CheckInFactory(rm=rm, status=CheckIn.Status.MISSED)
    with pytest.raises(InvalidTransition):
        services.checkin_cancel(checkin_id=missed.pk, by=leader, reason="Too late")
