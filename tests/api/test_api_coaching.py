"""Check-ins, commitments and customer ratings over the API (docs/api.md).

The same access layer and services as the check-in pages: outside scope is 404 (lists
leave the row out), inside scope but not allowed is 403, a transition not valid from the
current state is 409, bad input is 400 naming the field.
"""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from coaching.models import CheckIn, Commitment, LineRating
from tests.api.urls import detail_url, ids, list_url
from tests.factories import (
    AccountFactory,
    BehaviourFactory,
    CheckInFactory,
    CommitmentFactory,
    CustomerRatingFactory,
    ExecutiveFactory,
    PlanYearFactory,
    TargetLineFactory,
    TargetSetFactory,
    metric,
)

pytestmark = pytest.mark.django_db

WEEK = datetime.date(2027, 3, 8)
RESOURCES = ["checkin", "commitment", "rating"]
OUTSIDERS = ["other_rm", "other_leader"]


def at(day, hour=9):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def checkin(rm, leader):
    """The RM's weekly check-in with their leader, still scheduled."""
    return CheckInFactory(rm=rm, period_start=WEEK)


@pytest.fixture
def completed(rm, leader):
    """Last week's check-in, completed and not acknowledged yet."""
    return CheckInFactory(
        rm=rm,
        period_start=WEEK - datetime.timedelta(days=7),
        status="completed",
        completed_at=at(WEEK - datetime.timedelta(days=7), 10),
        completed_by=leader,
        snapshot={"version": 1, "kind": "weekly", "plan": {"available": False}},
    )


@pytest.fixture
def commitment(checkin):
    return CommitmentFactory(checkin=checkin)


@pytest.fixture
def rating(account):
    return CustomerRatingFactory(account=account, comment="Always calls back.")


@pytest.fixture
def records(checkin, commitment, rating):
    return {"checkin": checkin, "commitment": commitment, "rating": rating}


def action_url(resource, pk, name):
    return reverse(f"api:{resource}-{name}", args=[pk])


def post(client, url, body=None, **extra):
    return client.post(url, body or {}, content_type="application/json", **extra)


def reload(record):
    record.refresh_from_db()
    return record


# --- IDOR matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("outsider", [*OUTSIDERS, "teammate"])
def test_another_teams_user_gets_404_for_the_detail(api, records, resource, outsider, request):
    client = api(request.getfixturevalue(outsider))
    assert client.get(detail_url(resource, records[resource].pk)).status_code == 404


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("outsider", [*OUTSIDERS, "teammate"])
def test_the_list_leaves_out_another_teams_rows(api, records, resource, outsider, request):
    response = api(request.getfixturevalue(outsider)).get(list_url(resource))
    assert response.status_code == 200
    assert records[resource].pk not in ids(response)


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("insider", ["rm", "leader", "executive", "administrator"])
def test_the_rm_their_leader_and_the_whole_bank_see_the_row(
    api, records, resource, insider, request
):
    client = api(request.getfixturevalue(insider))
    assert records[resource].pk in ids(client.get(list_url(resource)))
    assert client.get(detail_url(resource, records[resource].pk)).json()["id"] == (
        records[resource].pk
    )


def _checkin_action_bodies(checkin, completed):
    return [
        ("notes", checkin, {"version": checkin.version, "deals_notes": "x"}),
        ("complete", checkin, {"version": checkin.version}),
        ("cancel", checkin, {"reason": "Holiday"}),
        ("acknowledge", completed, {"comment": "Read"}),
    ]


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("index", range(4), ids=["notes", "complete", "cancel", "acknowledge"])
def test_a_check_in_action_outside_scope_is_404_and_changes_nothing(
    api, checkin, completed, outsider, index, request
):
    name, target, body = _checkin_action_bodies(checkin, completed)[index]
    before = CheckIn.objects.values().get(pk=target.pk)
    response = post(
        api(request.getfixturevalue(outsider)), action_url("checkin", target.pk, name), body
    )
    assert response.status_code == 404
    assert CheckIn.objects.values().get(pk=target.pk) == before


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("name", ["done", "undone"])
def test_ticking_a_commitment_outside_scope_is_404(api, commitment, outsider, name, request):
    if name == "undone":
        Commitment.objects.filter(pk=commitment.pk).update(done=True, done_at=timezone.now())
    response = post(
        api(request.getfixturevalue(outsider)), action_url("commitment", commitment.pk, name)
    )
    assert response.status_code == 404
    assert reload(commitment).done is (name == "undone")


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_a_commitment_on_a_check_in_outside_scope_is_400_as_if_it_did_not_exist(
    api, checkin, outsider, request
):
    body = {"checkin": checkin.pk, "owner_role": "rm", "text": "Call", "due_on": "2027-03-15"}
    response = post(api(request.getfixturevalue(outsider)), list_url("commitment"), body)
    assert response.status_code == 400
    assert "does not exist" in response.json()["checkin"][0]
    assert not Commitment.objects.exists()


