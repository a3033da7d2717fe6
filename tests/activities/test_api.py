"""The activity resource of the API (docs/api.md): status, contact, next step,
participants, version 409, delete within the lock window; the services' rules."""

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.models import Activity
from tests.factories import AccountFactory, ActivityFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
LIST = "/api/v1/activities/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


def detail(pk):
    return reverse("api:activity-detail", args=[pk])


def body(account, **changes):
    return {
        "kind": "call",
        "date": timezone.localdate().isoformat(),
        "account": account.pk,
        "outcome": "x",
    } | changes


def post(client, data):
    return client.post(LIST, data, content_type="application/json")


def patch(client, pk, data):
    return client.patch(detail(pk), data, content_type="application/json")


def test_a_plan_is_created_with_status_contact_and_a_joint_call(
    client, rm, leader, account, contact
):
    client.force_login(rm)
    tomorrow = (timezone.localdate() + DAY).isoformat()
    response = post(
        client,
        body(
            account,
            status="planned",
            date=tomorrow,
            outcome="",
            contact=contact.pk,
            participants=[leader.pk],
            next_step="Bring the offer",
            next_step_due=tomorrow,
        ),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["status"], data["contact"], data["participants"], data["version"]) == (
        "planned",
        contact.pk,
        [leader.pk],
        1,
    )


def test_a_done_activity_in_the_future_is_400_on_date(client, rm, account):
    client.force_login(rm)
    response = post(client, body(account, date=(timezone.localdate() + DAY).isoformat()))
    assert response.status_code == 400
    assert list(response.json()) == ["date"]


def test_a_participant_of_another_team_does_not_exist_for_the_rm(client, rm, other_leader, account):
    client.force_login(rm)
    response = post(client, body(account, participants=[other_leader.pk]))
    assert response.status_code == 400
    assert list(response.json()) == ["participants"]


def test_a_stale_version_is_409(client, rm, account):
    activity = ActivityFactory(account=account)
    client.force_login(rm)
    assert patch(client, activity.pk, {"outcome": "one", "version": 1}).status_code == 200
    response = patch(client, activity.pk, {"outcome": "two", "version": 1})
    assert response.status_code == 409
    assert response.json()["code"] == "StaleEdit"


def test_the_rm_deletes_an_own_activity_within_the_window(client, rm, account):
    activity = ActivityFactory(account=account)
    client.force_login(rm)
    assert client.delete(detail(activity.pk)).status_code == 204
    assert not Activity.objects.exists()


def test_a_locked_activity_is_not_deleted_403(client, rm, account):
    activity = ActivityFactory(
        account=account,
        date=timezone.localdate() - 30 * DAY,
        created_at=timezone.now() - 30 * DAY,
    )
    client.force_login(rm)
    response = client.delete(detail(activity.pk))
    assert response.status_code == 403
    assert "locked" in response.json()["detail"]
    assert Activity.objects.exists()


def test_a_leader_deleting_the_rms_activity_is_403(client, leader, account):
    activity = ActivityFactory(account=account)
    client.force_login(leader)
    assert client.delete(detail(activity.pk)).status_code == 403


def test_another_teams_rm_does_not_find_the_activity_404(client, other_rm, account):
    activity = ActivityFactory(account=account)
    client.force_login(other_rm)
    assert client.get(detail(activity.pk)).status_code == 404
    assert client.delete(detail(activity.pk)).status_code == 404


def test_the_teammate_who_went_along_reads_the_joint_call(client, teammate, account):
    activity = ActivityFactory(account=AccountFactory(owner=account.owner))
    activity.participants.add(teammate)
    client.force_login(teammate)
    assert client.get(detail(activity.pk)).status_code == 200
