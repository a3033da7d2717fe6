"""The report card's arithmetic on small examples worked by hand (docs/report-card.md).

Behaviours (tests/coaching/conftest.py): Listening 60 %, Follow-up 40 %, objective 80 %.
"""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse

from coaching.selectors import report_card as rc
from coaching.selectors.report_card import Tally
from tests.factories import BehaviourFactory, RmFactory

from .report_card_helpers import APR, FEB, JAN, MAR, rate, rate_good

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 4, 20)


@pytest.fixture
def listening(behaviours):
    return behaviours[0]


@pytest.fixture
def follow_up(behaviours):
    return behaviours[1]


def card(viewer, rm, plan_year, month=None):
    return rc.rm_report_card(viewer, rm, plan_year, month=month, today=TODAY)


# --- shares and rounding -------------------------------------------------------------------


def test_share_is_good_or_excellent_over_all_ratings():
    # 5, 4, 3, 2: good and excellent are 2 of 4.
    assert Tally(n=4, good=2).share == Decimal("50.00")


def test_share_rounds_half_up_to_two_places():
    assert Tally(n=3, good=2).share == Decimal("66.67")
    assert Tally(n=3, good=1).share == Decimal("33.33")
    # 1/8 = 12.5 % exactly; 1/16 = 6.25 %; 1/32 = 3.125 % → 3.13 (half up, not to even)
    assert Tally(n=32, good=1).share == Decimal("3.13")


def test_pct_is_exact_where_decimal_division_would_round_twice():
    # 0.000049999999999999999999999999999 * 100: 28-digit Decimal division rounds it to
    # 0.0050000…, which would round up to 0.01; exactly it is below half a hundredth.
    value = Fraction(49999999999999999999999999999999, 10**36)
    assert rc.pct(value) == Decimal("0.00")


def test_no_ratings_is_no_share():
    assert Tally().share is None


# --- one RM's monthly score ----------------------------------------------------------------


def test_score_weights_the_shares_of_the_behaviours(rm, plan_year, listening, follow_up):
    rate(rm, listening, MAR, 5, 4, 3, 2)  # 50 %
    rate(rm, follow_up, MAR, 5, 4, 4)  # 100 %
    result = card(rm, rm, plan_year, MAR)
    # (60 * 50 + 40 * 100) / 100 = 70
    assert result.month_score == Decimal("70.00")


def test_score_is_computed_from_exact_shares_and_rounded_once(rm, plan_year, listening, follow_up):
    rate(rm, listening, MAR, 4, 2, 2)  # 1/3
    rate(rm, follow_up, MAR, 4, 4, 2)  # 2/3
    result = card(rm, rm, plan_year, MAR)
    # 60 * 1/3 + 40 * 2/3 = 20 + 26.666… = 46.666… → 46.67
    assert [r.month_share for r in result.rows] == [Decimal("33.33"), Decimal("66.67")]
    assert result.month_score == Decimal("46.67")


def test_a_behaviour_without_ratings_that_month_leaves_the_score_and_its_weight(
    rm, plan_year, listening, follow_up
):
    rate(rm, listening, APR, 5, 4, 3, 2)  # 50 %; Follow-up not rated in April
    result = card(rm, rm, plan_year, APR)
    # The weights are renormalised over the rated behaviours: 60 * 50 / 60 = 50, not 30.
    assert result.month_score == Decimal("50.00")
    assert result.rows[1].month_share is None


def test_a_month_without_ratings_has_no_score(rm, plan_year, listening, follow_up):
    rate(rm, listening, MAR, 5)
    result = card(rm, rm, plan_year, APR)
    assert result.month_score is None
    assert result.month_count == 0


def test_zero_weight_behaviours_alone_give_no_score():
    assert rc.weighted_score({1: Tally(2, 1)}, {1: 0}) is None


def test_weighted_objective_over_all_behaviours_and_over_the_rated_ones(plan_year, behaviours):
    listening, follow_up = behaviours
    follow_up.objective_pct = 70
    follow_up.save()
    # (60 * 80 + 40 * 70) / 100 = 76
    assert rc.weighted_objective(behaviours) == Decimal("76.00")
    assert rc.weighted_objective(behaviours, among=[listening.pk]) == Decimal("80.00")


# --- year to date, trend, below target -----------------------------------------------------


