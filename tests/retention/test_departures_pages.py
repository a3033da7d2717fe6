"""Departure pages: list, case with coverage board, handover, early warnings; scope and queries."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from retention.models import CoverageChange, DepartureCase, EarlyWarning, HandoverReview
from retention.services import departures as services
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory, TierFactory

TODAY = timezone.localdate()


def _accounts(rm, n, *, code="A"):
    return AccountFactory.create_batch(n, owner=rm, tier=TierFactory(code=code))


@pytest.fixture
def case(rm, leader):
    return services.departure_open(
        rm_id=rm.pk,
        by=leader,
        notice_on=TODAY - datetime.timedelta(days=20),
        last_day=TODAY + datetime.timedelta(days=10),
    )


@pytest.fixture
def onboarding(rm, leader, teammate, case):
    accounts = _accounts(rm, 2)
    services.replacement_assign(case_id=case.pk, by=leader, replacement_id=teammate.pk, on=TODAY)
    case.refresh_from_db()
    return case, accounts


def _pages(case, account_pk=0):
    return [
        reverse("retention:departure", args=[case.pk]),
        reverse("retention:handover", args=[case.pk]),
    ]


def _posts(case, account_pk):
    return [
        (reverse("retention:departure_coverage", args=[case.pk]), {"action": "rows"}),
        (
            reverse("retention:departure_replacement", args=[case.pk]),
            {"replacement": "1", "on": TODAY.isoformat()},
        ),
        (reverse("retention:handover_review", args=[case.pk, account_pk]), {"note": ""}),
    ]


# --- the list and opening ------------------------------------------------------------------------


def test_leader_sees_open_cases_with_phase_and_uncovered_count(client, leader, rm, case):
    _accounts(rm, 3)
    _accounts(rm, 2, code="C")
    client.force_login(leader)
    response = client.get(reverse("retention:departures"))
    (line,) = response.context["lines"]
    assert (line.case, line.phase, line.uncovered) == (case, "withdrawal", 3)


def test_leader_records_a_notice_through_the_form(client, leader, rm):
    client.force_login(leader)
    response = client.post(
        reverse("retention:departure_open"),
        {"rm": rm.pk, "notice_on": "2027-03-01", "last_day": "2027-03-31"},
    )
    case = DepartureCase.objects.get(rm=rm)
    assert response.status_code == 302
    assert response.url == case.get_absolute_url()


def test_notice_form_lists_only_the_leaders_own_rms(client, leader, rm, other_rm):
    client.force_login(leader)
    choices = dict(
        client.get(reverse("retention:departures")).context["notice_form"]["rm"].field.choices
    )
    assert str(rm.pk) in choices
    assert str(other_rm.pk) not in choices


def test_last_day_before_notice_is_refused_with_the_reason(client, leader, rm):
    client.force_login(leader)
    response = client.post(
        reverse("retention:departure_open"),
        {"rm": rm.pk, "notice_on": "2027-03-31", "last_day": "2027-03-01"},
    )
    assert response.status_code == 400
    assert "cannot be before the notice" in response.content.decode()


def test_an_rm_cannot_record_a_notice(client, teammate, rm):
    client.force_login(teammate)
    response = client.post(
        reverse("retention:departure_open"),
        {"rm": rm.pk, "notice_on": "2027-03-01", "last_day": "2027-03-31"},
    )
    assert response.status_code == 403


def test_another_teams_leader_cannot_record_a_notice_for_my_rm(client, other_leader, rm):
    client.force_login(other_leader)
    response = client.post(
        reverse("retention:departure_open"),
        {"rm": rm.pk, "notice_on": "2027-03-01", "last_day": "2027-03-31"},
    )
    assert response.status_code == 400
    assert not DepartureCase.objects.exists()


# --- scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_leader", "other_rm", "rm"])
def test_outsiders_and_the_leaving_rm_get_404_on_every_case_page(client, request, case, who):
    client.force_login(request.getfixturevalue(who))
    for url in _pages(case):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("who", ["other_leader", "other_rm", "rm"])
def test_outsiders_and_the_leaving_rm_get_404_on_every_case_post(client, request, rm, case, who):
    account = _accounts(rm, 1)[0]
    client.force_login(request.getfixturevalue(who))
    for url, data in _posts(case, account.pk):
        assert client.post(url, data).status_code == 404, url


def test_another_teams_leader_does_not_see_the_case_in_the_list(client, other_leader, case):
    client.force_login(other_leader)
    assert client.get(reverse("retention:departures")).context["lines"] == []


def test_executive_reads_the_case_but_cannot_assign_cover(client, executive, rm, case):
    account = _accounts(rm, 1)[0]
    client.force_login(executive)
    page = client.get(reverse("retention:departure", args=[case.pk]))
    assert page.context["coverage_form"] is None
    response = client.post(
        reverse("retention:departure_coverage", args=[case.pk]),
        {"action": "bulk", "selected": [account.pk], "bulk_to": ""},
    )
    assert response.status_code == 403


# --- the coverage board ----------------------------------------------------------------------


def test_board_lists_major_accounts_first_and_flags_the_uncovered(client, leader, rm, case):
    c = _accounts(rm, 1, code="C")[0]
    a = _accounts(rm, 1, code="A")[0]
    client.force_login(leader)
    response = client.get(reverse("retention:departure", args=[case.pk]))
    lines = response.context["lines"]
    assert [line.account for line in lines] == [a, c]
    assert [line.uncovered for line in lines] == [True, False]
    assert 'class="badge text-bg-danger">uncovered' in response.content.decode()


def test_assign_the_selected_to_one_teammate_covers_them_all(client, leader, rm, teammate, case):
    accounts = _accounts(rm, 3) + _accounts(rm, 2, code="B")
    client.force_login(leader)
    response = client.post(
        reverse("retention:departure_coverage", args=[case.pk]),
        {"action": "bulk", "selected": [a.pk for a in accounts], "bulk_to": teammate.pk},
    )
    assert response.status_code == 302
    assert not services.uncovered_major([rm.pk]).exists()
    assert CoverageChange.objects.filter(case=case, new_covering=teammate).count() == 5


def test_saving_the_rows_applies_each_rows_select(client, leader, rm, teammate, case):
    a1, a2 = _accounts(rm, 2)
    client.force_login(leader)
    client.post(
        reverse("retention:departure_coverage", args=[case.pk]),
        {"action": "rows", f"cover_{a1.pk}": teammate.pk, f"cover_{a2.pk}": leader.pk},
    )
    assert dict(Account.objects.values_list("pk", "covering_rm")) == {
        a1.pk: teammate.pk,
        a2.pk: leader.pk,
    }


def test_the_leaving_rm_is_not_offered_as_cover(client, leader, rm, case):
    account = _accounts(rm, 1)[0]
    client.force_login(leader)
    form = client.get(reverse("retention:departure", args=[case.pk])).context["coverage_form"]
    choices = dict(form.fields[f"cover_{account.pk}"].choices)
    assert str(rm.pk) not in choices
    assert str(leader.pk) in choices


def test_posting_the_leaving_rm_as_cover_is_refused(client, leader, rm, case):
    account = _accounts(rm, 1)[0]
    client.force_login(leader)
    response = client.post(
        reverse("retention:departure_coverage", args=[case.pk]),
        {"action": "bulk", "selected": [account.pk], "bulk_to": rm.pk},
    )
    assert response.status_code == 400
    assert not CoverageChange.objects.exists()


def test_replacement_form_moves_the_accounts(client, leader, rm, teammate, case):
    accounts = _accounts(rm, 2)
    client.force_login(leader)
    client.post(
        reverse("retention:departure_replacement", args=[case.pk]),
        {"replacement": teammate.pk, "on": TODAY.isoformat()},
    )
    assert set(
        Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("owner", flat=True)
    ) == {teammate.pk}


def _board(rm, n):
    _accounts(rm, n // 2)
    _accounts(rm, n - n // 2, code="C")


@pytest.mark.parametrize("rows", [5, 50])
def test_coverage_board_query_count_does_not_grow_with_accounts(
    client, leader, rm, teammate, case, rows, django_assert_max_num_queries
):
    _board(rm, rows)
    client.force_login(leader)
    # session, user, the case, the board's accounts, covering candidates, replacement
    # candidates, coverage history, the bell's unread count.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("retention:departure", args=[case.pk]))
    assert len(response.context["lines"]) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_departures_list_query_count_does_not_grow_with_cases(
    client, leader, team, rows, django_assert_max_num_queries
):
    from tests.factories import DepartureCaseFactory, RmFactory

    for _ in range(rows // 5):
        departing = RmFactory(team=team)
        DepartureCaseFactory(rm=departing)
        _accounts(departing, 5)
    client.force_login(leader)
    # session, user, open cases with their uncovered count (one grouped query), recently
    # closed cases, the RMs the notice form offers, the bell's unread count.
    with django_assert_max_num_queries(6):
        response = client.get(reverse("retention:departures"))
    assert len(response.context["lines"]) == rows // 5


# --- handover -------------------------------------------------------------------------------


def test_replacement_sees_each_major_account_with_its_history(client, teammate, onboarding):
    case, accounts = onboarding
    ActivityFactory(account=accounts[0], outcome="Agreed the new credit line")
    OpportunityFactory(account=accounts[0])
    client.force_login(teammate)
    response = client.get(reverse("retention:handover", args=[case.pk]))
    body = response.content.decode()
    assert [line.account for line in response.context["lines"]] == sorted(
        accounts, key=lambda a: (a.name, a.pk)
    )
    assert "Agreed the new credit line" in body
    assert reverse("planning:account_relationship_plan", args=[accounts[0].pk]) in body


def test_marking_the_last_account_reviewed_closes_the_case(client, teammate, onboarding):
    case, accounts = onboarding
    client.force_login(teammate)
    for account in accounts:
        client.post(
            reverse("retention:handover_review", args=[case.pk, account.pk]), {"note": "ok"}
        )
    case.refresh_from_db()
    assert case.closed_on == TODAY
    assert HandoverReview.objects.filter(case=case).count() == 2


def test_the_leader_reads_the_handover_but_does_not_mark_it(client, leader, onboarding):
    case, accounts = onboarding
    client.force_login(leader)
    url = reverse("retention:handover_review", args=[case.pk, accounts[0].pk])
    assert client.post(url, {"note": ""}).status_code == 403
    assert not HandoverReview.objects.exists()


@pytest.mark.parametrize("rows", [4, 20])
def test_handover_query_count_does_not_grow_with_accounts(
    client, rm, leader, teammate, case, rows, django_assert_max_num_queries
):
    accounts = _accounts(rm, rows)
    for account in accounts:
        ActivityFactory.create_batch(3, account=account)
        OpportunityFactory(account=account)
    services.replacement_assign(case_id=case.pk, by=leader, replacement_id=teammate.pk, on=TODAY)
    client.force_login(teammate)
    # session, user, the case, the major accounts, reviews, the last activities (one window
    # query), open opportunities, the latest month, positions by family, the last ratings,
    # the bell's unread count.
    with django_assert_max_num_queries(10):
        response = client.get(reverse("retention:handover", args=[case.pk]))
    assert len(response.context["lines"]) == rows


# --- early warnings ----------------------------------------------------------------------------


@pytest.fixture
def warnings(rm, other_rm):
    signals = [{"code": "checkins_missed", "detail": "2 check-ins missed in the last 8 weeks"}]
    return [
        EarlyWarning.objects.create(rm=rm, computed_on=TODAY, signals=signals),
        EarlyWarning.objects.create(rm=other_rm, computed_on=TODAY, signals=signals),
    ]


def test_leader_sees_the_early_warnings_of_their_own_rms_only(client, leader, rm, warnings):
    client.force_login(leader)
    response = client.get(reverse("retention:early_warnings"))
    assert [line.warning.rm for line in response.context["lines"]] == [rm]
    assert "2 check-ins missed in the last 8 weeks" in response.content.decode()


def test_executive_sees_every_early_warning(client, executive, warnings):
    client.force_login(executive)
    response = client.get(reverse("retention:early_warnings"))
    assert len(response.context["lines"]) == 2


@pytest.mark.parametrize("who", ["rm", "administrator"])
def test_rms_and_administrators_get_403_on_early_warnings(client, request, who, warnings):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("retention:early_warnings")).status_code == 403


def test_stale_early_warnings_are_not_shown(client, leader, rm):
    old = TODAY - datetime.timedelta(days=30)
    EarlyWarning.objects.create(rm=rm, computed_on=old, signals=[{"code": "x", "detail": "y"}])
    client.force_login(leader)
    assert client.get(reverse("retention:early_warnings")).context["lines"] == []


def test_account_page_keeps_coverage_changes_in_its_history(client, leader, rm, teammate, case):
    account = _accounts(rm, 1)[0]
    services.coverage_assign(case_id=case.pk, by=leader, assignments={account.pk: teammate.pk})
    client.force_login(leader)
    body = client.get(account.get_absolute_url()).content.decode()
    history = body[body.index('id="coverage-history"') :]
    assert str(teammate) in history
    assert f"departure of {rm}" in history
