"""rm1 logs a call from an account page without leaving it, and My week's figures move."""

import datetime
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from planning.models import ActivityStandard
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CustomerContactFactory,
    PlanYearFactory,
    RmFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("FLIGHTPATH_SHOTS", "/tmp/shots/acts")


@pytest.fixture
def rm1_week():
    leader = UserFactory(username="leader1", role="leader", first_name="Lena", last_name="Berg")
    team = TeamFactory(name="North", leader=leader)
    rm1 = RmFactory(username="rm1", first_name="Rita", last_name="Marsh", team=team)
    harbor = AccountFactory(owner=rm1, name="Harbor Logistics")
    CustomerContactFactory(account=harbor, name="Karin Ito")
    alpine = AccountFactory(owner=rm1, name="Alpine Dairy")
    year = PlanYearFactory(year=timezone.localdate().year)
    ActivityStandard.objects.create(
        plan_year=year, rm_style="both", calls_per_week=8, visits_per_week=3, reviews_per_week=2
    )
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    ActivityFactory.create_batch(2, account=alpine, kind="call", date=monday)
    visit = ActivityFactory(account=alpine, kind="visit", date=monday, outcome="Toured the plant")
    visit.participants.add(leader)
    ActivityFactory(
        account=harbor,
        kind="visit",
        status="planned",
        outcome="",
        date=monday + datetime.timedelta(days=4),
    )
    ActivityFactory(
        account=alpine,
        kind="call",
        date=monday - datetime.timedelta(days=3),
        next_step="Send the revised term sheet",
        next_step_due=today - datetime.timedelta(days=1),
    )
    return rm1, harbor


def log_in(page, live_server, username):
    page.goto(live_server.url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()


def test_rm_logs_a_call_from_the_account_page_and_my_week_changes(live_server, page, rm1_week):
    _rm1, harbor = rm1_week
    log_in(page, live_server, "rm1")
    # My week is the RM's home.
    expect(page.get_by_role("heading", name="My week")).to_be_visible()
    expect(page.locator("#week-gap")).to_have_text(
        "6 calls, 2 visits and 2 reviews short of the standard this week"
    )
    expect(page.locator("#week-done")).to_have_text("3")

    page.goto(f"{live_server.url}{harbor.get_absolute_url()}")
    url_before = page.url
    page.get_by_role("link", name="Log an activity").click()  # 1
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Log an activity")).to_be_visible()
    expect(dialog.get_by_label("Account")).to_have_value(f"Harbor Logistics ({harbor.number})")
    dialog.get_by_label("Customer contact met").select_option(label="Karin Ito")
    dialog.get_by_label("Outcome").fill("Agreed to review the credit line next month")
    dialog.get_by_role("button", name="Log it").click()  # 2
    expect(dialog.get_by_text("Logged: call with Harbor Logistics")).to_be_visible()
    assert page.url == url_before  # never left the page
    # The account's Recent activities refreshed on their own.
    expect(page.locator("#recent-activities")).to_contain_text("Agreed to review the credit line")
    dialog.get_by_role("button", name="Close").last.click()  # 3

    page.get_by_role("link", name="My week").first.click()
    expect(page.locator("#week-done")).to_have_text("4")
    expect(page.locator("#week-gap")).to_have_text(
        "5 calls, 2 visits and 2 reviews short of the standard this week"
    )
    expect(page.locator("#follow-ups")).to_contain_text("overdue")

    os.makedirs(SHOTS, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(150)
        page.screenshot(path=f"{SHOTS}/my-week-{width}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.set_viewport_size({"width": 390, "height": 900})
    page.get_by_role("link", name="Log an activity").click()
    expect(page.get_by_role("dialog").get_by_label("Outcome")).to_be_visible()
    page.wait_for_timeout(300)
    page.screenshot(path=f"{SHOTS}/log-modal-390.png", full_page=False)
