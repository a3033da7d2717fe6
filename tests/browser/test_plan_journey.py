"""A territory plan's year, as the three people make it: rm1 writes and submits it,
leader1 endorses it, exec1 approves it, and rm1 sees it approved. By labels and buttons."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from org.models import Role
from tests.factories import (
    AccountFactory,
    ExecutiveFactory,
    PlanYearFactory,
    RmFactory,
    TeamFactory,
    TierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-battery"


@pytest.fixture
def bank():
    year = timezone.localdate().year
    PlanYearFactory(
        year=year, starts_on=datetime.date(year, 1, 1), ends_on=datetime.date(year, 12, 31)
    )
    leader1 = UserFactory(username="leader1", role=Role.LEADER)
    rm1 = RmFactory(username="rm1", team=TeamFactory(name="Northgate", leader=leader1))
    AccountFactory(owner=rm1, name="Harbor Logistics", tier=TierFactory(code="B"))
    ExecutiveFactory(username="exec1")
    return rm1


def log_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def save(page, button, section):
    """Save one section and wait for its "saved" notice, as a person would before going on."""
    page.get_by_role("button", name=button).click()
    expect(page.locator(f"#section-{section} .alert-success")).to_be_visible()


def test_plan_goes_from_rm_to_leader_to_executive_and_back_approved(live_server, page, bank):
    log_in(page, live_server, "rm1")
    page.get_by_role("link", name="My plan").click()

    page.get_by_role("textbox", name="Goals for myself", exact=True).fill(
        "Become the banker of the harbour district."
    )
    page.get_by_role("textbox", name="Goals for my business", exact=True).fill(
        "Grow loans 10 %, keep every tier-A account."
    )
    page.get_by_role("textbox", name="Goals for my compensation", exact=True).fill(
        "Full product bonus."
    )
    page.get_by_role("textbox", name="Goals for my market", exact=True).fill(
        "Three new logistics relationships."
    )
    save(page, "Save goals", "goals")
    page.get_by_role("textbox", name="Strategies", exact=True).fill(
        "Quarterly reviews with every owner."
    )
    save(page, "Save strategies", "strategies")
    page.get_by_role("textbox", name="How I will measure progress", exact=True).fill(
        "Loan growth by quarter."
    )
    save(page, "Save measures", "measures")
    page.get_by_label("Calls per week").fill("12")
    page.get_by_label("Visits per week").fill("4")
    page.get_by_label("Reviews per week").fill("2")
    save(page, "Save planned activity per week", "activity")
    page.get_by_role("checkbox", name=re.compile("Harbor Logistics")).check()
    save(page, "Save top accounts", "top_accounts")
    page.get_by_role("textbox", name="Resources needed", exact=True).fill(
        "A treasury specialist twice a month."
    )
    save(page, "Save resources needed", "resources")
    page.get_by_role("textbox", name="Risks and expected surprises", exact=True).fill(
        "A rival courts Harbor Logistics."
    )
    save(page, "Save risks and expected surprises", "risks")
    expect(page.get_by_text("7 of 7")).to_be_visible()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Submitted").first).to_be_visible()
    plan_url = page.url
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "leader1")
    page.goto(plan_url)
    page.get_by_role("button", name="Endorse").click()
    expect(page.get_by_text("Endorsed").first).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "exec1")
    page.goto(plan_url)
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "rm1")
    page.get_by_role("link", name="My plan").click()
    expect(page.get_by_text("Approved").first).to_be_visible()
    expect(page.get_by_role("button", name="Save goals")).to_have_count(0)
