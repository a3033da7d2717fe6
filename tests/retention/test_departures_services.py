"""When an RM leaves: the case, its phases, cover, the replacement, handover, the nightly flag."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Account, AccountStatus, OwnershipChange
from org.models import Notification, User
from retention.models import CoverageChange, DepartureCase, HandoverReview
from retention.services import departures as services
from salesmgmt.workflow import InvalidTransition
from tests.factories import (
    AccountFactory,
    DepartureCaseFactory,
    ExecutiveFactory,
    RmFactory,
    TierFactory,
)

NOTICE = datetime.date(2027, 3, 1)
LAST_DAY = datetime.date(2027, 3, 31)


def _book(rm, *, a=1, b=1, c=1):
    tiers = {code: TierFactory(code=code) for code in "ABC"}
    return {
        code: AccountFactory.create_batch(n, owner=rm, tier=tiers[code])
        for code, n in (("A", a), ("B", b), ("C", c))
    }


@pytest.fixture
def case(rm, leader):
    return services.departure_open(rm_id=rm.pk, by=leader, notice_on=NOTICE, last_day=LAST_DAY)


# --- opening ----------------------------------------------------------------------------------


def test_leader_records_notice_and_opens_the_case(rm, leader):
    case = services.departure_open(rm_id=rm.pk, by=leader, notice_on=NOTICE, last_day=LAST_DAY)
    rm.refresh_from_db()
    assert rm.notice_given_on == NOTICE
    assert (case.rm, case.opened_by, case.last_day) == (rm, leader, LAST_DAY)


def test_administrator_may_open_a_case(rm, administrator):
    case = services.departure_open(
        rm_id=rm.pk, by=administrator, notice_on=NOTICE, last_day=LAST_DAY
    )
    assert case.opened_by == administrator


@pytest.mark.parametrize("who", ["teammate", "executive"])
def test_only_the_leader_or_an_administrator_opens_a_case(request, rm, who):
    with pytest.raises(PermissionDenied):
        services.departure_open(
            rm_id=rm.pk, by=request.getfixturevalue(who), notice_on=NOTICE, last_day=LAST_DAY
        )


def test_another_teams_leader_cannot_find_the_rm(rm, other_leader):
    with pytest.raises(User.DoesNotExist):
        services.departure_open(rm_id=rm.pk, by=other_leader, notice_on=NOTICE, last_day=LAST_DAY)


def test_last_day_cannot_be_before_the_notice(rm, leader):
    with pytest.raises(ValidationError):
        services.departure_open(rm_id=rm.pk, by=leader, notice_on=LAST_DAY, last_day=NOTICE)


def test_an_rm_has_one_open_case_at_a_time(case, rm, leader):
    with pytest.raises(InvalidTransition):
        services.departure_open(rm_id=rm.pk, by=leader, notice_on=NOTICE, last_day=LAST_DAY)


def test_phases_follow_notice_last_day_replacement_and_handover(case, leader, teammate):
    assert case.phase_on(datetime.date(2027, 3, 30)) == DepartureCase.Phase.WITHDRAWAL
    assert case.phase_on(LAST_DAY) == DepartureCase.Phase.VACANCY
    case = services.replacement_assign(
        case_id=case.pk, by=leader, replacement_id=teammate.pk, on=datetime.date(2027, 4, 15)
    )
    # No major account to hand over: the handover is complete at once.
    assert case.phase_on(datetime.date(2027, 4, 15)) == DepartureCase.Phase.CLOSED


# --- coverage -----------------------------------------------------------------------------------


def test_after_covering_every_major_account_none_is_uncovered(rm, leader, teammate, case):
    book = _book(rm, a=2, b=3, c=2)
    majors = book["A"] + book["B"]
    services.coverage_assign(
        case_id=case.pk, by=leader, assignments={a.pk: teammate.pk for a in majors}
    )
    assert not services.uncovered_major([rm.pk]).exists()
    assert set(CoverageChange.objects.values_list("account", "new_covering", "case")) == {
        (a.pk, teammate.pk, case.pk) for a in majors
    }


def test_the_leader_may_cover_an_account(rm, leader, case):
    account = _book(rm)["A"][0]
    services.coverage_assign(case_id=case.pk, by=leader, assignments={account.pk: leader.pk})
    account.refresh_from_db()
    assert account.covering_rm == leader


def test_the_leaving_rm_never_covers(rm, leader, case):
    account = _book(rm)["A"][0]
    with pytest.raises(ValidationError):
        services.coverage_assign(case_id=case.pk, by=leader, assignments={account.pk: rm.pk})
    assert not CoverageChange.objects.exists()


def test_an_rm_of_another_team_cannot_cover(rm, leader, other_rm, case):
    account = _book(rm)["A"][0]
    with pytest.raises(ValidationError):
        services.coverage_assign(case_id=case.pk, by=leader, assignments={account.pk: other_rm.pk})


def test_a_teammate_who_is_leaving_too_cannot_cover(rm, leader, teammate, case):
    services.departure_open(rm_id=teammate.pk, by=leader, notice_on=NOTICE, last_day=LAST_DAY)
    account = _book(rm)["A"][0]
    with pytest.raises(ValidationError):
        services.coverage_assign(case_id=case.pk, by=leader, assignments={account.pk: teammate.pk})


def test_only_the_leaving_rms_accounts_are_covered_through_the_case(rm, leader, teammate, case):
    elsewhere = AccountFactory(owner=teammate)
    with pytest.raises(ValidationError):
        services.coverage_assign(case_id=case.pk, by=leader, assignments={elsewhere.pk: leader.pk})


def test_the_database_refuses_cover_by_the_owner(rm):
    from django.db import IntegrityError, transaction

    account = AccountFactory(owner=rm)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(covering_rm=rm)


def test_unchanged_cover_writes_no_history(rm, leader, teammate, case):
    account = _book(rm)["A"][0]
    services.coverage_assign(case_id=case.pk, by=leader, assignments={account.pk: teammate.pk})
    again = services.coverage_assign(
        case_id=case.pk, by=leader, assignments={account.pk: teammate.pk}
    )
    assert again == []
    assert CoverageChange.objects.count() == 1


def test_removing_cover_is_kept_in_the_history(rm, leader, teammate, case):
    account = _book(rm)["A"][0]
    services.coverage_assign(case_id=case.pk, by=leader, assignments={account.pk: teammate.pk})
    services.coverage_assign(case_id=case.pk, by=leader, assignments={account.pk: None})
    latest = CoverageChange.objects.order_by("-pk").first()
    assert (latest.previous_covering, latest.new_covering) == (teammate, None)


@pytest.mark.parametrize("who", ["executive", "teammate"])
def test_only_the_leader_or_an_administrator_assigns_cover(request, rm, case, who):
    account = _book(rm)["A"][0]
    user = request.getfixturevalue(who)
    with pytest.raises((PermissionDenied, DepartureCase.DoesNotExist)):
        services.coverage_assign(case_id=case.pk, by=user, assignments={account.pk: None})


def test_another_teams_leader_cannot_find_the_case(rm, other_leader, case):
    account = _book(rm)["A"][0]
    with pytest.raises(DepartureCase.DoesNotExist):
        services.coverage_assign(case_id=case.pk, by=other_leader, assignments={account.pk: None})


# --- replacement --------------------------------------------------------------------------------


def test_replacement_takes_ownership_with_history_and_cover_ends(rm, leader, teammate, case):
    book = _book(rm, a=1, b=1, c=1)
    coverer = RmFactory(team=rm.team)
    services.coverage_assign(case_id=case.pk, by=leader, assignments={book["A"][0].pk: coverer.pk})
    services.replacement_assign(
        case_id=case.pk, by=leader, replacement_id=teammate.pk, on=datetime.date(2027, 4, 15)
    )
    accounts = Account.objects.filter(pk__in=[a.pk for accs in book.values() for a in accs])
    assert {(a.owner_id, a.covering_rm_id) for a in accounts} == {(teammate.pk, None)}
    moves = OwnershipChange.objects.filter(previous_owner=rm, new_owner=teammate)
    assert moves.count() == 3
    assert {m.reason for m in moves} == {f"departure of {rm}"}
    ended = CoverageChange.objects.filter(account=book["A"][0]).order_by("-pk").first()
    assert (ended.previous_covering, ended.new_covering) == (coverer, None)


def test_replacement_starts_onboarding(rm, leader, teammate, case):
    _book(rm)
    case = services.replacement_assign(
        case_id=case.pk, by=leader, replacement_id=teammate.pk, on=datetime.date(2027, 4, 15)
    )
    assert case.phase_on(datetime.date(2027, 4, 15)) == DepartureCase.Phase.ONBOARDING
    assert case.replacement_assigned_on == datetime.date(2027, 4, 15)


def test_closed_and_lost_accounts_stay_with_the_leaving_rm(rm, leader, teammate, case):
    lost = AccountFactory(
        owner=rm,
        status=AccountStatus.LOST,
        lost_reason="Moved to a competitor",
        closed_on=datetime.date(2026, 5, 1),
    )
    services.replacement_assign(case_id=case.pk, by=leader, replacement_id=teammate.pk, on=LAST_DAY)
    lost.refresh_from_db()
    assert lost.owner == rm


def test_the_leaving_rm_cannot_be_their_own_replacement(rm, leader, case):
    with pytest.raises(ValidationError):
        services.replacement_assign(case_id=case.pk, by=leader, replacement_id=rm.pk, on=LAST_DAY)


def test_cover_is_not_assigned_once_the_replacement_owns_the_accounts(rm, leader, teammate, case):
    account = _book(rm)["A"][0]
    services.replacement_assign(case_id=case.pk, by=leader, replacement_id=teammate.pk, on=LAST_DAY)
    with pytest.raises(InvalidTransition):
        services.coverage_assign(case_id=case.pk, by=leader, assignments={account.pk: None})


# --- handover ---------------------------------------------------------------------------------


@pytest.fixture
def onboarding(rm, leader, teammate, case):
    book = _book(rm, a=1, b=1, c=1)
    services.replacement_assign(case_id=case.pk, by=leader, replacement_id=teammate.pk, on=LAST_DAY)
    case.refresh_from_db()
    return case, book


def test_case_closes_only_when_every_major_account_is_reviewed(teammate, onboarding):
    case, book = onboarding
    services.handover_review(case_id=case.pk, by=teammate, account_id=book["A"][0].pk)
    case.refresh_from_db()
    assert case.closed_on is None
    services.handover_review(
        case_id=case.pk, by=teammate, account_id=book["B"][0].pk, today=datetime.date(2027, 5, 2)
    )
    case.refresh_from_db()
    assert case.closed_on == datetime.date(2027, 5, 2)


def test_a_tier_c_account_is_not_part_of_the_handover(teammate, onboarding):
    case, book = onboarding
    with pytest.raises(ValidationError):
        services.handover_review(case_id=case.pk, by=teammate, account_id=book["C"][0].pk)


def test_only_the_replacement_marks_an_account_reviewed(leader, onboarding):
    case, book = onboarding
    with pytest.raises(PermissionDenied):
        services.handover_review(case_id=case.pk, by=leader, account_id=book["A"][0].pk)


def test_an_account_is_reviewed_once(teammate, onboarding):
    case, book = onboarding
    services.handover_review(case_id=case.pk, by=teammate, account_id=book["A"][0].pk)
    with pytest.raises(InvalidTransition):
        services.handover_review(case_id=case.pk, by=teammate, account_id=book["A"][0].pk)
    assert HandoverReview.objects.count() == 1


def test_handover_before_a_replacement_is_refused(rm, teammate, case):
    account = _book(rm)["A"][0]
    with pytest.raises((PermissionDenied, DepartureCase.DoesNotExist)):
        services.handover_review(case_id=case.pk, by=teammate, account_id=account.pk)


# --- nightly flag -----------------------------------------------------------------------------


def test_uncovered_major_accounts_notify_the_leader_and_executives(rm, leader, case):
    executive = ExecutiveFactory()
    book = _book(rm, a=1, b=1, c=1)
    assert services.uncovered_flag(today=LAST_DAY) == 2
    notes = Notification.objects.filter(key=f"uncovered:{case.pk}:{LAST_DAY.isoformat()}")
    assert set(notes.values_list("user", flat=True)) == {leader.pk, executive.pk}
    assert book["A"][0].name in notes.first().body
    assert book["C"][0].name not in notes.first().body


def test_uncovered_flag_notifies_once_a_day(rm, leader, case):
    _book(rm)
    services.uncovered_flag(today=LAST_DAY)
    assert services.uncovered_flag(today=LAST_DAY) == 0
    assert Notification.objects.filter(user=leader).count() == 1
    services.uncovered_flag(today=LAST_DAY + datetime.timedelta(days=1))
    assert Notification.objects.filter(user=leader).count() == 2


def test_no_flag_long_before_the_last_day(rm, case):
    _book(rm)
    early = LAST_DAY - datetime.timedelta(days=services.FLAG_DAYS_BEFORE_LAST_DAY + 1)
    assert services.uncovered_flag(today=early) == 0
    assert services.uncovered_flag(today=early + datetime.timedelta(days=1)) == 2


def test_covered_accounts_are_not_flagged(rm, leader, teammate, case):
    book = _book(rm)
    services.coverage_assign(
        case_id=case.pk,
        by=leader,
        assignments={a.pk: teammate.pk for a in book["A"] + book["B"]},
    )
    assert services.uncovered_flag(today=LAST_DAY) == 0
    assert not Notification.objects.exists()


def test_the_nightly_run_records_the_departure_once_the_last_day_has_come(rm, case):
    services.uncovered_flag(today=LAST_DAY - datetime.timedelta(days=1))
    rm.refresh_from_db()
    assert rm.departed_on is None
    services.uncovered_flag(today=LAST_DAY)
    rm.refresh_from_db()
    assert rm.departed_on == LAST_DAY


def test_flag_is_a_fixed_number_of_queries(django_assert_max_num_queries, leader):
    for _ in range(5):
        DepartureCaseFactory(rm=RmFactory(team=leader.led_teams.first()))
    for c in DepartureCase.objects.all():
        _book(c.rm)
    with django_assert_max_num_queries(8):
        assert services.uncovered_flag(today=LAST_DAY) == 10
