"""Nightly early warning: each signal is triggered by its own data, and only by it."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from coaching.models import CheckIn
from retention.models import EarlyWarning
from retention.services import early_warning as ew
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    BehaviourFactory,
    CheckInFactory,
    CustomerRatingFactory,
    OpportunityFactory,
    RmFactory,
)

TODAY = datetime.date(2027, 6, 16)


def _week_day(i: int) -> datetime.date:
    """A day inside week i back from TODAY (1 = the last 7 days)."""
    return TODAY - datetime.timedelta(days=7 * (i - 1) + 2)


def _activities(rm, per_week: list[int]):
    """per_week[0] is the last week; 16 entries cover the recent 4 and the baseline 12."""
    account = AccountFactory(owner=rm)
    for i, n in enumerate(per_week, start=1):
        for _ in range(n):
            ActivityFactory(account=account, rm=rm, date=_week_day(i))


def _signals(rm) -> list[str]:
    warning = EarlyWarning.objects.filter(rm=rm, computed_on=TODAY).first()
    return [s["code"] for s in warning.signals] if warning else []


def test_steady_rm_gets_no_warning(rm):
    _activities(rm, [5] * 16)
    assert ew.early_warnings_compute(today=TODAY) == 0
    assert _signals(rm) == []


def test_activity_falling_against_own_baseline(rm):
    _activities(rm, [3] * 4 + [6] * 12)
    ew.early_warnings_compute(today=TODAY)
    assert _signals(rm) == ["activity_falling"]


def test_activity_at_the_baseline_of_a_busier_rm_is_not_falling_for_a_quieter_one(rm):
    # 3 a week is a fall for someone who did 6, but not for someone who always did 3.
    _activities(rm, [3] * 16)
    ew.early_warnings_compute(today=TODAY)
    assert _signals(rm) == []


def test_activity_fluctuating_strongly(rm):
    _activities(rm, [0, 10] * 8)
    ew.early_warnings_compute(today=TODAY)
    assert _signals(rm) == ["activity_fluctuating"]


def test_pipeline_shrinking(rm):
    account = AccountFactory(owner=rm)
    four_weeks_ago = TODAY - datetime.timedelta(days=28)
    OpportunityFactory(
        account=account, amount=Decimal("100000"), created_on=datetime.date(2027, 1, 5)
    )
    OpportunityFactory(
        account=account,
        amount=Decimal("300000"),
        created_on=datetime.date(2027, 1, 5),
        status="lost",
        closed_on=four_weeks_ago + datetime.timedelta(days=3),
    )
    ew.early_warnings_compute(today=TODAY)
    warning = EarlyWarning.objects.get(rm=rm)
    assert [s["code"] for s in warning.signals] == ["pipeline_shrinking"]
    assert "100,000 against 400,000" in warning.signals[0]["detail"]


def test_pipeline_growing_is_no_signal(rm):
    account = AccountFactory(owner=rm)
    OpportunityFactory(account=account, created_on=datetime.date(2027, 1, 5))
    OpportunityFactory(account=account, created_on=TODAY - datetime.timedelta(days=3))
    ew.early_warnings_compute(today=TODAY)
    assert _signals(rm) == []


def test_ratings_dropping(rm):
    account = AccountFactory(owner=rm)
    first = BehaviourFactory()
    behaviours = [first, BehaviourFactory(behaviour_set=first.behaviour_set)]
    # Dec-Feb: 6 of 6 good or excellent; March-May (the last 3 complete months): 2 of 6.
    for month in (datetime.date(2026, 12, 1), datetime.date(2027, 1, 1), datetime.date(2027, 2, 1)):
        for behaviour in behaviours:
            CustomerRatingFactory(account=account, behaviour=behaviour, month=month, rating=5)
    for month, rating in ((3, 4), (4, 2), (5, 3)):
        for behaviour in behaviours:
            CustomerRatingFactory(
                account=account,
                behaviour=behaviour,
                month=datetime.date(2027, month, 1),
                rating=rating,
            )
    ew.early_warnings_compute(today=TODAY)
    assert _signals(rm) == ["ratings_dropping"]


def test_too_few_ratings_are_not_compared(rm):
    account = AccountFactory(owner=rm)
    CustomerRatingFactory(account=account, month=datetime.date(2027, 1, 1), rating=5)
    CustomerRatingFactory(account=account, month=datetime.date(2027, 4, 1), rating=1)
    ew.early_warnings_compute(today=TODAY)
    assert _signals(rm) == []


def _checkin(rm, days_ago, status):
    when = timezone.make_aware(
        datetime.datetime.combine(TODAY - datetime.timedelta(days=days_ago), datetime.time(9))
    )
    monday = when.date() - datetime.timedelta(days=when.weekday())
    return CheckInFactory(rm=rm, period_start=monday, scheduled_at=when, status=status)


def test_two_missed_checkins_in_eight_weeks(rm):
    _checkin(rm, 10, CheckIn.Status.MISSED)
    _checkin(rm, 30, CheckIn.Status.MISSED)
    ew.early_warnings_compute(today=TODAY)
    assert _signals(rm) == ["checkins_missed"]


def test_one_missed_checkin_or_an_old_one_is_no_signal(rm):
    _checkin(rm, 10, CheckIn.Status.MISSED)
    _checkin(rm, 70, CheckIn.Status.MISSED)
    ew.early_warnings_compute(today=TODAY)
    assert _signals(rm) == []


def test_only_rms_with_a_signal_get_a_row_and_a_rerun_replaces_the_day(rm, teammate):
    _activities(rm, [3] * 4 + [6] * 12)
    _activities(teammate, [5] * 16)
    assert ew.early_warnings_compute(today=TODAY) == 1
    assert ew.early_warnings_compute(today=TODAY) == 1
    assert list(EarlyWarning.objects.values_list("rm", flat=True)) == [rm.pk]


def test_an_rm_who_gave_notice_is_not_watched(rm):
    _activities(rm, [0] * 4 + [6] * 12)
    rm.notice_given_on = TODAY
    rm.save()
    assert ew.early_warnings_compute(today=TODAY) == 0


@pytest.mark.parametrize("rms", [2, 20])
def test_computation_is_a_fixed_number_of_queries(team, rms, django_assert_max_num_queries):
    for _ in range(rms):
        rm = RmFactory(team=team)
        _activities(rm, [1] * 4 + [4] * 12)
        _checkin(rm, 10, CheckIn.Status.MISSED)
        _checkin(rm, 20, CheckIn.Status.MISSED)
    # Four grouped reads (the RMs are a subquery of each), the day's delete, one insert,
    # and the savepoint and its release around them.
    with django_assert_max_num_queries(8):
        assert ew.early_warnings_compute(today=TODAY) == rms
