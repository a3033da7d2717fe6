"""What the check-in screen shows as figures (coaching.selectors.checkins.checkin_figures):
plan versus actual for the period the kind discusses, pipeline changes, activities against
the standard, improvement plans; all of it storable as JSON."""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from coaching.selectors.checkins import (
    activity_window,
    checkin_figures,
    plan_period,
)
from planning.models import ActivityStandard
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CheckInFactory,
    ImprovementPlanFactory,
    OpportunityFactory,
    PositionFactory,
    RmFactory,
)

pytestmark = pytest.mark.django_db

WEEK = datetime.date(2027, 3, 8)  # a Monday


def at(day, hour=9):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def review(rm, kind, start, end, held):
    return CheckInFactory(
        rm=rm, kind=kind, period_start=start, period_end=end, scheduled_at=at(held, 14)
    )


@pytest.fixture
def weekly(rm):
    return CheckInFactory(rm=rm, period_start=WEEK)


@pytest.fixture
def standard(plan_year):
    return ActivityStandard.objects.create(
        plan_year=plan_year,
        rm_style="both",
        calls_per_week=2,
        visits_per_week=2,
        reviews_per_week=1,
    )


# --- which plan-versus-actual period ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "start", "end", "expected"),
    [
        ("weekly", WEEK, datetime.date(2027, 3, 14), ("ytd", None)),
        (
            "monthly",
            datetime.date(2027, 2, 1),
            datetime.date(2027, 2, 28),
            ("month", datetime.date(2027, 2, 1)),
        ),
        (
            "quarterly",
            datetime.date(2027, 1, 1),
            datetime.date(2027, 3, 31),
            ("quarter", datetime.date(2027, 3, 1)),
        ),
        (
            "semi_annual",
            datetime.date(2027, 1, 1),
            datetime.date(2027, 6, 30),
            ("ytd", datetime.date(2027, 6, 1)),
        ),
    ],
)
def test_each_kind_discusses_its_plan_versus_actual_period(rm, kind, start, end, expected):
    checkin = CheckInFactory(rm=rm, kind=kind, period_start=start, period_end=end)
    assert plan_period(checkin) == expected


def test_a_monthly_review_shows_plan_versus_actual_of_the_month_reviewed(rm, plan_year):
    PositionFactory(month=datetime.date(2027, 3, 1))  # the bank has closed March
    checkin = review(rm, "monthly", datetime.date(2027, 2, 1), datetime.date(2027, 2, 28), WEEK)
    plan = checkin_figures(checkin)["plan"]
    assert (plan["available"], plan["period"], plan["period_start"], plan["period_end"]) == (
        True,
        "month",
        "2027-02-01",
        "2027-02-28",
    )
    assert plan["as_of"] == "2027-03-01"


def test_without_a_plan_year_the_screen_says_there_are_no_plan_figures(rm):
    checkin = CheckInFactory(rm=rm, period_start=datetime.date(2031, 3, 3))
    plan = checkin_figures(checkin)["plan"]
    assert (plan["available"], plan["reason"]) == (False, "No plan year covers this check-in.")


# --- activities --------------------------------------------------------------------------------


def test_a_weekly_check_in_counts_the_seven_days_up_to_its_day(weekly):
    assert activity_window(weekly) == (datetime.date(2027, 3, 2), WEEK)


def test_activities_of_the_week_are_counted_by_kind_against_the_standard(weekly, rm, standard):
    account = AccountFactory(owner=rm)
    for day, kind in [
        (datetime.date(2027, 3, 2), "call"),
        (WEEK, "call"),
        (datetime.date(2027, 3, 5), "visit"),
        (datetime.date(2027, 3, 6), "meeting"),  # a meeting counts as a visit
        (datetime.date(2027, 3, 3), "review"),
        (datetime.date(2027, 3, 1), "call"),  # before the window
        (datetime.date(2027, 3, 9), "call"),  # after it
    ]:
        ActivityFactory(account=account, date=day, kind=kind)
    ActivityFactory(account=AccountFactory(), date=WEEK, kind="call")  # someone else's
    activities = checkin_figures(weekly, now=at(WEEK, 10))["activities"]
    rows = {
        r["key"]: (r["count"], r["per_week"], r["standard"], r["on_course"])
        for r in activities["rows"]
    }
    assert rows == {
        "calls": (2, "2.00", "2.0", True),
        "visits": (2, "2.00", "2.0", True),
        "reviews": (1, "1.00", "1.0", True),
    }
    assert (activities["total"]["count"], activities["total"]["on_course"]) == (5, True)


