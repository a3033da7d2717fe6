"""The forecast pages: the RM's Forecast, the Team forecast, the adjust and submit posts
(docs/forecast.md). They run on today's calendar: next month is always open."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ForecastCategory
from planning.models import ForecastSnapshot, ForecastSubmission, TeamForecastSubmission
from planning.selectors.forecasts import open_periods
from planning.services.forecasts import forecast_adjust, forecast_submit

from ..factories import AccountFactory, OpportunityFactory, RmFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal
NEXT = open_periods()[1]  # next month: open whatever today is
HTMX = {"HTTP_HX_REQUEST": "true"}


def commit(rm, amount="120000", category=ForecastCategory.COMMIT, name="Baker Foods"):
    return OpportunityFactory(
        account=AccountFactory(owner=rm, name=name),
        amount=D(amount),
        forecast_category=category,
        expected_close=NEXT.start + datetime.timedelta(days=9),
    )


def submit(rm, amount="120000", note=""):
    return forecast_submit(
        rm=rm, period=NEXT.kind, period_start=NEXT.start, amount=D(amount), note=note
    )


def post_submit(client, amount, note="", version=0, **extra):
    key = NEXT.key
    return client.post(
        reverse("planning:forecast_submit", args=[key]),
        {
            f"{key}-period": key,
            f"{key}-version": version,
            f"{key}-amount": amount,
            f"{key}-note": note,
        },
        **extra,
    )


def post_adjust(client, submission, amount="100000", note="Slips a month.", version=None, **extra):
    prefix = f"adj{submission.pk}"
    return client.post(
        reverse("planning:forecast_adjust", args=[submission.pk]),
        {
            f"{prefix}-version": version or submission.version,
            f"{prefix}-amount": amount,
            f"{prefix}-note": note,
        },
        **extra,
    )


# --- the RM's page ------------------------------------------------------------------------------


def test_the_rm_sees_the_proposed_commit_total_and_the_deals_behind_it(client, rm):
    commit(rm)
    commit(rm, "50000", ForecastCategory.BEST_CASE, name="Cole Logistics")
    client.force_login(rm)
    html = client.get(reverse("planning:forecast")).content.decode()
    assert NEXT.label in html
    assert "120,000" in html
    assert "Baker Foods" in html
    assert "50,000" in html  # best case beside
    assert "Cole Logistics" not in html  # only the commit deals are listed


def test_the_rm_submits_with_a_plain_post(client, rm):
    commit(rm)
    client.force_login(rm)
    response = post_submit(client, "120000")
    assert response.status_code == 302
    submission = ForecastSubmission.objects.get(rm=rm, period_start=NEXT.start)
    assert (submission.amount, submission.proposed_amount) == (D("120000"), D("120000"))


def test_the_rm_submits_with_htmx_and_gets_the_card_back(client, rm):
    commit(rm)
    client.force_login(rm)
    response = post_submit(client, "130000", note="Cole signs too.", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "is submitted" in html
    assert "130,000" in html
    assert "Cole signs too." in html
    assert "<html" not in html


def test_a_different_number_without_a_note_is_refused_with_the_reason(client, rm):
    commit(rm)
    client.force_login(rm)
    response = post_submit(client, "90000")
    assert response.status_code == 400
    assert "Say why your number differs" in response.content.decode()
    assert not ForecastSubmission.objects.exists()


def test_a_second_tab_gets_a_conflict_and_sees_the_current_numbers(client, rm):
    commit(rm)
    submit(rm, "125000", note="First tab.")
    client.force_login(rm)
    response = post_submit(client, "120000", version=0, **HTMX)
    assert response.status_code == 409
    assert "125,000" in response.content.decode()
    assert ForecastSubmission.objects.get().amount == D("125000")


def test_the_rm_sees_the_leaders_adjustment_beside_their_number(client, rm, leader):
    commit(rm)
    forecast_adjust(submission_id=submit(rm).pk, by=leader, amount=D("90000"), note="Baker slips.")
    client.force_login(rm)
    html = client.get(reverse("planning:forecast")).content.decode()
    assert "120,000" in html
    assert "90,000" in html
    assert "Baker slips." in html


def test_a_frozen_month_shows_no_form(client, rm):
    ForecastSnapshot.objects.create(rm=rm, month=NEXT.start, amount=D("1"), taken_at=timezone.now())
    client.force_login(rm)
    html = client.get(reverse("planning:forecast")).content.decode()
    assert f'action="{reverse("planning:forecast_submit", args=[NEXT.key])}"' not in html


def test_a_leader_opening_forecast_lands_on_the_team_forecast(client, leader):
    client.force_login(leader)
    assert client.get(reverse("planning:forecast")).url == reverse("planning:team_forecast")


def test_a_leader_does_not_submit_an_rm_forecast(client, leader):
    client.force_login(leader)
    assert post_submit(client, "1").status_code == 403


# --- the team's page -----------------------------------------------------------------------------


def team_url(team):
    return reverse("planning:team_forecast_team", args=[team.pk]) + f"?period={NEXT.key}"


def test_the_leader_sees_each_rms_proposed_and_submitted_numbers(client, rm, teammate, leader):
    commit(rm)
    submit(rm, "150000", note="Cole too.")
    client.force_login(leader)
    html = client.get(reverse("planning:team_forecast") + f"?period={NEXT.key}").content.decode()
    assert str(rm) in html
    assert str(teammate) in html
    assert "150,000" in html
    assert "Cole too." in html
    assert "not submitted" in html


def test_the_leader_adjusts_with_a_plain_post(client, rm, leader):
    commit(rm)
    submission = submit(rm)
    client.force_login(leader)
    response = post_adjust(client, submission)
    assert response.status_code == 302
    submission.refresh_from_db()
    assert (submission.amount, submission.adjusted_amount) == (D("120000"), D("100000"))


def test_the_leader_adjusts_with_htmx_and_the_team_total_follows(client, rm, teammate, leader):
    commit(rm)
    submission = submit(rm)
    submit(teammate, "0", note="Nothing closes.")
    client.force_login(leader)
    response = post_adjust(client, submission, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="rm-{rm.pk}"' in html
    assert 'hx-swap-oob="true"' in html
    assert "100,000" in html


def test_an_adjustment_without_a_reason_is_refused_with_the_reason(client, rm, leader):
    commit(rm)
    submission = submit(rm)
    client.force_login(leader)
    response = post_adjust(client, submission, note="", **HTMX)
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_a_stale_adjustment_is_a_conflict(client, rm, leader):
    commit(rm)
    submission = submit(rm)
    submit(rm, "130000", note="More.")
    client.force_login(leader)
    assert post_adjust(client, submission, version=1).status_code == 409


def test_an_rm_cannot_adjust_their_forecast(client, rm):
    commit(rm)
    submission = submit(rm)
    client.force_login(rm)
    assert post_adjust(client, submission).status_code == 403


def test_an_executive_sees_every_team_and_the_bank_total(client, rm, other_rm, executive):
    commit(rm)
    submit(rm)
    commit(other_rm)
    submit(other_rm, "80000", note="Cautious.")
    client.force_login(executive)
    html = client.get(reverse("planning:team_forecast") + f"?period={NEXT.key}").content.decode()
    assert "North" in html
    assert "South" in html
    assert "Bank total" in html
    assert "200,000" in html
    assert "Save adjustment" not in html  # read-only


def test_the_leader_submits_the_teams_forecast(client, rm, team, leader):
    commit(rm)
    forecast_adjust(submission_id=submit(rm).pk, by=leader, amount=D("100000"), note="Slips.")
    client.force_login(leader)
    response = client.post(
        reverse("planning:team_forecast_submit", args=[team.pk]),
        {"period": NEXT.key, "version": 0, "note": "Baker is the swing deal."},
    )
    assert response.status_code == 302
    record = TeamForecastSubmission.objects.get(team=team)
    assert (record.amount, record.note) == (D("100000"), "Baker is the swing deal.")
    html = client.get(team_url(team)).content.decode()
    assert "Baker is the swing deal." in html


# --- out of scope: 404 ---------------------------------------------------------------------------


def test_another_teams_leader_gets_404_on_the_team_forecast(client, team, other_leader):
    client.force_login(other_leader)
    assert client.get(team_url(team)).status_code == 404


def test_an_rm_gets_404_on_a_team_forecast(client, team, rm):
    client.force_login(rm)
    assert client.get(team_url(team)).status_code == 404


def test_another_teams_leader_gets_404_adjusting_a_forecast(client, rm, other_leader):
    submission = submit(rm, "0")
    client.force_login(other_leader)
    assert post_adjust(client, submission).status_code == 404


def test_another_teams_leader_gets_404_submitting_the_teams_forecast(client, team, other_leader):
    client.force_login(other_leader)
    url = reverse("planning:team_forecast_submit", args=[team.pk])
    assert client.post(url, {"period": NEXT.key, "version": 0}).status_code == 404


def test_an_rm_of_another_team_gets_404_on_a_forecast_record(client, rm, other_rm):
    submission = submit(rm, "0")
    client.force_login(other_rm)
    assert post_adjust(client, submission).status_code == 404


# --- query counts: constant in the team's size ---------------------------------------------------


def big_team(size):
    team = TeamFactory(name=f"Big {size}", leader=UserFactory(role="leader"))
    for _ in range(size):
        person = RmFactory(team=team)
        commit(person, "10000")
        commit(person, "5000", ForecastCategory.BEST_CASE)
        forecast_submit(
            rm=person, period=NEXT.kind, period_start=NEXT.start, amount=D("10000"), note=""
        )
    return team


TEAM_PAGE_QUERIES = 9  # measured: 9 for a team of 10 and of 30
RM_PAGE_QUERIES = 6  # measured: 6 for 3 and 40 deals


@pytest.mark.parametrize("size", [10, 30])
def test_the_team_forecast_page_queries_do_not_grow_with_the_team(
    client, size, django_assert_max_num_queries
):
    team = big_team(size)
    client.force_login(team.leader)
    with django_assert_max_num_queries(TEAM_PAGE_QUERIES):
        response = client.get(team_url(team))
    assert response.content.decode().count("Save adjustment") == size


@pytest.mark.parametrize("size", [10, 30])
def test_the_bank_forecast_page_queries_do_not_grow_with_the_teams(
    client, size, executive, django_assert_max_num_queries
):
    big_team(size)
    big_team(size // 2)
    client.force_login(executive)
    with django_assert_max_num_queries(TEAM_PAGE_QUERIES):
        response = client.get(reverse("planning:team_forecast") + f"?period={NEXT.key}")
    assert "Bank total" in response.content.decode()


@pytest.mark.parametrize("deals", [3, 40])
def test_the_rm_forecast_page_queries_do_not_grow_with_the_deals(
    client, rm, deals, django_assert_max_num_queries
):
    for i in range(deals):
        commit(rm, str(1000 + i), name=f"Account {i}")
    client.force_login(rm)
    with django_assert_max_num_queries(RM_PAGE_QUERIES):
        client.get(reverse("planning:forecast"))
