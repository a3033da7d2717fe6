"""Leavers (issue 13): someone whose departure is on or before today, whatever is_active says,
needs no targets, is offered in no work filter, and their open deals pass to the covering RM
or the replacement."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import OpportunityStatus
from coaching.selectors.checkins import this_week
from planning.selectors.targets import target_set_overview
from retention.services import departures
from tests.factories import AccountFactory, OpportunityFactory, PlanYearFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _leave(person, on=TODAY):
    person.departed_on = on
    person.save()  # is_active stays True: the administrator has not closed the login yet


def _rms_needing_targets(user):
    overview = target_set_overview(user, PlanYearFactory(year=TODAY.year))
    return {row.rm for _team, rows in overview.rms_by_team for row in rows}


def test_a_leaver_is_not_among_the_rms_needing_targets(leader, rm, teammate):
    _leave(teammate)
    assert _rms_needing_targets(leader) == {rm}


def test_someone_leaving_later_still_needs_targets(leader, rm, teammate):
    _leave(teammate, on=TODAY + datetime.timedelta(days=30))
    assert _rms_needing_targets(leader) == {rm, teammate}


def _rm_choices(client, user, query=""):
    client.force_login(user)
    response = client.get(reverse("accounts:pipeline") + query)
    assert response.status_code == 200
    return response, [
        label
        for value, label in response.context["filterset"].form["rm"].field.widget.choices
        if value
    ]


def test_the_pipeline_offers_no_leaver_in_its_rm_filter(client, leader, rm, teammate):
    _leave(teammate)
    _response, labels = _rm_choices(client, leader)
    assert str(rm) in labels
    assert str(teammate) not in labels


def test_a_link_naming_a_leaver_still_reads_their_deals(client, leader, rm, teammate):
    deal = OpportunityFactory(account=AccountFactory(owner=teammate), rm=teammate)
    _leave(teammate)
    response, labels = _rm_choices(client, leader, f"?rm={teammate.pk}&status=all")
    assert str(teammate) in labels
    assert deal in response.context["filterset"].qs


@pytest.fixture
def case(rm, leader):
    return departures.departure_open(
        rm_id=rm.pk,
        by=leader,
        notice_on=TODAY - datetime.timedelta(days=20),
        last_day=TODAY + datetime.timedelta(days=10),
    )


def test_cover_takes_over_the_leavers_open_deals_on_the_account(case, rm, leader, teammate):
    account = AccountFactory(owner=rm)
    open_deal = OpportunityFactory(account=account, rm=rm)
    won = OpportunityFactory(account=account, rm=rm, status=OpportunityStatus.WON, closed_on=TODAY)
    departures.coverage_assign(case_id=case.pk, by=leader, assignments={account.pk: teammate.pk})
    open_deal.refresh_from_db()
    won.refresh_from_db()
    assert open_deal.rm == teammate
    assert won.rm == rm  # a closed deal stays in the leaver's history
    latest = open_deal.history.first()
    assert (latest.rm_id, latest.history_user_id) == (
        teammate.pk,
        None,
    ) or latest.rm_id == teammate.pk
    assert "passed on by" in latest.history_change_reason


def test_the_replacement_takes_over_the_open_deals_still_with_the_leaver(
    case, rm, leader, teammate
):
    account = AccountFactory(owner=rm)
    deal = OpportunityFactory(account=account, rm=rm)
    departures.replacement_assign(case_id=case.pk, by=leader, replacement_id=teammate.pk, on=TODAY)
    deal.refresh_from_db()
    assert deal.rm == teammate


def test_a_leaver_is_not_on_the_leaders_check_in_week(leader, rm, teammate):
    _leave(teammate)
    assert [row.rm for row in this_week(leader, TODAY)] == [rm]
