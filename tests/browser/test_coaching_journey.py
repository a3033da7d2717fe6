"""A week of coaching, as the people do it: leader1 opens rm1's weekly check-in from This
week, ticks off the commitment carried over from last week, adds a new one and completes
the check-in; rm1 acknowledges it; a customer rates rm1 through the survey link; rm1's
report card shows the rating. By labels and buttons."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from coaching.models import CheckIn, Commitment, CustomerRating, SurveyInvitation
from coaching.services.surveys import expiry_of, survey_link
from org.models import Role
from tests.factories import (
    AccountFactory,
    BehaviourFactory,
    BehaviourSetFactory,
    CheckInFactory,
    CommitmentFactory,
    CustomerContactFactory,
    ExecutiveFactory,
    PlanYearFactory,
    RmFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-battery"


def _week_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@pytest.fixture
def week():
    """rm1's check-ins: last week's held, with a commitment still open; this week's due."""
    today = timezone.localdate()
    year = today.year
    plan_year = PlanYearFactory(
        year=year, starts_on=datetime.date(year, 1, 1), ends_on=datetime.date(year, 12, 31)
    )
    leader1 = UserFactory(username="leader1", role=Role.LEADER, first_name="Lena")
    rm1 = RmFactory(
        username="rm1",
        first_name="Rafael",
        last_name="Moreno",
        team=TeamFactory(name="Northgate", leader=leader1),
    )
    account = AccountFactory(owner=rm1, name="Harbor Logistics")
    this_monday = _week_of(today)
    last_week = CheckInFactory(
        rm=rm1,
        period_start=this_monday - datetime.timedelta(days=7),
        status=CheckIn.Status.COMPLETED,
        completed_at=timezone.now() - datetime.timedelta(days=6),
        completed_by=leader1,
        snapshot={},
    )
    CommitmentFactory(
        checkin=last_week, text="Send the cash-management proposal to the CFO", due_on=today
    )
    this_week = CheckInFactory(
        rm=rm1,
        period_start=this_monday,
        scheduled_at=timezone.now() + datetime.timedelta(hours=1),
    )
    execs = ExecutiveFactory(username="exec1"), ExecutiveFactory(username="exec2")
    behaviours = BehaviourSetFactory(
        plan_year=plan_year,
        created_by=execs[0],
        last_edited_by=execs[0],
        proposed_by=execs[0],
        status="approved",
        decided_by=execs[1],
    )
    BehaviourFactory(behaviour_set=behaviours, name="Listening", weight=60, position=0)
    BehaviourFactory(behaviour_set=behaviours, name="Follow-up", weight=40, position=1)
    month = today.replace(day=1)
    invitation = SurveyInvitation.objects.create(
        contact=CustomerContactFactory(account=account, name="Anna Berger"),
        rm=rm1,
        month=month,
        expires_at=expiry_of(month),
    )
    return this_week, invitation


def log_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def log_out(page):
    page.get_by_role("button", name="Log out").click()


def test_leader_holds_the_check_in_rm_acknowledges_customer_rates_report_card_shows_it(
    live_server, page, week
):
    checkin, invitation = week

    # leader1 opens rm1's weekly check-in from This week.
    log_in(page, live_server, "leader1")
    page.get_by_role("link", name="This week", exact=True).click()
    rm1_row = page.get_by_role("row").filter(has_text="Rafael Moreno")
    rm1_row.get_by_role("link", name="Weekly check-in").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rafael Moreno")

    # The commitment carried over from last week comes first; it is ticked off inline.
    rows = page.locator("#commitments tbody tr")
    expect(rows.nth(0)).to_contain_text("Carried over from earlier check-ins")
    carried = rows.nth(1)
    expect(carried).to_contain_text("Send the cash-management proposal to the CFO")
    carried.get_by_role("button", name="Mark done").click()
    expect(page.locator("#commitments")).to_contain_text("Saved")

    # A new commitment for next week.
    page.get_by_label("What will be done").fill("Book the annual review with the owner")
    page.get_by_role("button", name="Add commitment").click()
    expect(page.locator("#commitments")).to_contain_text("Commitment recorded.")

    page.get_by_label("Deals").fill("Term loan for the warehouse is in credit review.")
    page.locator("#complete-box summary").click()
    page.get_by_role("button", name="Yes, complete it").click()
    expect(page.locator("#completed-note")).to_contain_text("Completed")
    log_out(page)

    # rm1 reads it and acknowledges.
    log_in(page, live_server, "rm1")
    page.get_by_role("link", name="My check-ins", exact=True).click()
    page.get_by_role("link", name="Weekly check-in").first.click()
    expect(page.get_by_text("Term loan for the warehouse is in credit review.")).to_be_visible()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    log_out(page)

    # The customer rates rm1 through the link, without a login.
    page.goto(live_server.url + survey_link(invitation))
    for behaviour in ("Listening", "Follow-up"):
        page.get_by_role("group", name=behaviour).get_by_text("Excellent").click()
    comment = "Rafael <b>always</b> calls back the same day."
    page.get_by_label("Anything you would like to add?").fill(comment)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")

    # rm1's report card shows the rating and the comment, as text.
    log_in(page, live_server, "rm1")
    page.get_by_role("link", name="Report card", exact=True).click()
    expect(page.locator("#comments")).to_contain_text(comment)
    expect(page.locator("main")).to_contain_text("100")

    checkin.refresh_from_db()
    assert checkin.status == CheckIn.Status.COMPLETED
    assert checkin.acknowledged_at is not None
    assert checkin.snapshot["commitments"]
    assert Commitment.objects.filter(rm=checkin.rm, done=True).count() == 1
    assert Commitment.objects.filter(checkin=checkin, done=False).count() == 1
    assert CustomerRating.objects.filter(rm=checkin.rm, rating=5).count() == 2