def test_a_monthly_review_counts_activities_per_calendar_week_of_the_month(rm, standard):
    checkin = review(
        rm,
        "monthly",
        datetime.date(2027, 1, 1),
        datetime.date(2027, 1, 31),
        datetime.date(2027, 2, 5),
    )
    account = AccountFactory(owner=rm)
    ActivityFactory.create_batch(9, account=account, date=datetime.date(2027, 1, 20), kind="call")
    activities = checkin_figures(checkin, now=at(datetime.date(2027, 2, 5), 15))["activities"]
    calls = activities["rows"][0]
    # 31 days are 4.43 weeks: 9 / 4.43 = 2.03 a week; the standard expects 2 * 4.43 = 8.86.
    assert (activities["weeks"], calls["per_week"], calls["expected"], calls["on_course"]) == (
        "4.43",
        "2.03",
        "8.86",
        True,
    )


def test_a_review_read_before_its_period_ends_divides_by_the_weeks_elapsed_only(rm, standard):
    # H1 2027 read on Friday 12 March: 1 January to 12 March is 71 days = 10.14 weeks.
    # 25 calls are 25 * 7 / 71 = 2.46 a week, above the standard of 2 (expected so far 2 * 10.14 =
    # 20.29). Divided by the whole half-year (181 days = 25.86 weeks) they would read 0.97
    # a week, "below", for an RM ahead of pace.
    checkin = review(
        rm,
        "semi_annual",
        datetime.date(2027, 1, 1),
        datetime.date(2027, 6, 30),
        datetime.date(2027, 7, 5),
    )
    account = AccountFactory(owner=rm)
    ActivityFactory.create_batch(25, account=account, date=datetime.date(2027, 2, 15), kind="call")
    activities = checkin_figures(checkin, now=at(datetime.date(2027, 3, 12), 17))["activities"]
    calls = activities["rows"][0]
    assert (activities["through"], activities["weeks"], activities["period_weeks"]) == (
        "2027-03-12",
        "10.14",
        "25.86",
    )
    assert (calls["per_week"], calls["expected"], calls["on_course"]) == ("2.46", "20.29", True)


def test_activities_dated_after_the_day_the_figures_are_read_are_not_counted(rm, standard):
    checkin = review(rm, "monthly", datetime.date(2027, 1, 1), datetime.date(2027, 1, 31), WEEK)
    account = AccountFactory(owner=rm)
    ActivityFactory(account=account, date=datetime.date(2027, 1, 7), kind="call")
    ActivityFactory(account=account, date=datetime.date(2027, 1, 20), kind="call")  # to come
    calls = checkin_figures(checkin, now=at(datetime.date(2027, 1, 14)))["activities"]["rows"][0]
    # 14 days elapsed = 2 weeks: 1 call is 0.50 a week.
    assert (calls["count"], calls["per_week"]) == (1, "0.50")


def test_a_check_in_whose_window_has_not_begun_has_no_rates_not_zero(weekly, standard):
    activities = checkin_figures(weekly, now=at(datetime.date(2027, 2, 1)))["activities"]
    assert (activities["through"], activities["weeks"]) == (None, "0.00")
    assert {r["per_week"] for r in activities["rows"]} == {None}
    assert activities["total"]["on_course"] is None


def test_an_rm_is_held_to_the_standard_of_their_style(rm, plan_year, weekly, standard):
    ActivityStandard.objects.create(
        plan_year=plan_year,
        rm_style="finder",
        calls_per_week=12,
        visits_per_week=3,
        reviews_per_week=1,
    )
    rm.rm_style = "finder"
    rm.save()
    activities = checkin_figures(weekly)["activities"]
    assert (activities["style"], activities["rows"][0]["standard"]) == ("Finder", "12.0")


