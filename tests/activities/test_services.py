"""The activity services' rules (accounts.services.activities, docs/activities.md)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Activity, ActivityStatus
from accounts.services import activities as services
from salesmgmt.workflow import InvalidTransition, StaleEdit
from tests.factories import AccountFactory, ActivityFactory, CustomerContactFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 4)
DAY = datetime.timedelta(days=1)


def log(rm, account, **fields):
    return services.activity_log(user=rm, account=account, kind="call", today=TODAY, **fields)


def test_a_logged_activity_is_done_and_dated_today_by_default(rm, account):
    activity = log(rm, account, outcome="Agreed a review")
    assert (activity.status, activity.date, activity.rm) == (ActivityStatus.DONE, TODAY, rm)


def test_a_done_activity_cannot_be_in_the_future(rm, account):
    with pytest.raises(ValidationError) as refused:
        log(rm, account, date=TODAY + DAY)
    assert "future" in refused.value.message_dict["date"][0]
    assert not Activity.objects.exists()


def test_the_contact_must_belong_to_the_account(rm, account):
    elsewhere = CustomerContactFactory(account=AccountFactory(owner=rm))
    with pytest.raises(ValidationError) as refused:
        log(rm, account, contact=elsewhere)
    assert list(refused.value.message_dict) == ["contact"]


def test_a_contact_of_the_account_is_recorded(rm, account, contact):
    assert log(rm, account, contact=contact).contact == contact


def test_a_next_step_with_a_due_date_becomes_a_follow_up(rm, account):
    activity = log(rm, account, next_step="Send the term sheet", next_step_due=TODAY + 3 * DAY)
    assert (activity.next_step_due, activity.next_step_done_on) == (TODAY + 3 * DAY, None)


def test_a_due_date_without_a_next_step_is_refused(rm, account):
    with pytest.raises(ValidationError) as refused:
        log(rm, account, next_step_due=TODAY + DAY)
    assert list(refused.value.message_dict) == ["next_step"]


def test_nobody_logs_on_an_account_they_neither_own_nor_cover(leader, account):
    with pytest.raises(PermissionDenied):
        services.activity_log(user=leader, account=account, kind="call", today=TODAY)


def test_a_plan_has_a_date_ahead_and_no_outcome(rm, account):
    plan = services.activity_plan(
        user=rm, account=account, kind="visit", date=TODAY + 4 * DAY, today=TODAY
    )
    assert (plan.status, plan.outcome) == (ActivityStatus.PLANNED, "")


def test_a_plan_in_the_past_is_refused(rm, account):
    with pytest.raises(ValidationError) as refused:
        services.activity_plan(
            user=rm, account=account, kind="visit", date=TODAY - DAY, today=TODAY
        )
    assert list(refused.value.message_dict) == ["date"]


def test_a_plan_created_with_an_outcome_over_the_api_is_refused(rm, account):
    with pytest.raises(ValidationError):
        services.activity_create(
            user=rm, account=account, kind="visit", date=TODAY, status="planned", outcome="x"
        )


def test_marking_a_plan_done_records_the_outcome_and_counts_it(rm, account):
    plan = services.activity_plan(user=rm, account=account, kind="visit", date=TODAY, today=TODAY)
    done = services.activity_complete(
        user=rm, activity=plan, outcome="Signed", expected_version=plan.version, today=TODAY
    )
    assert (done.status, done.outcome, done.date, done.version) == ("done", "Signed", TODAY, 2)


def test_a_plan_is_not_marked_done_in_the_future(rm, account):
    plan = services.activity_plan(
        user=rm, account=account, kind="visit", date=TODAY + DAY, today=TODAY
    )
    with pytest.raises(ValidationError) as refused:
        services.activity_complete(
            user=rm, activity=plan, outcome="x", date=TODAY + DAY, today=TODAY
        )
    assert list(refused.value.message_dict) == ["date"]


def test_a_done_activity_is_not_marked_done_again(rm, account):
    with pytest.raises(InvalidTransition):
        services.activity_complete(user=rm, activity=log(rm, account), outcome="x", today=TODAY)


def test_the_rm_edits_their_activity_within_the_window(rm, account):
    activity = log(rm, account, outcome="old")
    saved = services.activity_update(
        user=rm, activity=activity, outcome="new", expected_version=1, today=TODAY + 6 * DAY
    )
    assert (saved.outcome, saved.version) == ("new", 2)


def test_after_the_window_the_activity_is_locked_403(rm, account, settings):
    settings.ACTIVITY_EDIT_DAYS = 7
    activity = ActivityFactory(
        account=account,
        date=TODAY - 8 * DAY,
        created_at=timezone.make_aware(datetime.datetime(2026, 11, 26, 9)),
    )
    with pytest.raises(PermissionDenied) as refused:
        services.activity_update(user=rm, activity=activity, outcome="new", today=TODAY)
    assert "locked" in str(refused.value)
    with pytest.raises(PermissionDenied):
        services.activity_delete(user=rm, activity=activity, today=TODAY)


def test_the_window_is_a_setting(rm, account, settings):
    settings.ACTIVITY_EDIT_DAYS = 30
    activity = ActivityFactory(
        account=account,
        date=TODAY - 8 * DAY,
        created_at=timezone.make_aware(datetime.datetime(2026, 11, 26, 9)),
    )
    assert services.activity_update(user=rm, activity=activity, outcome="ok", today=TODAY)


def test_a_plan_done_later_is_editable_for_the_window_after_it_took_place(rm, account):
    plan = ActivityFactory(
        account=account,
        status="planned",
        outcome="",
        date=TODAY,
        created_at=timezone.make_aware(datetime.datetime(2026, 11, 1, 9)),
    )
    done = services.activity_complete(user=rm, activity=plan, outcome="Met", today=TODAY)
    assert services.locked_since(done, today=TODAY + 6 * DAY) is None


def test_a_stale_edit_is_409_and_changes_nothing(rm, account):
    activity = log(rm, account, outcome="first")
    services.activity_update(user=rm, activity=activity, outcome="tab one", expected_version=1)
    with pytest.raises(StaleEdit):
        services.activity_update(user=rm, activity=activity, outcome="tab two", expected_version=1)
    activity.refresh_from_db()
    assert activity.outcome == "tab one"


def test_nobody_changes_a_teammates_activity(rm, teammate, account):
    activity = log(rm, account)
    with pytest.raises(PermissionDenied):
        services.activity_update(user=teammate, activity=activity, outcome="mine")


def test_a_done_activity_does_not_become_a_plan_again(rm, account):
    with pytest.raises(InvalidTransition):
        services.activity_update(user=rm, activity=log(rm, account), status="planned", outcome="")


def test_the_leader_and_a_teammate_go_along_on_a_joint_call(rm, leader, teammate, account):
    activity = log(rm, account, participants=[leader, teammate])
    assert set(activity.participants.all()) == {leader, teammate}


def test_somebody_of_another_team_does_not_go_along(rm, other_leader, account):
    with pytest.raises(ValidationError) as refused:
        log(rm, account, participants=[other_leader])
    assert list(refused.value.message_dict) == ["participants"]
    assert not Activity.objects.exists()


def test_a_follow_up_is_ticked_off_even_after_the_lock(rm, account):
    activity = ActivityFactory(
        account=account,
        date=TODAY - 20 * DAY,
        next_step="Call back",
        next_step_due=TODAY - 10 * DAY,
        created_at=timezone.make_aware(datetime.datetime(2026, 11, 14, 9)),
    )
    done = services.follow_up_done(user=rm, activity=activity, on=TODAY)
    assert (done.next_step_done_on, done.version) == (TODAY, 2)


def test_a_plan_is_deleted_any_time(rm, account):
    plan = ActivityFactory(
        account=account,
        status="planned",
        outcome="",
        date=TODAY + DAY,
        created_at=timezone.make_aware(datetime.datetime(2026, 10, 1, 9)),
    )
    services.activity_delete(user=rm, activity=plan, today=TODAY)
    assert not Activity.objects.exists()


def test_every_change_is_in_the_audit_history_with_who(rm, account):
    activity = log(rm, account, outcome="first")
    services.activity_update(user=rm, activity=activity, outcome="second")
    services.activity_delete(user=rm, activity=activity, today=TODAY)
    history = Activity.history.filter(id=activity.pk).order_by("history_date")
    assert [(h.history_type, h.outcome, h.history_user) for h in history] == [
        ("+", "first", rm),
        ("~", "second", rm),
        ("-", "second", rm),
    ]
