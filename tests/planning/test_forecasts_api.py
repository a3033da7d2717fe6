"""Forecasts over the API: the same services and access as the pages (docs/api.md)."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache

from accounts.models import ForecastCategory
from planning.models import ForecastSubmission
from planning.selectors.forecasts import open_periods
from planning.services.forecasts import forecast_submit

from ..factories import AccountFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

D = Decimal
NEXT = open_periods()[1]
URL = "/api/v1/forecast-submissions/"
TEAM_URL = "/api/v1/team-forecasts/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def deal(rm):
    return OpportunityFactory(
        account=AccountFactory(owner=rm),
        amount=D("120000"),
        forecast_category=ForecastCategory.COMMIT,
        expected_close=NEXT.start + datetime.timedelta(days=3),
    )


def body(**extra):
    return {"period": NEXT.kind, "period_start": NEXT.start.isoformat(), **extra}


def submitted(rm, amount="120000"):
    return forecast_submit(
        rm=rm, period=NEXT.kind, period_start=NEXT.start, amount=D(amount), note=""
    )


def test_the_rm_submits_and_the_proposal_is_recorded(client, rm, deal):
    client.force_login(rm)
    response = client.post(URL, body(amount="120000"), content_type="application/json")
    assert response.status_code == 201
    assert response.json()["proposed_amount"] == "120000.00"


def test_a_second_create_for_the_same_period_is_a_conflict(client, rm, deal):
    submitted(rm)
    client.force_login(rm)
    response = client.post(URL, body(amount="120000"), content_type="application/json")
    assert response.status_code == 409


def test_a_different_number_without_a_note_is_a_400_naming_the_note(client, rm, deal):
    client.force_login(rm)
    response = client.post(URL, body(amount="1"), content_type="application/json")
    assert response.status_code == 400
    assert "note" in response.json()


def test_a_period_start_that_is_not_a_first_day_is_a_400_naming_it(client, rm):
    client.force_login(rm)
    response = client.post(
        URL,
        body(amount="0", period_start=(NEXT.start + datetime.timedelta(days=1)).isoformat()),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "period_start" in response.json()


def test_the_rm_resubmits_at_the_version_read(client, rm, deal):
    submission = submitted(rm)
    client.force_login(rm)
    ok = client.put(
        f"{URL}{submission.pk}/",
        {"version": 1, "amount": "100000", "note": "Slips."},
        content_type="application/json",
    )
    assert (ok.status_code, ok.json()["amount"], ok.json()["version"]) == (200, "100000.00", 2)
    stale = client.put(
        f"{URL}{submission.pk}/",
        {"version": 1, "amount": "90000", "note": "Tab two."},
        content_type="application/json",
    )
    assert stale.status_code == 409


def test_the_leader_adjusts_and_the_effective_amount_follows(client, rm, leader, deal):
    submission = submitted(rm)
    client.force_login(leader)
    response = client.post(
        f"{URL}{submission.pk}/adjust/",
        {"amount": "90000", "note": "Baker slips."},
        content_type="application/json",
    )
    data = response.json()
    assert response.status_code == 200
    assert (data["amount"], data["adjusted_amount"], data["effective_amount"]) == (
        "120000.00",
        "90000.00",
        "90000.00",
    )


def test_an_rm_adjusting_their_own_forecast_gets_403(client, rm, deal):
    submission = submitted(rm)
    client.force_login(rm)
    response = client.post(
        f"{URL}{submission.pk}/adjust/",
        {"amount": "1", "note": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_a_leader_resubmitting_an_rms_forecast_gets_403(client, rm, leader, deal):
    submission = submitted(rm)
    client.force_login(leader)
    response = client.put(
        f"{URL}{submission.pk}/",
        {"version": 1, "amount": "1", "note": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_another_teams_leader_gets_404_on_the_record_and_its_adjust(client, rm, other_leader):
    submission = submitted(rm, "0")
    client.force_login(other_leader)
    assert client.get(f"{URL}{submission.pk}/").status_code == 404
    response = client.post(
        f"{URL}{submission.pk}/adjust/",
        {"amount": "1", "note": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_the_list_holds_only_what_the_user_sees(client, rm, other_rm, executive):
    submitted(rm, "0")
    submitted(other_rm, "0")
    client.force_login(rm)
    assert [row["rm"] for row in client.get(URL).json()["results"]] == [rm.pk]
    client.force_login(executive)
    assert client.get(URL).json()["count"] == 2


def test_the_leader_submits_the_teams_forecast_and_resubmits_it(client, rm, team, leader, deal):
    submitted(rm)
    client.force_login(leader)
    first = client.post(
        TEAM_URL, body(team=team.pk, note="Solid."), content_type="application/json"
    )
    assert (first.status_code, first.json()["amount"]) == (201, "120000.00")
    again = client.post(
        TEAM_URL, body(team=team.pk, note="Again.", version=1), content_type="application/json"
    )
    assert (again.status_code, again.json()["version"]) == (200, 2)


def test_another_leader_naming_the_team_gets_a_400_on_the_team(client, rm, team, other_leader):
    submitted(rm, "0")
    client.force_login(other_leader)
    response = client.post(TEAM_URL, body(team=team.pk), content_type="application/json")
    assert response.status_code == 400
    assert "team" in response.json()


def test_an_executive_reads_team_forecasts_but_does_not_submit(client, rm, team, executive, deal):
    submitted(rm)
    client.force_login(executive)
    response = client.post(TEAM_URL, body(team=team.pk), content_type="application/json")
    assert response.status_code == 403
    assert ForecastSubmission.objects.count() == 1


def test_the_schema_lists_the_forecast_resources(client, rm):
    client.force_login(rm)
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert "/api/v1/forecast-submissions/{id}/adjust/" in paths
    assert "/api/v1/team-forecasts/" in paths