def test_year_to_date_share_is_the_ratio_of_the_months_sums(rm, plan_year, listening):
    rate(rm, listening, JAN, 4)  # 1 of 1
    rate(rm, listening, FEB, 4, 2, 2, 2)  # 1 of 4
    result = card(rm, rm, plan_year, FEB)
    # 2 of 5 = 40 %, not the average of 100 % and 25 %
    assert result.rows[0].ytd_share == Decimal("40.00")


def test_below_target_is_decided_on_the_year_to_date_share(rm, plan_year, listening, follow_up):
    rate(rm, listening, JAN, 2, 2, 2, 2)  # 0 of 4
    rate(rm, listening, FEB, 4, 4, 4, 4)  # 4 of 4: February alone is on target
    rate(rm, follow_up, FEB, 4, 4, 4, 4, 2)  # 80 %: exactly the objective
    result = card(rm, rm, plan_year, FEB)
    listening_row, follow_up_row = result.rows
    assert listening_row.month_share == Decimal("100.00")
    assert listening_row.ytd_share == Decimal("50.00")
    assert listening_row.below_target
    assert not follow_up_row.below_target  # reaching the objective is on target
    assert [r.behaviour for r in result.below_target] == [listening]


def test_a_behaviour_not_rated_this_year_is_not_below_target(rm, plan_year, listening):
    rate(rm, listening, MAR, 4)
    assert not card(rm, rm, plan_year, MAR).rows[1].below_target


def test_trend_has_twelve_months_ending_with_the_month_shown(rm, plan_year, listening):
    rate(rm, listening, JAN, 4, 2)
    rate(rm, listening, MAR, 4)
    result = card(rm, rm, plan_year, MAR)
    assert len(result.months) == 12
    assert result.months[0] == datetime.date(2026, 4, 1)
    assert result.months[-1] == MAR
    assert result.rows[0].trend[-3:] == [Decimal("50.00"), None, Decimal("100.00")]
    assert result.overall_trend[-3:] == [Decimal("50.00"), None, Decimal("100.00")]


def test_the_month_shown_is_by_default_the_latest_with_ratings(rm, plan_year, listening):
    rate(rm, listening, FEB, 4)
    assert card(rm, rm, plan_year).month == FEB


def test_trend_follows_a_behaviour_by_name_into_the_previous_plan_year(
    rm, executive, plan_year, listening
):
    from tests.factories import BehaviourSetFactory, PlanYearFactory

    last_year = BehaviourSetFactory(
        plan_year=PlanYearFactory(year=2026), created_by=executive, last_edited_by=executive
    )
    old_listening = BehaviourFactory(behaviour_set=last_year, name="Listening", weight=100)
    rate(rm, old_listening, datetime.date(2026, 12, 1), 4, 2)
    rate(rm, listening, JAN, 4)
    result = card(rm, rm, plan_year, JAN)
    assert result.rows[0].trend[-2:] == [Decimal("50.00"), Decimal("100.00")]
    # The year to date starts with the plan year.
    assert result.rows[0].ytd_share == Decimal("100.00")


# --- a team --------------------------------------------------------------------------------


def test_team_share_is_the_ratio_of_the_sums_over_its_rms(
    leader, team, rm, teammate, plan_year, listening
):
    rate(rm, listening, MAR, 4)  # 1 of 1
    rate(teammate, listening, MAR, 4, 2, 2)  # 1 of 3
    result = rc.team_report_card(leader, team, plan_year, month=MAR, today=TODAY)
    # 2 of 4 = 50 %, not the average of 100 % and 33.33 %
    assert result.total.score == Decimal("50.00")
    assert {line.subject: line.score for line in result.lines} == {
        rm: Decimal("100.00"),
        teammate: Decimal("33.33"),
    }


def test_team_lines_carry_last_months_score_for_the_trend_arrow(
    leader, team, rm, plan_year, listening
):
    rate(rm, listening, FEB, 4, 2)  # 50
    rate(rm, listening, MAR, 4, 4, 2, 2, 4)  # 60
    line = rc.team_report_card(leader, team, plan_year, month=MAR, today=TODAY).lines[0]
    assert (line.previous, line.score, line.trend, line.change) == (
        Decimal("50.00"),
        Decimal("60.00"),
        "up",
        Decimal("10.00"),
    )


def test_bank_lines_are_teams_with_their_rms_ratings_summed(
    executive, rm, other_rm, plan_year, listening
):
    rate(rm, listening, MAR, 4, 2)
    rate(other_rm, listening, MAR, 4, 4)
    result = rc.bank_report_card(executive, plan_year, month=MAR, today=TODAY)
    assert {str(line.subject): line.score for line in result.lines} == {
        "North": Decimal("50.00"),
        "South": Decimal("100.00"),
    }
    assert result.total.score == Decimal("75.00")