@pytest.mark.parametrize("resource", ["checkin", "rating"])
def test_read_only_resources_refuse_writes(api, records, resource, leader):
    client = api(leader)
    assert post(client, list_url(resource)).status_code == 405
    assert client.delete(detail_url(resource, records[resource].pk)).status_code == 405


def test_commitments_are_neither_changed_nor_deleted_directly(api, commitment, leader):
    client = api(leader)
    url = detail_url("commitment", commitment.pk)
    assert client.patch(url, {"done": True}, content_type="application/json").status_code == 405
    assert client.delete(url).status_code == 405


@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999"])
@pytest.mark.parametrize("resource", RESOURCES)
def test_a_junk_id_is_404_never_500(api, rm, resource, pk):
    assert api(rm).get(f"{list_url(resource)}{pk}/").status_code == 404


# --- 403: inside scope, not allowed --------------------------------------------------------


@pytest.mark.parametrize("name", ["notes", "complete", "cancel"])
@pytest.mark.parametrize("who", ["rm", "executive", "administrator"])
def test_only_the_teams_leader_runs_a_check_in_403(api, checkin, name, who, request):
    body = {"version": checkin.version, "reason": "No time"}
    response = post(
        api(request.getfixturevalue(who)), action_url("checkin", checkin.pk, name), body
    )
    assert response.status_code == 403
    assert reload(checkin).status == "scheduled"


def test_the_rm_completing_their_own_check_in_is_403(api, checkin, rm):
    response = post(api(rm), action_url("checkin", checkin.pk, "complete"), {"version": 1})
    assert response.status_code == 403
    assert "leader" in response.json()["detail"]


@pytest.mark.parametrize("who", ["leader", "executive"])
def test_only_the_rm_acknowledges_403(api, completed, who, request):
    response = post(
        api(request.getfixturevalue(who)), action_url("checkin", completed.pk, "acknowledge")
    )
    assert response.status_code == 403
    assert reload(completed).acknowledged_at is None


def test_the_rm_may_not_record_commitments_403(api, checkin, rm):
    body = {"checkin": checkin.pk, "owner_role": "rm", "text": "Call", "due_on": "2027-03-15"}
    assert post(api(rm), list_url("commitment"), body).status_code == 403
    assert not Commitment.objects.exists()


def test_an_executive_sees_a_commitment_but_may_not_tick_it_403(api, commitment, executive):
    response = post(api(executive), action_url("commitment", commitment.pk, "done"))
    assert response.status_code == 403
    assert reload(commitment).done is False


# --- 409: not from the current state -------------------------------------------------------


