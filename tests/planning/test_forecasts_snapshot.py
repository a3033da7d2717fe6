"""The frozen forecast takes the RM's submission, skips leavers; forecast accuracy counts the
RM's own number for an RM and the leader's for a team and the bank; the accuracy history
and its bias (docs/metrics.md "Forecast accuracy", "Forecast bias")."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import OpportunityStatus
from planning.models import ForecastSnapshot, ForecastSubmission, SteeringStandard, Variance
from planning.selectors.forecasts import accuracy_history
from planning.services.variances import forecasts_snapshot, variances_recompute

from ..factories import (
    AccountFactory,
    OpportunityFactory,
    PlanYearFactory,
    PositionFactory,
    RmFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
JUN = datetime.date(2027, 6, 1)


@pytest.fixture
def plan_year():
    return PlanYearFactory(year=2027)


def submission(rm, amount, *, adjusted=None, by=None, period="month", start=JUN):
    return ForecastSubmission.objects.create(
        rm=rm,
        period=period,
        period_start=start,
        proposed_amount=D("0"),
        amount=D(amount),
        adjusted_amount=None if adjusted is None else D(adjusted),
        adjusted_by=by,
        adjusted_at=None if adjusted is None else timezone.now(),
        submitted_at=timezone.now(),
    )


def open_deal(rm, amount="1000", probability=50):
    return OpportunityFactory(
        account=AccountFactory(owner=rm),
        amount=D(amount),
        probability=probability,
        expected_close=datetime.date(2027, 6, 20),
    )


def won(rm, amount, day=datetime.date(2027, 6, 18)):
    OpportunityFactory(
        account=AccountFactory(owner=rm),
        amount=D(amount),
        status=OpportunityStatus.WON,
        closed_on=day,
    )


# --- the snapshot ------------------------------------------------------------------------------


def test_the_snapshot_takes_the_rms_submission_and_the_leaders_adjustment(rm, leader):
    open_deal(rm)  # 500 weighted: not what is frozen
    submission(rm, "800", adjusted="650", by=leader)
    forecasts_snapshot(today=JUN)
    snapshot = ForecastSnapshot.objects.get(rm=rm, month=JUN)
    assert (snapshot.amount, snapshot.adjusted_amount, snapshot.source) == (
        D("800"),
        D("650"),
        ForecastSnapshot.Source.SUBMITTED,
    )


def test_without_a_submission_the_weighted_pipeline_is_frozen(rm):
    open_deal(rm)
    forecasts_snapshot(today=JUN)
    snapshot = ForecastSnapshot.objects.get(rm=rm, month=JUN)
    assert (snapshot.amount, snapshot.adjusted_amount, snapshot.source) == (
        D("500.00"),
        None,
        ForecastSnapshot.Source.PIPELINE,
    )


def test_a_quarter_submission_is_not_the_months_forecast(rm):
    open_deal(rm)
    submission(rm, "9000", period="quarter", start=datetime.date(2027, 4, 1))
    forecasts_snapshot(today=JUN)
    assert ForecastSnapshot.objects.get(rm=rm, month=JUN).amount == D("500.00")


def test_an_rm_who_left_on_the_months_first_day_is_not_frozen_even_if_still_active(team):
    leaver = RmFactory(team=team, is_active=True, departed_on=JUN)
    submission(leaver, "800")
    assert forecasts_snapshot(today=JUN) == 0
    assert not ForecastSnapshot.objects.filter(rm=leaver).exists()


def test_an_rm_who_left_before_the_month_is_not_frozen(team):
    RmFactory(team=team, is_active=True, departed_on=datetime.date(2027, 5, 20))
    assert forecasts_snapshot(today=JUN) == 0


def test_an_rm_leaving_later_in_the_month_is_still_frozen(team):
    stayer = RmFactory(team=team, departed_on=datetime.date(2027, 6, 2))
    forecasts_snapshot(today=JUN)
    assert ForecastSnapshot.objects.filter(rm=stayer, month=JUN).exists()


# --- accuracy: the RM's own number, the team's adjusted --------------------------------------


def accuracy_row(**scope):
    return Variance.objects.get(
        metric__code="forecast_accuracy", period="month", period_start=JUN, **scope
    )


def test_an_rm_is_measured_on_their_number_and_the_team_on_the_leaders(
    plan_year, rm, teammate, team, leader
):
    submission(rm, "1000", adjusted="800", by=leader)
    submission(teammate, "400")
    forecasts_snapshot(today=JUN)
    won(rm, "800")
    won(teammate, "500")
    PositionFactory(month=JUN)
    variances_recompute(today=datetime.date(2027, 7, 5))
    # rm: 100 x (1 - |800 - 1000| / 1000) = 80
    assert accuracy_row(scope="rm", rm=rm).actual == D("80.00")
    # team: F = 800 + 400 = 1200, A = 1300: 100 x (1 - (0 + 100) / 1200) = 91.67
    assert accuracy_row(scope="team", team=team).actual == D("91.67")
    # the bank: every RM's, the same sums here
    assert accuracy_row(scope="bank").actual == D("91.67")


# --- the history: month by month, accuracy and bias ------------------------------------------


@pytest.fixture
def history_rm(rm, leader, plan_year):
    """Frozen forecasts for March to May 2027 and what rm won in them."""
    SteeringStandard.objects.create(
        plan_year=plan_year, forecast_accuracy_pct=D("85"), relationship_metric="retention"
    )
    for month, forecast, adjusted, amount_won in (
        (3, "1000", None, "800"),
        (4, "1200", "1000", "1000"),
        (5, "900", None, "600"),
    ):
        ForecastSnapshot.objects.create(
            rm=rm,
            month=datetime.date(2027, month, 1),
            amount=D(forecast),
            adjusted_amount=None if adjusted is None else D(adjusted),
            taken_at=timezone.now(),
        )
        won(rm, amount_won, datetime.date(2027, month, 10))
    return rm


def test_the_rms_history_reads_their_own_numbers_month_by_month(history_rm, plan_year):
    history = accuracy_history(plan_year=plan_year, rm=history_rm, today=datetime.date(2027, 6, 9))
    rows = {m.month.month: m for m in history.months}
    assert [rows[3].forecast, rows[4].forecast, rows[5].forecast] == [
        D("1000"),
        D("1200"),
        D("900"),
    ]
    assert rows[4].accuracy == D("83.33")  # 100 x (1 - 200 / 1200)
    assert rows[1].forecast is None  # no snapshot
    assert rows[6].complete is False  # June is in progress


def test_the_rms_accuracy_and_bias_over_the_months(history_rm, plan_year):
    history = accuracy_history(plan_year=plan_year, rm=history_rm, today=datetime.date(2027, 6, 9))
    # errors 200 + 200 + 300 = 700 over F = 3100: 100 x (1 - 700 / 3100) = 77.42
    assert history.accuracy == D("77.42")
    assert history.meets_standard is False
    # bias: (3100 - 2400) / 2400 = +29.2 %
    assert history.bias == D("29.2")
    assert history.bias_words.startswith("Chronically optimistic")


def test_the_teams_history_counts_the_leaders_adjusted_number(history_rm, team, plan_year):
    history = accuracy_history(plan_year=plan_year, team=team, today=datetime.date(2027, 6, 9))
    # April counts 1000 as adjusted: F = 2900, errors 200 + 0 + 300 = 500
    assert history.accuracy == D("82.76")
    assert history.bias == D("20.8")  # (2900 - 2400) / 2400


def test_a_cautious_forecaster_is_called_cautious(rm, plan_year):
    for month in (2, 3, 4):
        ForecastSnapshot.objects.create(
            rm=rm, month=datetime.date(2027, month, 1), amount=D("700"), taken_at=timezone.now()
        )
        won(rm, "1000", datetime.date(2027, month, 3))
    history = accuracy_history(plan_year=plan_year, rm=rm, today=datetime.date(2027, 5, 2))
    assert history.bias == D("-30.0")
    assert history.bias_words.startswith("Chronically cautious")


def test_within_the_threshold_there_is_no_chronic_bias(rm, plan_year):
    for month in (2, 3, 4):
        ForecastSnapshot.objects.create(
            rm=rm, month=datetime.date(2027, month, 1), amount=D("1050"), taken_at=timezone.now()
        )
        won(rm, "1000", datetime.date(2027, month, 3))
    history = accuracy_history(plan_year=plan_year, rm=rm, today=datetime.date(2027, 5, 2))
    assert history.bias_words.startswith("No chronic bias")


def test_two_months_are_too_few_to_call_a_bias(rm, plan_year):
    for month in (3, 4):
        ForecastSnapshot.objects.create(
            rm=rm, month=datetime.date(2027, month, 1), amount=D("2000"), taken_at=timezone.now()
        )
        won(rm, "1000", datetime.date(2027, month, 3))
    history = accuracy_history(plan_year=plan_year, rm=rm, today=datetime.date(2027, 5, 2))
    assert history.bias_words.startswith("Too early to say")


def test_another_teams_rm_gets_404_on_an_rms_history(client, rm, other_rm):
    client.force_login(other_rm)
    assert client.get(f"/planning/forecast/accuracy/rm/{rm.pk}/").status_code == 404


def test_another_teams_leader_gets_404_on_the_teams_history(client, team, other_leader, plan_year):
    client.force_login(other_leader)
    assert client.get(f"/planning/forecast/accuracy/team/{team.pk}/").status_code == 404


def test_an_rm_gets_404_on_the_banks_history(client, rm, plan_year):
    client.force_login(rm)
    assert client.get("/planning/forecast/accuracy/bank/").status_code == 404


def test_the_leader_reads_their_rms_history(client, history_rm, leader):
    client.force_login(leader)
    html = client.get(f"/planning/forecast/accuracy/rm/{history_rm.pk}/").content.decode()
    assert "Forecast accuracy" in html
    assert str(history_rm) in html
    assert 'id="accuracy-history"' in html


def test_the_teams_history_compares_each_rm_on_their_own_number(history_rm, team, plan_year):
    from planning.selectors.forecasts import rm_accuracy_histories

    teammate = RmFactory(team=team)
    histories = rm_accuracy_histories(
        plan_year=plan_year, rms=[history_rm, teammate], today=datetime.date(2027, 6, 9)
    )
    assert [h.accuracy for h in histories] == [D("77.42"), None]  # April's 1200, not 1000
    assert histories[0].bias == D("29.2")


@pytest.mark.parametrize("size", [10, 30])
def test_the_teams_accuracy_page_queries_do_not_grow_with_the_team(
    client, team, leader, size, django_assert_max_num_queries
):
    PlanYearFactory(year=timezone.localdate().year)
    for _ in range(size):
        person = RmFactory(team=team)
        ForecastSnapshot.objects.create(
            rm=person,
            month=timezone.localdate().replace(day=1),
            amount=D("10"),
            taken_at=timezone.now(),
        )
    client.force_login(leader)
    with django_assert_max_num_queries(ACCURACY_PAGE_QUERIES):
        response = client.get(f"/planning/forecast/accuracy/team/{team.pk}/")
    assert response.content.decode().count('href="/planning/forecast/accuracy/rm/') >= size


ACCURACY_PAGE_QUERIES = 12  # measured: 12 for a team of 10 and of 30
