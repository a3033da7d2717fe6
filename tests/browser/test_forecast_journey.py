"""A month's forecast as the two people make it: rm1 submits their number with a note,
leader1 adjusts it with a reason and sees the team total follow. Screenshots of the
forecast pages and the accuracy history at 1366 and 390 px go to /tmp/shots/fcst/."""

import datetime
import os
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import ForecastCategory, OpportunityStatus
from org.models import Role
from planning.models import ForecastSnapshot, SteeringStandard
from planning.selectors.forecasts import open_periods
from tests.factories import (
    AccountFactory,
    ExecutiveFactory,
    OpportunityFactory,
    PlanYearFactory,
    RmFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-battery"
SHOTS = os.environ.get("FLIGHTPATH_SHOTS", "/tmp/shots/fcst")
NEXT = open_periods()[1]


@pytest.fixture
def bank():
    today = timezone.localdate()
    plan_year = PlanYearFactory(
        year=today.year,
        starts_on=datetime.date(today.year, 1, 1),
        ends_on=datetime.date(today.year, 12, 31),
    )
    SteeringStandard.objects.create(
        plan_year=plan_year, forecast_accuracy_pct=Decimal("85"), relationship_metric="retention"
    )
    leader1 = UserFactory(username="leader1", role=Role.LEADER, first_name="Lea", last_name="Dahl")
    team = TeamFactory(name="Northgate", leader=leader1)
    rm1 = RmFactory(username="rm1", team=team, first_name="Rafe", last_name="Moss")
    rm2 = RmFactory(username="rm2", team=team, first_name="Ines", last_name="Berg")
    ExecutiveFactory(username="exec1")
    for rm, name, amount in ((rm1, "Harbor Logistics", "180000"), (rm2, "Pier Foods", "60000")):
        OpportunityFactory(
            account=AccountFactory(owner=rm, name=name),
            amount=Decimal(amount),
            forecast_category=ForecastCategory.COMMIT,
            expected_close=NEXT.start + datetime.timedelta(days=11),
        )
    # A history: rm1 forecast 100 000 a month since January and won less.
    month = datetime.date(today.year, 1, 1)
    account = AccountFactory(owner=rm1, name="Quay Marine")
    while month < today.replace(day=1):
        ForecastSnapshot.objects.create(
            rm=rm1, month=month, amount=Decimal("100000"), taken_at=timezone.now()
        )
        OpportunityFactory(
            account=account,
            amount=Decimal(70000 + 5000 * (month.month % 4)),
            status=OpportunityStatus.WON,
            created_on=month,
            closed_on=month + datetime.timedelta(days=14),
        )
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return team


def log_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def shoot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(150)
        page.screenshot(path=f"{SHOTS}/journey_{name}_{width}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_rm_submits_a_forecast_and_the_leader_adjusts_it_and_sees_the_team_total(
    live_server, page, bank
):
    log_in(page, live_server, "rm1")
    page.get_by_role("link", name="Forecast", exact=True).click()
    card = page.locator(f"#{NEXT.key}")
    expect(card.get_by_test_id("proposed")).to_have_text("180,000")
    card.get_by_label("My forecast").fill("200000")
    card.get_by_label("Note").fill("Harbor adds a second truck loan.")
    card.get_by_role("button", name="Submit forecast").click()
    card = page.locator(f"#{NEXT.key}")
    expect(card.get_by_role("status")).to_contain_text("is submitted")
    expect(card.get_by_test_id("submitted")).to_contain_text("200,000")
    shoot(page, "rm_forecast")

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, "leader1")
    page.get_by_role("link", name="Forecast", exact=True).click()
    page.get_by_role("link", name=NEXT.label).click()
    row = page.locator("tr", has_text="Rafe Moss")
    expect(row.get_by_test_id("rm-number")).to_contain_text("200,000")
    expect(page.get_by_test_id("team-total")).to_have_text("200,000")
    row.get_by_text("Adjust", exact=True).click()
    row.get_by_label("Adjusted number for Rafe Moss").fill("150000")
    row.get_by_label("Why").fill("The second loan needs credit committee first.")
    row.get_by_role("button", name="Save adjustment").click()
    row = page.locator("tr", has_text="Rafe Moss")
    expect(row.get_by_test_id("adjusted")).to_contain_text("150,000")
    expect(row.get_by_test_id("rm-number")).to_contain_text("200,000")  # the RM's stays
    expect(page.get_by_test_id("team-total")).to_have_text("150,000")
    shoot(page, "team_forecast")

    page.get_by_label("Note to the executive").fill("Rafe's second loan is the swing.")
    page.get_by_role("button", name="Submit the team's forecast").click()
    expect(page.get_by_test_id("team-submission")).to_contain_text("150,000")

    page.get_by_role("link", name="Rafe Moss").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rafe Moss")
    expect(page.get_by_test_id("bias-words")).to_contain_text("optimistic")
    expect(page.locator("#accuracy-chart")).to_have_attribute(
        "data-chart-ready", str(timezone.localdate().month)
    )
    shoot(page, "rm_accuracy")


def test_the_executive_sees_every_team_and_the_banks_accuracy(live_server, page, bank):
    log_in(page, live_server, "exec1")
    page.get_by_role("link", name="Forecast", exact=True).click()
    expect(page.get_by_test_id("bank-total")).to_be_visible()
    shoot(page, "bank_forecast")
    page.get_by_role("link", name="Forecast accuracy history").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("The bank")
    shoot(page, "bank_accuracy")