def test_completing_a_completed_check_in_is_409(api, completed, leader):
    response = post(
        api(leader), action_url("checkin", completed.pk, "complete"), {"version": completed.version}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "InvalidTransition"


def test_acknowledging_twice_is_409(api, completed, rm):
    client = api(rm)
    assert post(client, action_url("checkin", completed.pk, "acknowledge")).status_code == 200
    response = post(client, action_url("checkin", completed.pk, "acknowledge"))
    assert response.status_code == 409
    assert response.json()["code"] == "InvalidTransition"


def test_acknowledging_an_open_check_in_is_409(api, checkin, rm):
    response = post(api(rm), action_url("checkin", checkin.pk, "acknowledge"))
    assert response.status_code == 409


def test_cancelling_a_completed_check_in_is_409(api, completed, leader):
    response = post(api(leader), action_url("checkin", completed.pk, "cancel"), {"reason": "x"})
    assert response.status_code == 409
    assert reload(completed).status == "completed"


def test_notes_on_a_completed_check_in_are_409(api, completed, leader):
    body = {"version": completed.version, "deals_notes": "late"}
    response = post(api(leader), action_url("checkin", completed.pk, "notes"), body)
    assert response.status_code == 409
    assert reload(completed).deals_notes == ""


def test_notes_from_a_stale_version_are_409_and_keep_the_newer_notes(api, checkin, leader):
    client = api(leader)
    url = action_url("checkin", checkin.pk, "notes")
    post(client, url, {"version": checkin.version, "deals_notes": "first"})
    response = post(client, url, {"version": checkin.version, "deals_notes": "stale"})
    assert response.status_code == 409
    assert response.json()["code"] == "StaleEdit"
    assert reload(checkin).deals_notes == "first"


def test_a_commitment_in_a_completed_check_in_is_409(api, completed, leader):
    body = {"checkin": completed.pk, "owner_role": "rm", "text": "Call", "due_on": "2027-03-15"}
    assert post(api(leader), list_url("commitment"), body).status_code == 409


# --- 400: bad input names the field --------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"reason": "   "}, {"reason": "x" * 201}])
def test_cancelling_without_a_reason_is_400_naming_reason(api, checkin, leader, body):
    response = post(api(leader), action_url("checkin", checkin.pk, "cancel"), body)
    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    assert reload(checkin).status == "scheduled"


@pytest.mark.parametrize("name", ["notes", "complete"])
def test_notes_without_the_version_read_are_400_naming_version(api, checkin, leader, name):
    response = post(api(leader), action_url("checkin", checkin.pk, name), {"deals_notes": "x"})
    assert response.status_code == 400
    assert list(response.json()) == ["version"]


def test_notes_of_another_kind_are_400_naming_the_field(api, checkin, leader):
    body = {"version": 1, "deals_notes": "ok", "review_summary": "not weekly"}
    response = post(api(leader), action_url("checkin", checkin.pk, "notes"), body)
    assert response.status_code == 400
    assert list(response.json()) == ["review_summary"]
    assert reload(checkin).deals_notes == ""


def test_only_the_semi_annual_review_is_rated_400_naming_the_field(api, checkin, leader):
    body = {"version": 1, "overall_rating": 3}
    response = post(api(leader), action_url("checkin", checkin.pk, "notes"), body)
    assert response.status_code == 400
    assert list(response.json()) == ["overall_rating"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"owner_role": "team"}, "owner_role"),
        ({"text": ""}, "text"),
        ({"due_on": "2027-02-30"}, "due_on"),
        ({"due_on": "2027-01-01"}, "due_on"),  # before the check-in (the service says so)
        ({"checkin": "99999999999999999999"}, "checkin"),
        ({"checkin": "abc"}, "checkin"),
    ],
)
def test_a_bad_commitment_is_400_naming_the_field(api, checkin, leader, changes, field):
    body = {"checkin": checkin.pk, "owner_role": "rm", "text": "Call", "due_on": "2027-03-15"}
    response = post(api(leader), list_url("commitment"), body | changes)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Commitment.objects.exists()


@pytest.mark.parametrize(
    ("resource", "params", "field"),
    [
        ("checkin", {"status": "sleeping"}, "status"),
        ("checkin", {"kind": "daily"}, "kind"),
        ("checkin", {"scheduled_from": "2027-13-01"}, "scheduled_from"),
        ("checkin", {"period": "garbage"}, "period"),
        ("commitment", {"done": "maybe"}, "done"),
        ("commitment", {"due_to": "soon"}, "due_to"),
        ("rating", {"rating": "9"}, "rating"),
        ("rating", {"month_from": "march"}, "month_from"),
        ("rating", {"rating_min": "0"}, "rating_min"),
        ("checkin", {"rm": "99999999999999999999"}, "rm"),
        ("commitment", {"checkin": "1e38"}, "checkin"),
        ("rating", {"account": "1.5"}, "account"),
    ],
)
def test_a_junk_filter_value_is_400_naming_the_parameter(api, rm, resource, params, field):
    response = api(rm).get(list_url(resource), params)
    assert response.status_code == 400
    assert field in response.json()


# --- check-ins: happy paths ----------------------------------------------------------------


def test_the_leader_saves_notes_which_starts_the_check_in(api, checkin, leader):
    body = {"version": checkin.version, "deals_notes": "  Acme renewal slipped  "}
    response = post(api(leader), action_url("checkin", checkin.pk, "notes"), body)
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["deals_notes"], data["version"]) == (
        "in_progress",
        "Acme renewal slipped",
        checkin.version + 1,
    )
    assert reload(checkin).started_at is not None


def test_notes_left_out_do_not_change(api, checkin, leader):
    CheckIn.objects.filter(pk=checkin.pk).update(activity_notes="kept")
    body = {"version": checkin.version, "deals_notes": "new"}
    post(api(leader), action_url("checkin", checkin.pk, "notes"), body)
    assert (reload(checkin).activity_notes, checkin.deals_notes) == ("kept", "new")


