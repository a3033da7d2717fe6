"""Improvement plans: the RM writes, edits (with a version check) and closes their own
plan for a behaviour; nobody else writes it; the leader reads it."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from coaching.models import BehaviourSet, ImprovementPlan
from coaching.services import improvement as services
from salesmgmt.workflow import InvalidTransition, StaleEdit
from tests.factories import BehaviourFactory, BehaviourSetFactory, ImprovementPlanFactory

from .report_card_helpers import MAR, rate

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 4, 20)
REVIEW = datetime.date(2027, 6, 30)


@pytest.fixture
def listening(behaviours):
    return behaviours[0]


def write(rm, behaviour, **changes):
    values = {
        "behaviour_id": behaviour.pk,
        "by": rm,
        "actions": "Repeat back what the customer asked for before answering.",
        "support": "Leader joins two calls a month.",
        "review_on": REVIEW,
        "today": TODAY,
    }
    values.update(changes)
    return services.improvement_plan_save(**values)


# --- the service ---------------------------------------------------------------------------


def test_rm_writes_a_plan_for_a_behaviour(rm, listening):
    plan = write(rm, listening)
    assert (plan.rm, plan.behaviour, plan.review_on, plan.closed) == (rm, listening, REVIEW, False)


@pytest.mark.parametrize("who", ["leader", "executive", "administrator"])
def test_only_the_rm_writes_improvement_plans(request, who, listening):
    with pytest.raises(PermissionDenied):
        write(request.getfixturevalue(who), listening)


def test_a_plan_needs_actions(rm, listening):
    with pytest.raises(ValidationError) as error:
        write(rm, listening, actions="   ")
    assert "actions" in error.value.message_dict


def test_the_review_date_may_not_be_in_the_past(rm, listening):
    with pytest.raises(ValidationError) as error:
        write(rm, listening, review_on=TODAY - datetime.timedelta(days=1))
    assert "review_on" in error.value.message_dict


def test_a_plan_is_only_for_an_approved_behaviour(rm, executive):
    draft = BehaviourSetFactory(created_by=executive, plan_year__year=2028)
    behaviour = BehaviourFactory(behaviour_set=draft)
    assert draft.status == BehaviourSet.Status.DRAFT
    with pytest.raises(InvalidTransition):
        write(rm, behaviour)


def test_a_closed_plan_year_takes_no_more_plans(rm, listening, plan_year):
    plan_year.is_open = False
    plan_year.save()
    with pytest.raises(InvalidTransition):
        write(rm, listening)


def test_editing_with_the_version_read_saves_and_bumps_it(rm, listening):
    plan = write(rm, listening)
    edited = write(rm, listening, actions="Send a summary the same day.", expected_version=1)
    assert (edited.pk, edited.actions, edited.version) == (
        plan.pk,
        "Send a summary the same day.",
        2,
    )


def test_editing_with_an_old_version_is_refused_and_saves_nothing(rm, listening):
    write(rm, listening)
    write(rm, listening, actions="Second tab", expected_version=1)
    with pytest.raises(StaleEdit):
        write(rm, listening, actions="First tab, late", expected_version=1)
    assert ImprovementPlan.objects.get().actions == "Second tab"


def test_rm_closes_their_plan(rm, listening):
    plan = write(rm, listening)
    closed = services.improvement_plan_close(plan_id=plan.pk, by=rm, expected_version=1)
    assert closed.closed


def test_closing_twice_is_refused(rm, listening):
    plan = write(rm, listening)
    services.improvement_plan_close(plan_id=plan.pk, by=rm)
    with pytest.raises(InvalidTransition):
        services.improvement_plan_close(plan_id=plan.pk, by=rm)


def test_another_rm_cannot_close_a_plan_they_cannot_see(rm, teammate, listening):
    plan = write(rm, listening)
    with pytest.raises(ImprovementPlan.DoesNotExist):
        services.improvement_plan_close(plan_id=plan.pk, by=teammate)


def test_writing_again_reopens_a_closed_plan(rm, listening):
    plan = write(rm, listening)
    services.improvement_plan_close(plan_id=plan.pk, by=rm)
    reopened = write(rm, listening, actions="Try again with a checklist", expected_version=2)
    assert (reopened.pk, reopened.closed) == (plan.pk, False)


def test_a_plan_may_be_written_for_a_behaviour_on_target(rm, listening):
    rate(rm, listening, MAR, 5, 5, 5)  # 100 %: on target
    assert write(rm, listening).pk


# --- the page ------------------------------------------------------------------------------


def page(behaviour):
    return reverse("coaching:improvement_plan", args=[behaviour.pk])


def form(**changes):
    data = {
        "action": "save",
        "actions": "Summarise every review in writing.",
        "support": "",
        "review_on": (datetime.date.today() + datetime.timedelta(days=30)).isoformat(),
        "version": "",
    }
    data.update(changes)
    return data


def test_rm_saves_a_plan_from_the_page_and_lands_on_their_card(client, rm, listening):
    client.force_login(rm)
    response = client.post(page(listening), form())
    assert response.status_code == 302
    assert response.url.startswith(reverse("coaching:report_card"))
    assert ImprovementPlan.objects.get(rm=rm).actions == "Summarise every review in writing."


def test_the_page_says_the_behaviour_is_below_target(client, rm, listening):
    rate(rm, listening, MAR, 2, 2, 4)
    client.force_login(rm)
    response = client.get(page(listening))
    assert response.context["below_target"]
    assert "Below target: a plan is expected." in response.content.decode()


def test_a_past_review_date_is_shown_on_the_field(client, rm, listening):
    client.force_login(rm)
    response = client.post(page(listening), form(review_on="2020-01-01"))
    assert response.status_code == 400
    assert "The review date is in the past" in response.content.decode()


def test_a_stale_save_shows_the_current_plan_and_what_was_not_saved(client, rm, listening):
    ImprovementPlanFactory(rm=rm, behaviour=listening, version=3, review_on=REVIEW)
    client.force_login(rm)
    response = client.post(page(listening), form(actions="My late words", version="2"))
    assert response.status_code == 409
    body = response.content.decode()
    assert "My late words" in body  # what they tried, shown as not saved
    assert ImprovementPlan.objects.get().actions != "My late words"


def test_rm_closes_the_plan_from_the_page(client, rm, listening):
    plan = ImprovementPlanFactory(rm=rm, behaviour=listening, review_on=REVIEW)
    client.force_login(rm)
    client.post(page(listening), {"action": "close", "version": str(plan.version)})
    plan.refresh_from_db()
    assert plan.closed


@pytest.mark.parametrize("who", ["leader", "executive"])
def test_the_plan_page_is_403_for_everyone_but_rms(client, request, who, listening):
    client.force_login(request.getfixturevalue(who))
    assert client.get(page(listening)).status_code == 403


def test_a_behaviour_of_an_unapproved_set_is_404(client, rm, executive):
    draft = BehaviourSetFactory(created_by=executive, plan_year__year=2028)
    client.force_login(rm)
    assert client.get(page(BehaviourFactory(behaviour_set=draft))).status_code == 404


def test_another_rms_plan_for_the_same_behaviour_is_not_shown(client, rm, teammate, listening):
    ImprovementPlanFactory(rm=teammate, behaviour=listening, actions="Teammate's secret plan")
    client.force_login(rm)
    response = client.get(page(listening))
    assert response.context["plan"] is None
    assert "Teammate's secret plan" not in response.content.decode()


def test_leader_of_another_team_does_not_see_the_plan_on_the_card(
    client, rm, other_leader, listening
):
    ImprovementPlanFactory(rm=rm, behaviour=listening)
    client.force_login(other_leader)
    url = reverse("coaching:rm_report_card", args=[rm.pk]) + "?year=2027"
    assert client.get(url).status_code == 404
