"""The year's RB behaviours: written by executives and the back office, proposed, signed
off by another executive (four eyes); everyone reads the approved set."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from coaching.models import Behaviour, BehaviourSet
from coaching.services import behaviours as services
from coaching.services.behaviours import BehaviourInput
from salesmgmt.workflow import FourEyesViolation, Incomplete, InvalidTransition, StaleEdit
from tests.factories import ExecutiveFactory, PlanYearFactory

from .report_card_helpers import MAR, rate

pytestmark = pytest.mark.django_db

Status = BehaviourSet.Status
SIX = [
    BehaviourInput("Listening", 20),
    BehaviourInput("Empathy", 20),
    BehaviourInput("Follow-up", 20),
    BehaviourInput("Consultation", 20),
    BehaviourInput("Responsiveness", 10),
    BehaviourInput("Proactivity", 10),
]


@pytest.fixture
def year(db):
    return PlanYearFactory(year=2028)


@pytest.fixture
def second_executive(db):
    return ExecutiveFactory(username="exec_two")


def draft(by, year, behaviours=SIX):
    bs = services.behaviour_set_start(plan_year=year, by=by)
    return services.behaviour_set_save(set_id=bs.pk, by=by, behaviours=list(behaviours))


def proposed(by, year):
    bs = draft(by, year)
    return services.behaviour_set_propose(set_id=bs.pk, by=by)


# --- four eyes -----------------------------------------------------------------------------


def test_executive_who_proposed_cannot_approve(executive, year):
    bs = proposed(executive, year)
    with pytest.raises(FourEyesViolation):
        services.behaviour_set_approve(set_id=bs.pk, by=executive)


def test_executive_who_last_edited_cannot_approve(executive, second_executive, administrator, year):
    bs = draft(administrator, year)
    services.behaviour_set_save(set_id=bs.pk, by=second_executive, behaviours=SIX)
    services.behaviour_set_propose(set_id=bs.pk, by=administrator)
    with pytest.raises(FourEyesViolation):
        services.behaviour_set_approve(set_id=bs.pk, by=second_executive)


def test_another_executive_approves(executive, second_executive, year):
    bs = proposed(executive, year)
    approved = services.behaviour_set_approve(set_id=bs.pk, by=second_executive, comment="Fine")
    assert (approved.status, approved.decided_by) == (Status.APPROVED, second_executive)


def test_administrator_never_approves(administrator, executive, year):
    bs = proposed(executive, year)
    with pytest.raises(PermissionDenied):
        services.behaviour_set_approve(set_id=bs.pk, by=administrator)


def test_administrator_may_write_and_propose_for_an_executive_to_approve(
    administrator, executive, year
):
    bs = proposed(administrator, year)
    assert services.behaviour_set_approve(set_id=bs.pk, by=executive).status == Status.APPROVED


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_rms_and_leaders_do_not_write_behaviours(request, who, year):
    with pytest.raises(PermissionDenied):
        services.behaviour_set_start(plan_year=year, by=request.getfixturevalue(who))


def test_weights_must_add_up_to_100_to_propose(executive, year):
    bs = draft(executive, year, [BehaviourInput("Listening", 60), BehaviourInput("Empathy", 30)])
    with pytest.raises(Incomplete) as error:
        services.behaviour_set_propose(set_id=bs.pk, by=executive)
    assert "add up to 90" in error.value.missing["weights"]


def test_a_draft_with_weights_not_adding_up_can_be_saved(executive, year):
    bs = draft(executive, year, [BehaviourInput("Listening", 60)])
    assert bs.status == Status.DRAFT


def test_a_return_needs_a_reason(executive, second_executive, year):
    bs = proposed(executive, year)
    with pytest.raises(ValidationError):
        services.behaviour_set_return(set_id=bs.pk, by=second_executive, comment=" ")


def test_approved_behaviours_no_longer_change(executive, second_executive, year):
    bs = proposed(executive, year)
    services.behaviour_set_approve(set_id=bs.pk, by=second_executive)
    with pytest.raises(InvalidTransition):
        services.behaviour_set_save(set_id=bs.pk, by=executive, behaviours=SIX)


def test_a_save_from_an_old_version_is_refused(executive, year):
    bs = draft(executive, year)
    with pytest.raises(StaleEdit):
        services.behaviour_set_save(
            set_id=bs.pk, by=executive, behaviours=SIX, expected_version=bs.version - 1
        )


# --- saving keeps rows and ratings ----------------------------------------------------------


def test_a_renamed_behaviour_keeps_its_row(executive, year):
    bs = draft(executive, year)
    listening = bs.behaviours.get(name="Listening")
    renamed = [BehaviourInput("Active listening", 20, id=listening.pk), *SIX[1:]]
    services.behaviour_set_save(set_id=bs.pk, by=executive, behaviours=renamed)
    assert Behaviour.objects.get(pk=listening.pk).name == "Active listening"


def test_two_behaviours_may_swap_names(executive, year):
    bs = draft(executive, year)
    a, b = bs.behaviours.get(name="Listening"), bs.behaviours.get(name="Empathy")
    swapped = [
        BehaviourInput("Empathy", 20, id=a.pk),
        BehaviourInput("Listening", 20, id=b.pk),
        *SIX[2:],
    ]
    services.behaviour_set_save(set_id=bs.pk, by=executive, behaviours=swapped)
    assert (Behaviour.objects.get(pk=a.pk).name, Behaviour.objects.get(pk=b.pk).name) == (
        "Empathy",
        "Listening",
    )


def test_a_rated_behaviour_cannot_be_removed(rm, executive, year):
    bs = draft(executive, year)
    rate(rm, bs.behaviours.get(name="Listening"), MAR, 4)
    with pytest.raises(ValidationError):
        services.behaviour_set_save(set_id=bs.pk, by=executive, behaviours=SIX[1:])
    assert bs.behaviours.filter(name="Listening").exists()


# --- the page ------------------------------------------------------------------------------


def page(year):
    return reverse("coaching:behaviours", args=[year.year])


def edit_data(bs, rows, action="save", version=None, min_ratings=5):
    data = {
        "action": action,
        "version": str(version or bs.version),
        "min_ratings_for_ranking": str(min_ratings),
        "behaviours-TOTAL_FORMS": str(len(rows)),
        "behaviours-INITIAL_FORMS": "0",
        "behaviours-MIN_NUM_FORMS": "0",
        "behaviours-MAX_NUM_FORMS": "20",
    }
    for i, (name, weight) in enumerate(rows):
        data.update(
            {
                f"behaviours-{i}-name": name,
                f"behaviours-{i}-weight": str(weight),
                f"behaviours-{i}-objective_pct": "80",
                f"behaviours-{i}-description": "",
            }
        )
    return data


def test_executive_starts_the_years_behaviours_from_the_page(client, executive, year):
    client.force_login(executive)
    response = client.post(page(year), {"action": "start"})
    assert response.status_code == 302
    assert BehaviourSet.objects.get(plan_year=year).status == Status.DRAFT


def test_executive_saves_and_proposes_from_the_page(client, executive, year):
    bs = services.behaviour_set_start(plan_year=year, by=executive)
    client.force_login(executive)
    client.post(page(year), edit_data(bs, [("Listening", 60), ("Empathy", 40)], "propose", 1, 3))
    bs.refresh_from_db()
    assert (bs.status, bs.min_ratings_for_ranking) == (Status.PROPOSED, 3)
    assert [b.name for b in bs.behaviours.all()] == ["Listening", "Empathy"]


def test_proposing_with_weights_not_adding_up_says_so_and_keeps_the_draft(client, executive, year):
    bs = services.behaviour_set_start(plan_year=year, by=executive)
    client.force_login(executive)
    response = client.post(page(year), edit_data(bs, [("Listening", 70)], "propose"))
    assert response.status_code == 400
    assert "The weights add up to 70; they must add up to 100." in response.content.decode()
    bs.refresh_from_db()
    assert bs.status == Status.DRAFT


def test_the_proposer_sees_why_they_cannot_approve(client, executive, year):
    proposed(executive, year)
    client.force_login(executive)
    body = client.get(page(year)).content.decode()
    assert "Four eyes: you proposed these behaviours" in body
    assert 'value="approve"' not in body


def test_approving_ones_own_proposal_by_post_is_refused_with_the_reason(client, executive, year):
    bs = proposed(executive, year)
    client.force_login(executive)
    response = client.post(page(year), {"action": "approve", "comment": ""})
    assert response.status_code == 403
    assert "Four eyes" in response.content.decode()
    bs.refresh_from_db()
    assert bs.status == Status.PROPOSED


def test_another_executive_approves_from_the_page(client, executive, second_executive, year):
    bs = proposed(executive, year)
    client.force_login(second_executive)
    client.post(page(year), {"action": "approve", "comment": "Agreed"})
    bs.refresh_from_db()
    assert (bs.status, bs.decided_by) == (Status.APPROVED, second_executive)


def test_a_return_without_a_reason_is_refused_on_the_page(
    client, executive, second_executive, year
):
    proposed(executive, year)
    client.force_login(second_executive)
    response = client.post(page(year), {"action": "return", "comment": ""})
    assert response.status_code == 400
    assert "Say what should change." in response.content.decode()


def test_administrator_gets_403_approving_on_the_page(client, executive, administrator, year):
    proposed(executive, year)
    client.force_login(administrator)
    assert client.post(page(year), {"action": "approve"}).status_code == 403


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_rms_and_leaders_get_403_saving(client, request, who, executive, year):
    bs = draft(executive, year)
    client.force_login(request.getfixturevalue(who))
    assert client.post(page(year), edit_data(bs, [("Listening", 100)])).status_code == 403


def test_everyone_reads_the_approved_behaviours(client, rm, behaviours, plan_year):
    client.force_login(rm)
    body = client.get(page(plan_year)).content.decode()
    assert "Listening" in body
    assert "Follow-up" in body
    assert 'id="behaviours-form"' not in body


def test_an_rm_does_not_see_behaviours_before_approval(client, rm, executive, year):
    draft(executive, year)
    client.force_login(rm)
    response = client.get(page(year))
    assert not response.context["visible"]
    assert "Consultation" not in response.content.decode()


def test_an_unknown_year_is_404(client, rm, year):
    client.force_login(rm)
    assert client.get(reverse("coaching:behaviours", args=[1999])).status_code == 404


def test_behaviours_page_query_count_does_not_grow_with_behaviours(
    client, executive, year, django_assert_max_num_queries
):
    # Session, user, plan year, the set, plan years, behaviours; the bell's unread count
    # (org.context_processors, +1 since the notifications).
    bs = draft(executive, year, SIX[:2])
    client.force_login(executive)
    with django_assert_max_num_queries(7):
        client.get(page(year))
    services.behaviour_set_save(set_id=bs.pk, by=executive, behaviours=SIX)
    with django_assert_max_num_queries(7):
        client.get(page(year))