def test_the_leader_completes_and_the_figures_are_frozen_in_the_snapshot(api, checkin, leader):
    body = {"version": checkin.version, "field_observation": "Good joint visit"}
    response = post(api(leader), action_url("checkin", checkin.pk, "complete"), body)
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "completed"
    assert data["field_observation"] == "Good joint visit"
    assert data["snapshot"] == reload(checkin).snapshot
    assert data["snapshot"]["kind"] == "weekly"
    assert data["actions"] == []


def test_the_detail_of_a_completed_check_in_shows_its_snapshot_the_list_does_not(
    api, completed, rm
):
    client = api(rm)
    assert client.get(detail_url("checkin", completed.pk)).json()["snapshot"] == completed.snapshot
    row = client.get(list_url("checkin")).json()["results"][0]
    assert "snapshot" not in row


def test_the_rm_acknowledges_a_completed_check_in_with_a_comment(api, completed, rm):
    client = api(rm)
    assert client.get(detail_url("checkin", completed.pk)).json()["actions"] == ["acknowledge"]
    response = post(
        client, action_url("checkin", completed.pk, "acknowledge"), {"comment": " Agreed "}
    )
    assert response.status_code == 200
    assert response.json()["rm_comment"] == "Agreed"
    assert response.json()["acknowledged_at"] is not None
    assert reload(completed).snapshot == {
        "version": 1,
        "kind": "weekly",
        "plan": {"available": False},
    }


