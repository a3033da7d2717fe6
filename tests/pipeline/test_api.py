"""The pipeline over the API: the same services as the pages (docs/api.md)."""

import pytest

from tests.api.urls import detail_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def action_url(deal, name):
    return f"{detail_url('opportunity', deal.pk)}{name}/"


def test_moving_a_deal_over_the_api_writes_its_history(api, rm, deal):
    response = post(api(rm), action_url(deal, "move"), {"stage": "proposal"})
    assert response.status_code == 200
    assert (response.json()["stage"], response.json()["probability"]) == ("proposal", 50)
    history = api(rm).get(action_url(deal, "history")).json()
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [("qualified", "proposal")]


def test_winning_over_the_api_closes_at_100(api, rm, deal):
    body = post(api(rm), action_url(deal, "win"), {}).json()
    assert (body["status"], body["probability"]) == ("won", 100)


def test_losing_over_the_api_without_a_reason_is_400_naming_it(api, rm, deal):
    response = post(api(rm), action_url(deal, "lose"), {})
    assert response.status_code == 400
    assert list(response.json()) == ["lost_reason"]


def test_losing_over_the_api_with_a_reason(api, rm, deal, reason):
    body = post(api(rm), action_url(deal, "lose"), {"lost_reason": reason.pk}).json()
    assert (body["status"], body["lost_reason"]) == ("lost", reason.pk)


def test_an_inactive_reason_is_400(api, rm, deal, retired_reason):
    response = post(api(rm), action_url(deal, "lose"), {"lost_reason": retired_reason.pk})
    assert list(response.json()) == ["lost_reason"]


def test_patching_status_lost_without_a_reason_is_400_naming_it(api, rm, deal):
    response = api(rm).patch(
        detail_url("opportunity", deal.pk), {"status": "lost"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["lost_reason"]


def test_a_stale_version_is_409(api, rm, deal):
    client = api(rm)
    url = detail_url("opportunity", deal.pk)
    client.patch(url, {"next_step": "a", "version": 1}, content_type="application/json")
    response = client.patch(url, {"next_step": "b", "version": 1}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "StaleEdit"


def test_an_expected_close_before_creation_is_400_naming_it(api, rm, deal):
    response = api(rm).patch(
        detail_url("opportunity", deal.pk),
        {"expected_close": "2020-01-01"},
        content_type="application/json",
    )
    assert list(response.json()) == ["expected_close"]


def test_another_teams_rm_gets_404_on_the_actions_and_history(api, other_rm, deal):
    client = api(other_rm)
    assert post(client, action_url(deal, "move"), {"stage": "proposal"}).status_code == 404
    assert client.get(action_url(deal, "history")).status_code == 404


def test_the_leader_moving_an_rms_deal_is_403(api, leader, deal):
    assert post(api(leader), action_url(deal, "move"), {"stage": "proposal"}).status_code == 403


def test_lost_reasons_lists_the_active_ones(api, rm, reason, retired_reason):
    names = [r["name"] for r in api(rm).get("/api/v1/lost-reasons/").json()]
    assert "Priced out" in names
    assert "Old reason" not in names


def test_the_deal_carries_forecast_category_next_step_and_version(api, rm, deal):
    body = api(rm).get(detail_url("opportunity", deal.pk)).json()
    assert (body["forecast_category"], body["next_step"], body["version"]) == ("pipeline", "", 1)