def test_without_a_standard_the_activities_are_counted_without_one(weekly):
    activities = checkin_figures(weekly)["activities"]
    assert activities["has_standard"] is False
    assert {r["on_course"] for r in activities["rows"]} == {None}


# --- pipeline ----------------------------------------------------------------------------------


def test_pipeline_changes_since_the_last_completed_check_in(weekly, rm):
    CheckInFactory(
        rm=rm,
        period_start=datetime.date(2027, 3, 1),
        status="completed",
        completed_at=at(datetime.date(2027, 3, 1), 10),
        snapshot={},
    )
    jan = datetime.date(2027, 1, 10)

    def opp(name, **kw):
        account = AccountFactory(owner=rm, name=name)
        return OpportunityFactory(account=account, **kw)

    opp("New", created_on=datetime.date(2027, 3, 2), expected_close=datetime.date(2027, 4, 30))
    opp("Won", created_on=jan, status="won", closed_on=datetime.date(2027, 3, 3))
    opp("Lost", created_on=jan, status="lost", closed_on=datetime.date(2027, 3, 4))
    opp("Stalled", created_on=jan, expected_close=datetime.date(2027, 3, 1))
    opp("Due", created_on=jan, expected_close=datetime.date(2027, 3, 12))
    opp("Later", created_on=jan, expected_close=datetime.date(2027, 4, 30))
    opp("Won before", created_on=jan, status="won", closed_on=datetime.date(2027, 2, 20))
    OpportunityFactory(account=AccountFactory(), created_on=datetime.date(2027, 3, 2))

    pipeline = checkin_figures(weekly, now=at(WEEK))["pipeline"]
    groups = {g["key"]: [o["account"] for o in g["items"]] for g in pipeline["groups"]}
    assert (pipeline["since"], pipeline["since_last_checkin"]) == ("2027-03-01", True)
    assert pipeline["due_until"] == "2027-03-14"
    assert groups == {
        "created": ["New"],
        "won": ["Won"],
        "lost": ["Lost"],
        "stalled": ["Stalled"],
        "due": ["Due"],
    }


def test_without_an_earlier_check_in_pipeline_changes_are_those_of_the_activity_window(weekly, rm):
    OpportunityFactory(account=AccountFactory(owner=rm), created_on=datetime.date(2027, 3, 2))
    OpportunityFactory(account=AccountFactory(owner=rm), created_on=datetime.date(2027, 3, 1))
    pipeline = checkin_figures(weekly, now=at(WEEK))["pipeline"]
    created = pipeline["groups"][0]
    assert (pipeline["since"], pipeline["since_last_checkin"], created["count"]) == (
        "2027-03-02",
        False,
        1,
    )


def test_long_pipeline_lists_show_twelve_with_the_whole_count_and_sum(weekly, rm):
    account = AccountFactory(owner=rm)
    OpportunityFactory.create_batch(
        15, account=account, created_on=datetime.date(2027, 3, 3), amount=Decimal("1000.00")
    )
    created = checkin_figures(weekly, now=at(WEEK))["pipeline"]["groups"][0]
    assert (created["count"], created["amount"], len(created["items"]), created["more"]) == (
        15,
        "15000.00",
        12,
        3,
    )


# --- improvement plans and the whole ----------------------------------------------------------


def test_the_rms_open_improvement_plans_are_shown_for_coaching(weekly, rm, behaviours):
    listening, follow_up = behaviours
    ImprovementPlanFactory(rm=rm, behaviour=listening, actions="Ask first")
    ImprovementPlanFactory(rm=rm, behaviour=follow_up, closed=True)
    ImprovementPlanFactory(rm=RmFactory(team=rm.team), behaviour=follow_up)
    plans = checkin_figures(weekly)["improvement_plans"]
    assert [(p["behaviour"], p["actions"]) for p in plans] == [("Listening", "Ask first")]


def test_the_figures_are_plain_json(weekly, rm, behaviours, standard):
    ImprovementPlanFactory(rm=rm, behaviour=behaviours[0])
    OpportunityFactory(account=AccountFactory(owner=rm), created_on=datetime.date(2027, 3, 3))
    figures = checkin_figures(weekly)
    assert json.loads(json.dumps(figures)) == figures