# --- most improved -------------------------------------------------------------------------


@pytest.fixture
def four_rms(team):
    return [
        RmFactory(username=f"rm_{name.lower()}", first_name=name, last_name=name, team=team)
        for name in ("Adams", "Baker", "Clark", "Davis")
    ]


def test_most_improved_ranks_by_change_and_ties_share_a_rank_ordered_by_name(
    leader, team, four_rms, plan_year, listening
):
    adams, baker, clark, davis = four_rms
    # February → March, 10 ratings each month: Davis +20, Clark +10, Baker +10, Adams 0.
    for rm_, before, after in ((adams, 5, 5), (baker, 5, 6), (clark, 5, 6), (davis, 5, 7)):
        rate_good(rm_, [listening], FEB, before, 10)
        rate_good(rm_, [listening], MAR, after, 10)
    ranking = rc.team_report_card(leader, team, plan_year, month=MAR, today=TODAY).improved_month
    assert [(e.rank, e.rm.last_name, e.change) for e in ranking] == [
        (1, "Davis", Decimal("20.00")),
        (2, "Baker", Decimal("10.00")),
        (2, "Clark", Decimal("10.00")),
        (4, "Adams", Decimal("0.00")),
    ]


def test_most_improved_leaves_out_rms_with_too_few_ratings_in_either_month(
    leader, team, four_rms, plan_year, listening
):
    adams, baker, clark, _ = four_rms
    rate_good(adams, [listening], FEB, 0, 5)
    rate_good(adams, [listening], MAR, 5, 5)  # 5 and 5: enough
    rate_good(baker, [listening], FEB, 0, 4)  # 4 before: too few
    rate_good(baker, [listening], MAR, 5, 5)
    rate_good(clark, [listening], FEB, 0, 5)
    rate_good(clark, [listening], MAR, 4, 4)  # 4 now: too few
    ranking = rc.team_report_card(leader, team, plan_year, month=MAR, today=TODAY).improved_month
    assert [e.rm for e in ranking] == [adams]


def test_a_months_score_from_one_customer_is_not_enough_ratings(
    rm, plan_year, listening, follow_up
):
    # One customer answered the survey on both behaviours: two answers, one rater.
    rate(rm, listening, MAR, 5)
    rate(rm, follow_up, MAR, 2)
    card = rc.rm_report_card(rm, rm, plan_year, month=MAR, today=TODAY)
    assert (card.month_count, card.month_raters, card.minimum) == (2, 1, 5)
    assert (card.month_enough, card.ytd_enough) == (False, False)


def test_raters_are_customers_not_answers(rm, plan_year, listening, follow_up):
    rate_good(rm, [listening, follow_up], MAR, 5, 5)  # 5 customers, 10 answers
    card = rc.rm_report_card(rm, rm, plan_year, month=MAR, today=TODAY)
    assert (card.month_count, card.month_raters, card.month_enough) == (10, 5, True)


def test_a_team_line_from_too_few_customers_is_not_enough_ratings(
    leader, team, rm, plan_year, listening
):
    rate_good(rm, [listening], MAR, 3, 3)
    card = rc.team_report_card(leader, team, plan_year, month=MAR, today=TODAY)
    (line,) = [line for line in card.lines if line.subject == rm]
    assert (line.score, line.raters, line.enough) == (Decimal("100.00"), 3, False)


def test_the_report_card_page_says_not_enough_ratings(client, rm, plan_year, listening):
    rate_good(rm, [listening], MAR, 2, 2)
    client.force_login(rm)
    body = client.get(
        reverse("coaching:rm_report_card", args=[rm.pk]) + "?year=2027&month=2027-03"
    ).text
    assert "not enough ratings" in body
    assert "2 ratings from 2 customers; 5 needed for a score" in body


def test_most_improved_counts_customers_not_answers(leader, team, rm, plan_year, behaviours):
    # Three customers answer both behaviours: 6 answers a month, 3 raters: not ranked.
    rate_good(rm, behaviours, FEB, 0, 3)
    rate_good(rm, behaviours, MAR, 3, 3)
    card = rc.team_report_card(leader, team, plan_year, month=MAR, today=TODAY)
    assert card.improved_month == []


def test_without_a_behaviour_set_the_minimum_is_the_setting(settings):
    settings.RB_MIN_RATERS = 7
    assert rc.min_ratings(None) == 7