def test_the_leader_cancels_saying_why(api, checkin, leader):
    response = post(api(leader), action_url("checkin", checkin.pk, "cancel"), {"reason": "Sick"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("cancelled", "Sick")


def test_the_leaders_actions_on_an_open_check_in(api, checkin, leader):
    actions = api(leader).get(detail_url("checkin", checkin.pk)).json()["actions"]
    assert actions == ["cancel", "commit", "complete", "edit"]


@pytest.fixture
def review(rm, leader):
    """The RM's semi-annual review of H1 2027, with approved targets on two lines."""
    plan_year = PlanYearFactory(year=2027)
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
    for code in ("loan_growth", "deposit_growth"):
        TargetLineFactory(target_set=target_set, metric=metric(code), value=Decimal(10), weight=50)
    return CheckInFactory(
        rm=rm,
        kind="semi_annual",
        period_start=datetime.date(2027, 1, 1),
        period_end=datetime.date(2027, 6, 30),
        scheduled_at=at(datetime.date(2027, 7, 5), 14),
    )


def test_a_review_is_completed_with_its_ratings_and_line_ratings(api, review, leader):
    loans = metric("loan_growth")
    body = {
        "version": review.version,
        "review_summary": "A strong half",
        "rb_rating": 4,
        "overall_rating": 3,
        "line_ratings": [{"metric": loans.pk, "rating": 4, "comment": "Ahead of plan"}],
    }
    response = post(api(leader), action_url("checkin", review.pk, "complete"), body)
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["overall_rating"], data["rb_rating"]) == ("completed", 3, 4)
    assert data["line_ratings"] == [
        {
            "metric": loans.pk,
            "metric_code": "loan_growth",
            "metric_name": loans.name,
            "rating": 4,
            "comment": "Ahead of plan",
        }
    ]


def test_a_review_without_its_overall_rating_is_400_listing_what_is_missing(api, review, leader):
    body = {"version": review.version, "rb_rating": 4}
    response = post(api(leader), action_url("checkin", review.pk, "complete"), body)
    assert response.status_code == 400
    assert set(response.json()["missing"]) == {"overall_rating"}
    assert reload(review).status == "scheduled"


def test_a_line_rating_of_a_metric_not_among_the_rms_targets_is_400(api, review, leader):
    other = metric("new_relationships")
    body = {"version": review.version, "line_ratings": [{"metric": other.pk, "rating": 3}]}
    response = post(api(leader), action_url("checkin", review.pk, "notes"), body)
    assert response.status_code == 400
    assert list(response.json()) == ["line_ratings"]
    assert not LineRating.objects.exists()


@pytest.mark.parametrize("rating", [0, 6, "good"])
def test_a_rating_outside_1_to_5_is_400_naming_it(api, review, leader, rating):
    body = {"version": review.version, "overall_rating": rating}
    response = post(api(leader), action_url("checkin", review.pk, "notes"), body)
    assert response.status_code == 400
    assert list(response.json()) == ["overall_rating"]


# --- check-ins: filters and ordering -------------------------------------------------------


def test_check_ins_filter_by_status_and_kind(api, checkin, completed, review, rm):
    client = api(rm)
    assert ids(client.get(list_url("checkin"), {"status": "completed"})) == {completed.pk}
    assert ids(client.get(list_url("checkin"), {"kind": "semi_annual"})) == {review.pk}


def test_check_ins_filter_by_scheduled_range_and_period(api, checkin, completed, review, rm):
    client = api(rm)
    params = {"scheduled_from": "2027-03-01", "scheduled_to": "2027-03-07"}
    assert ids(client.get(list_url("checkin"), params)) == {completed.pk}
    assert ids(client.get(list_url("checkin"), {"period": "2027-03-10"})) == {
        checkin.pk,
        review.pk,
    }


def test_check_ins_filter_by_rm_for_a_leader(api, checkin, teammate, leader):
    theirs = CheckInFactory(rm=teammate, period_start=WEEK)
    client = api(leader)
    assert ids(client.get(list_url("checkin"), {"rm": teammate.pk})) == {theirs.pk}
    assert ids(client.get(list_url("checkin"), {"leader": leader.pk})) == {checkin.pk, theirs.pk}


def test_check_ins_order_by_scheduled_at_newest_first(api, checkin, completed, review, rm):
    rows = api(rm).get(list_url("checkin"), {"ordering": "-scheduled_at"}).json()["results"]
    assert [r["id"] for r in rows] == [review.pk, checkin.pk, completed.pk]


# --- commitments ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "owner"), [("rm", "rm"), ("leader", "leader")])
def test_the_leader_records_the_rms_or_their_own_commitment(
    api, checkin, leader, role, owner, request
):
    body = {
        "checkin": checkin.pk,
        "owner_role": role,
        "text": " Call Acme ",
        "due_on": "2027-03-15",
    }
    response = post(api(leader), list_url("commitment"), body)
    assert response.status_code == 201
    created = Commitment.objects.get()
    assert (created.owner, created.rm, created.text) == (
        request.getfixturevalue(owner),
        checkin.rm,
        "Call Acme",
    )
    assert response.json()["id"] == created.pk
    assert response.json()["owner_role"] == role
    assert reload(checkin).status == "in_progress"


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_the_rm_and_their_leader_tick_a_commitment_off_and_on(api, commitment, who, request):
    user = request.getfixturevalue(who)
    client = api(user)
    response = post(client, action_url("commitment", commitment.pk, "done"))
    assert response.status_code == 200
    assert (response.json()["done"], response.json()["done_by"]) == (True, user.pk)
    response = post(client, action_url("commitment", commitment.pk, "undone"))
    assert (response.json()["done"], response.json()["done_at"]) == (False, None)
    assert reload(commitment).done is False


def test_ticking_a_done_commitment_off_again_changes_nothing(api, commitment, rm, leader):
    post(api(rm), action_url("commitment", commitment.pk, "done"))
    done_at = reload(commitment).done_at
    response = post(api(leader), action_url("commitment", commitment.pk, "done"))
    assert response.status_code == 200
    assert (reload(commitment).done_at, commitment.done_by) == (done_at, commitment.rm)


def test_commitments_filter_by_done_and_due_range(api, checkin, rm):
    open_ = CommitmentFactory(checkin=checkin, due_on=datetime.date(2027, 3, 12))
    later = CommitmentFactory(checkin=checkin, due_on=datetime.date(2027, 4, 30))
    done = CommitmentFactory(
        checkin=checkin, due_on=datetime.date(2027, 3, 12), done=True, done_at=timezone.now()
    )
    client = api(rm)
    assert ids(client.get(list_url("commitment"), {"done": "false"})) == {open_.pk, later.pk}
    assert ids(client.get(list_url("commitment"), {"done": "true"})) == {done.pk}
    params = {"due_from": "2027-03-01", "due_to": "2027-03-31", "done": "false"}
    assert ids(client.get(list_url("commitment"), params)) == {open_.pk}


def test_commitments_filter_by_check_in(api, checkin, completed, rm):
    mine = CommitmentFactory(checkin=completed)
    CommitmentFactory(checkin=checkin)
    assert ids(api(rm).get(list_url("commitment"), {"checkin": completed.pk})) == {mine.pk}


def test_a_commitment_past_its_due_day_and_open_is_overdue(api, checkin, rm):
    CommitmentFactory(checkin=checkin, due_on=timezone.localdate() - datetime.timedelta(days=1))
    assert api(rm).get(list_url("commitment")).json()["results"][0]["overdue"] is True


# --- ratings -------------------------------------------------------------------------------


def test_the_rated_rm_reads_a_rating_without_the_customer(api, rating, rm):
    data = api(rm).get(detail_url("rating", rating.pk)).json()
    assert (data["account"], data["account_name"]) == (None, None)
    assert (data["comment"], data["rating"]) == ("Always calls back.", 4)


@pytest.mark.parametrize("who", ["leader", "executive"])
def test_the_leader_and_the_bank_read_which_customer_rated(api, rating, who, request):
    data = api(request.getfixturevalue(who)).get(detail_url("rating", rating.pk)).json()
    assert (data["account"], data["account_name"]) == (rating.account_id, rating.account.name)


def test_the_rated_rm_cannot_find_a_customers_ratings_by_filtering_on_the_account(
    api, rating, rm, leader
):
    params = {"account": rating.account_id}
    assert ids(api(rm).get(list_url("rating"), params)) == set()
    assert ids(api(leader).get(list_url("rating"), params)) == {rating.pk}


def test_ratings_filter_by_month_range_score_and_behaviour(api, account, rm):
    march = CustomerRatingFactory(account=account, month=datetime.date(2027, 3, 1), rating=2)
    april = CustomerRatingFactory(account=account, month=datetime.date(2027, 4, 1), rating=5)
    client = api(rm)
    assert ids(client.get(list_url("rating"), {"month_from": "2027-04-01"})) == {april.pk}
    assert ids(client.get(list_url("rating"), {"month_to": "2027-03-01"})) == {march.pk}
    assert ids(client.get(list_url("rating"), {"rating": 2})) == {march.pk}
    assert ids(client.get(list_url("rating"), {"rating_min": 4})) == {april.pk}
    params = {"behaviour": april.behaviour_id}
    assert ids(client.get(list_url("rating"), params)) == {april.pk}


def test_ratings_order_by_score(api, account, rm):
    low = CustomerRatingFactory(account=account, rating=1)
    high = CustomerRatingFactory(account=account, rating=5)
    rows = api(rm).get(list_url("rating"), {"ordering": "-rating"}).json()["results"]
    assert [r["id"] for r in rows] == [high.pk, low.pk]


# --- authentication ------------------------------------------------------------------------


def test_anonymous_gets_401(checkin):
    assert Client().get(list_url("checkin")).status_code == 401


def test_a_token_reads_the_users_check_ins(checkin, rm):
    token = Token.objects.create(user=rm)
    response = Client().get(list_url("checkin"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert ids(response) == {checkin.pk}


def test_a_token_runs_an_action_without_a_csrf_token(checkin, leader):
    token = Token.objects.create(user=leader)
    response = post(
        Client(enforce_csrf_checks=True),
        action_url("checkin", checkin.pk, "cancel"),
        {"reason": "Moved"},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 200
    assert reload(checkin).status == "cancelled"


def test_a_session_action_without_a_csrf_token_is_403(checkin, leader):
    client = Client(enforce_csrf_checks=True)
    client.force_login(leader)
    response = post(client, action_url("checkin", checkin.pk, "cancel"), {"reason": "Moved"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert reload(checkin).status == "scheduled"


def test_a_revoked_token_is_refused_401(checkin, rm):
    token = Token.objects.create(user=rm)
    key = token.key
    token.delete()
    response = Client().get(list_url("checkin"), HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401


# --- query counts --------------------------------------------------------------------------

# Session (1) + user (1) + COUNT (1) + rows (1), with everything a row shows joined in; the
# check-ins also fetch the review's line ratings (1).
LIST_QUERIES = {"checkin": 5, "commitment": 4, "rating": 4}


def _fill(rm, rows):
    for i in range(rows):
        checkin = CheckInFactory(rm=rm, period_start=WEEK + datetime.timedelta(days=7 * i))
        CommitmentFactory(checkin=checkin)
        CustomerRatingFactory(account=AccountFactory(owner=rm), behaviour=BehaviourFactory())


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("rows", [10, 60])
@pytest.mark.parametrize("who", ["rm", "leader"])
def test_list_query_count_does_not_grow_with_rows(
    api, request, resource, rows, who, django_assert_max_num_queries
):
    _fill(request.getfixturevalue("rm"), rows)
    client = api(request.getfixturevalue(who))
    with django_assert_max_num_queries(LIST_QUERIES[resource]):
        response = client.get(list_url(resource), {"page_size": 100})
    assert response.json()["count"] == rows
