"""Forecast submissions: the rules of planning.services.forecasts (docs/forecast.md)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import ForecastCategory
from planning.models import ForecastSnapshot, ForecastSubmission
from planning.selectors.forecasts import open_periods, proposed_commit
from planning.services.forecasts import forecast_adjust, forecast_submit, team_forecast_submit
from salesmgmt.workflow import InvalidTransition, StaleEdit

from ..factories import AccountFactory, OpportunityFactory, RmFactory

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = datetime.date(2027, 2, 10)
FEB, MAR, APR = (datetime.date(2027, m, 1) for m in (2, 3, 4))


@pytest.fixture
def commit_deals(rm):
    """rm's February: 300 000 commit, 200 000 best case, 100 000 pipeline; one commit deal
    in March and one omitted."""
    account = AccountFactory(owner=rm)
    for amount, category, close in (
        ("100000", ForecastCategory.COMMIT, datetime.date(2027, 2, 5)),
        ("200000", ForecastCategory.COMMIT, datetime.date(2027, 2, 28)),
        ("200000", ForecastCategory.BEST_CASE, datetime.date(2027, 2, 20)),
        ("100000", ForecastCategory.PIPELINE, datetime.date(2027, 2, 20)),
        ("50000", ForecastCategory.COMMIT, datetime.date(2027, 3, 3)),
        ("70000", ForecastCategory.OMITTED, datetime.date(2027, 2, 3)),
    ):
        OpportunityFactory(
            account=account, amount=D(amount), forecast_category=category, expected_close=close
        )
    return account


def submit(rm, amount, *, period="month", start=FEB, note="", version=None):
    return forecast_submit(
        rm=rm,
        period=period,
        period_start=start,
        amount=D(amount),
        note=note,
        expected_version=version,
        today=TODAY,
    )


def freeze(rm, month=FEB):
    ForecastSnapshot.objects.create(rm=rm, month=month, amount=D("1"), taken_at=timezone.now())


# --- proposing and submitting ---------------------------------------------------------------------


def test_the_proposal_is_the_sum_of_open_commit_deals_closing_in_the_month(rm, commit_deals):
    assert proposed_commit(rm, open_periods(TODAY)[0]) == D("300000")


def test_the_quarters_proposal_adds_its_three_months(rm, commit_deals):
    OpportunityFactory(
        account=commit_deals,
        amount=D("40000"),
        forecast_category=ForecastCategory.COMMIT,
        expected_close=datetime.date(2027, 6, 30),
    )
    assert proposed_commit(rm, open_periods(TODAY)[2]) == D("40000")  # Q2: April to June


def test_a_won_commit_deal_is_no_longer_proposed(rm, commit_deals):
    commit_deals.opportunities.filter(amount=D("100000")).update(
        status="won", closed_on=datetime.date(2027, 2, 5)
    )
    assert proposed_commit(rm, open_periods(TODAY)[0]) == D("200000")


def test_an_rm_submits_the_proposed_number_without_a_note(rm, commit_deals):
    submission = submit(rm, "300000")
    assert (submission.proposed_amount, submission.amount, submission.version) == (
        D("300000"),
        D("300000"),
        1,
    )


def test_a_number_other_than_the_proposal_needs_a_note(rm, commit_deals):
    with pytest.raises(ValidationError) as refused:
        submit(rm, "350000")
    assert "note" in refused.value.message_dict


def test_the_rms_number_may_differ_from_the_proposal_with_a_note(rm, commit_deals):
    submission = submit(rm, "350000", note="The Baker renewal signs on the 27th.")
    assert submission.amount == D("350000")
    assert submission.proposed_amount == D("300000")


def test_a_negative_forecast_is_refused_naming_the_amount(rm, commit_deals):
    with pytest.raises(ValidationError) as refused:
        submit(rm, "-1", note="oops")
    assert "amount" in refused.value.message_dict


def test_resubmitting_updates_the_submission_and_its_version(rm, commit_deals):
    first = submit(rm, "300000")
    again = submit(rm, "250000", note="One deal slips.", version=first.version)
    assert again.pk == first.pk
    assert (again.amount, again.version) == (D("250000"), 2)
    assert ForecastSubmission.objects.count() == 1


def test_resubmitting_at_a_stale_version_is_a_conflict(rm, commit_deals):
    first = submit(rm, "300000")
    submit(rm, "250000", note="One deal slips.", version=first.version)
    with pytest.raises(StaleEdit):
        submit(rm, "200000", note="Second tab.", version=first.version)


def test_a_second_tab_that_saw_no_submission_gets_a_conflict(rm, commit_deals):
    submit(rm, "300000", version=0)
    with pytest.raises(StaleEdit):
        submit(rm, "300000", version=0)


def test_the_proposal_is_kept_as_it_was_when_submitted(rm, commit_deals):
    submission = submit(rm, "300000")
    commit_deals.opportunities.update(forecast_category=ForecastCategory.PIPELINE)
    submission.refresh_from_db()
    assert submission.proposed_amount == D("300000")


def test_a_frozen_month_refuses_a_submission(rm, commit_deals):
    freeze(rm)
    with pytest.raises(InvalidTransition):
        submit(rm, "300000")


def test_a_frozen_month_refuses_a_resubmission(rm, commit_deals):
    first = submit(rm, "300000")
    freeze(rm)
    with pytest.raises(InvalidTransition):
        submit(rm, "1", note="too late", version=first.version)


def test_a_past_month_is_frozen_even_without_a_snapshot(rm):
    with pytest.raises(InvalidTransition):
        submit(rm, "0", start=datetime.date(2027, 1, 1))


def test_a_month_beyond_next_month_is_not_open_yet(rm):
    with pytest.raises(ValidationError) as refused:
        submit(rm, "0", start=APR)
    assert "period_start" in refused.value.message_dict


def test_a_quarter_is_submitted_for_the_quarter_that_has_not_begun(rm):
    submission = submit(rm, "0", period="quarter", start=APR)
    assert (submission.period, submission.period_start) == ("quarter", APR)


def test_a_quarter_that_has_begun_is_frozen(rm):
    with pytest.raises(InvalidTransition):
        submit(rm, "0", period="quarter", start=datetime.date(2027, 1, 1))


def test_a_quarter_must_start_on_a_quarters_first_day(rm):
    with pytest.raises(ValidationError):
        submit(rm, "0", period="quarter", start=MAR)


def test_a_leader_does_not_submit_a_forecast_of_their_own(leader):
    with pytest.raises(PermissionDenied):
        submit(leader, "0")


def test_another_rms_freeze_does_not_freeze_mine(rm, teammate, commit_deals):
    freeze(teammate)
    assert submit(rm, "300000").amount == D("300000")


# --- the leader's adjustment ----------------------------------------------------------------------


def adjust(submission, by, amount="280000", note="Baker slips to March.", version=None):
    return forecast_adjust(
        submission_id=submission.pk,
        by=by,
        amount=D(amount),
        note=note,
        expected_version=version,
        today=TODAY,
    )


def test_the_leader_adjusts_and_the_rms_number_stays(rm, leader, commit_deals):
    submission = adjust(submit(rm, "300000"), leader)
    assert (submission.amount, submission.adjusted_amount) == (D("300000"), D("280000"))
    assert submission.effective_amount == D("280000")
    assert (submission.adjusted_by, submission.adjustment_note) == (leader, "Baker slips to March.")


def test_an_adjustment_needs_a_note(rm, leader, commit_deals):
    with pytest.raises(ValidationError) as refused:
        adjust(submit(rm, "300000"), leader, note=" ")
    assert "note" in refused.value.message_dict


def test_an_rm_cannot_adjust_their_own_forecast(rm, commit_deals):
    with pytest.raises(PermissionDenied):
        adjust(submit(rm, "300000"), rm)


def test_an_rm_cannot_adjust_a_teammates_forecast_they_do_not_see(rm, teammate, commit_deals):
    with pytest.raises(ForecastSubmission.DoesNotExist):
        adjust(submit(rm, "300000"), teammate)


def test_another_teams_leader_does_not_see_the_forecast(rm, other_leader, commit_deals):
    with pytest.raises(ForecastSubmission.DoesNotExist):
        adjust(submit(rm, "300000"), other_leader)


def test_an_executive_sees_but_does_not_adjust(rm, executive, commit_deals):
    with pytest.raises(PermissionDenied):
        adjust(submit(rm, "300000"), executive)


def test_an_adjustment_at_a_stale_version_is_a_conflict(rm, leader, commit_deals):
    submission = submit(rm, "300000")
    submit(rm, "310000", note="More.", version=submission.version)
    with pytest.raises(StaleEdit):
        adjust(submission, leader, version=submission.version)


def test_a_frozen_month_refuses_an_adjustment(rm, leader, commit_deals):
    submission = submit(rm, "300000")
    freeze(rm)
    with pytest.raises(InvalidTransition):
        adjust(submission, leader)


# --- the team's forecast --------------------------------------------------------------------------


def team_submit(team, by, note="", version=None, start=FEB):
    return team_forecast_submit(
        team_id=team.pk,
        by=by,
        period="month",
        period_start=start,
        note=note,
        expected_version=version,
        today=TODAY,
    )


def test_the_teams_forecast_sums_the_effective_numbers(rm, teammate, team, leader, commit_deals):
    adjust(submit(rm, "300000"), leader)  # 280 000 as the leader left it
    forecast_submit(
        rm=teammate,
        period="month",
        period_start=FEB,
        amount=D("50000"),
        note="New client",
        today=TODAY,
    )
    record = team_submit(team, leader, note="Solid month.")
    assert (record.amount, record.note, record.submitted_by) == (
        D("330000"),
        "Solid month.",
        leader,
    )


def test_the_teams_forecast_leaves_out_other_teams_and_leavers(
    rm, team, leader, other_rm, commit_deals
):
    submit(rm, "300000")
    leaver = RmFactory(team=team, departed_on=datetime.date(2027, 1, 31))
    ForecastSubmission.objects.create(
        rm=leaver,
        period="month",
        period_start=FEB,
        proposed_amount=D("0"),
        amount=D("999"),
        submitted_at=timezone.now(),
    )
    assert team_submit(team, leader).amount == D("300000")


def test_a_team_without_any_submission_has_nothing_to_submit(team, leader, rm):
    with pytest.raises(ValidationError):
        team_submit(team, leader)


def test_the_team_resubmits_at_its_version(rm, team, leader, commit_deals):
    first = team_submit(team, leader) if submit(rm, "300000") else None
    again = team_submit(team, leader, note="Recounted.", version=first.version)
    assert again.version == 2
    with pytest.raises(StaleEdit):
        team_submit(team, leader, version=first.version)


def test_only_the_teams_leader_submits_the_teams_forecast(rm, team, executive, commit_deals):
    submit(rm, "300000")
    with pytest.raises(PermissionDenied):
        team_submit(team, executive)


def test_another_leader_does_not_see_the_team(rm, team, other_leader, commit_deals):
    submit(rm, "300000")
    with pytest.raises(type(team).DoesNotExist):
        team_submit(team, other_leader)


def test_the_teams_month_freezes_with_its_rms_snapshots(rm, team, leader, commit_deals):
    submit(rm, "300000")
    freeze(rm)
    with pytest.raises(InvalidTransition):
        team_submit(team, leader)