def test_the_minimum_number_of_ratings_comes_from_the_behaviour_set(
    leader, team, rm, plan_year, listening
):
    listening.behaviour_set.min_ratings_for_ranking = 2
    listening.behaviour_set.save()
    rate_good(rm, [listening], FEB, 0, 2)
    rate_good(rm, [listening], MAR, 2, 2)
    ranking = rc.team_report_card(leader, team, plan_year, month=MAR, today=TODAY).improved_month
    assert [(e.rm, e.change) for e in ranking] == [(rm, Decimal("100.00"))]


def test_most_improved_since_the_start_of_the_year_compares_with_the_first_month_with_enough(
    leader, team, rm, plan_year, listening
):
    rate_good(rm, [listening], JAN, 3, 3)  # too few: not the baseline
    rate_good(rm, [listening], FEB, 2, 5)  # 40 %: the baseline
    rate_good(rm, [listening], MAR, 3, 5)
    rate_good(rm, [listening], APR, 4, 5)  # 80 %
    entry = rc.team_report_card(leader, team, plan_year, month=APR, today=TODAY).improved_year[0]
    assert (entry.before_month, entry.before, entry.after, entry.change) == (
        FEB,
        Decimal("40.00"),
        Decimal("80.00"),
        Decimal("40.00"),
    )


def test_most_improved_is_scoped_to_the_team_for_its_leader(
    leader, team, rm, other_rm, plan_year, listening
):
    for rm_ in (rm, other_rm):
        rate_good(rm_, [listening], FEB, 1, 5)
        rate_good(rm_, [listening], MAR, 5, 5)
    ranking = rc.team_report_card(leader, team, plan_year, month=MAR, today=TODAY).improved_month
    assert [e.rm for e in ranking] == [rm]


def test_most_improved_across_the_bank_ranks_every_team(
    executive, rm, other_rm, plan_year, listening
):
    rate_good(rm, [listening], FEB, 1, 5)
    rate_good(rm, [listening], MAR, 2, 5)
    rate_good(other_rm, [listening], FEB, 1, 5)
    rate_good(other_rm, [listening], MAR, 5, 5)
    ranking = rc.bank_report_card(executive, plan_year, month=MAR, today=TODAY).improved_month
    assert [(e.rank, e.rm) for e in ranking] == [(1, other_rm), (2, rm)]


# --- months --------------------------------------------------------------------------------


def test_add_months_crosses_years():
    assert rc.add_months(datetime.date(2027, 1, 1), -1) == datetime.date(2026, 12, 1)
    assert rc.add_months(datetime.date(2026, 12, 1), 13) == datetime.date(2028, 1, 1)


def test_a_month_outside_the_plan_year_falls_back_to_the_latest_rated(rm, plan_year, listening):
    rate(rm, listening, FEB, 4)
    assert card(rm, rm, plan_year, datetime.date(2031, 5, 1)).month == FEB


# --- docs/report-card.md -------------------------------------------------------------------


def test_the_worked_example_of_the_docs(leader, team, rm, teammate, plan_year, behaviours):
    listening, follow_up = behaviours
    ann, bob = rm, teammate
    rate(ann, listening, FEB, 4, 2)
    rate(ann, listening, MAR, 5, 4, 3, 2)
    rate(ann, follow_up, MAR, 5, 4, 4)
    rate(ann, listening, APR, 4, 2, 2, 2, 2)
    rate(bob, listening, MAR, 4, 2, 2)
    rate(bob, follow_up, MAR, 4)

    march = card(ann, ann, plan_year, MAR)
    assert [r.month_share for r in march.rows] == [Decimal("50.00"), Decimal("100.00")]
    assert march.month_score == Decimal("70.00")
    april = card(ann, ann, plan_year, APR)
    assert april.month_score == Decimal("20.00")
    assert april.overall_trend[-3] == Decimal("50.00")  # February
    assert [r.ytd_share for r in april.rows] == [Decimal("36.36"), Decimal("100.00")]
    assert april.ytd_score == Decimal("61.82")
    assert [r.below_target for r in april.rows] == [True, False]

    team_march = rc.team_report_card(leader, team, plan_year, month=MAR, today=TODAY)
    assert team_march.total.score == Decimal("65.71")
    assert {line.subject: line.score for line in team_march.lines}[bob] == Decimal("60.00")
    assert {line.subject: line.trend for line in team_march.lines}[ann] == "up"
