"""rm1 works a deal through the pipeline board to won, with the keyboard's buttons (the
board swaps by htmx), and the board and list are looked at on a laptop and a phone."""

import datetime
import os
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Opportunity, ProductFamily
from tests.factories import (
    AccountFactory,
    LeaderFactory,
    OpportunityFactory,
    ProductFactory,
    RmFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("FLIGHTPATH_SHOTS", "/tmp/shots/pipe")


@pytest.fixture
def rm1_pipeline():
    team = TeamFactory(name="North", leader=LeaderFactory(username="leader1"))
    rm1 = RmFactory(username="rm1", first_name="Rita", last_name="Marsh", team=team)
    loan = ProductFactory(code="TL", name="Term loan", family=ProductFamily.LOAN)
    card = ProductFactory(code="CC", name="Commercial card", family=ProductFamily.CARD)
    harbor = AccountFactory(owner=rm1, name="Harbor Logistics")
    alpine = AccountFactory(owner=rm1, name="Alpine Dairy")
    created = timezone.localdate() - datetime.timedelta(days=30)
    closes = timezone.localdate() + datetime.timedelta(days=60)
    deal = OpportunityFactory(
        account=harbor,
        product=loan,
        stage="negotiation",
        probability=70,
        amount=Decimal("1200000"),
        created_on=created,
        expected_close=closes,
        forecast_category="commit",
    )
    for i, stage in enumerate(["lead", "qualified", "proposal", "closing", "lead", "proposal"]):
        OpportunityFactory(
            account=alpine if i % 2 else harbor,
            product=card if i % 2 else loan,
            stage=stage,
            probability=10 + 15 * (i % 5),
            amount=Decimal(50_000 * (i + 1)),
            created_on=created,
            expected_close=closes + datetime.timedelta(days=7 * i),
            forecast_category=["pipeline", "best_case"][i % 2],
        )
    return deal


def log_in(page, live_server, username):
    page.goto(live_server.url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()


def test_rm1_moves_a_deal_through_the_board_to_won(live_server, page, rm1_pipeline):
    deal = rm1_pipeline
    log_in(page, live_server, "rm1")
    page.get_by_role("link", name="Pipeline").first.click()
    expect(page.get_by_role("heading", name="My pipeline")).to_be_visible()

    card = page.locator(f"#deal-{deal.pk}")
    expect(
        page.locator("section", has=page.get_by_role("heading", name="Negotiation"))
    ).to_contain_text("Harbor Logistics")
    # By keyboard: focus the card's button and press Enter; htmx swaps the board.
    card.get_by_role("button", name="Move to Closing").focus()
    page.keyboard.press("Enter")
    closing = page.locator("section.pipeline-column", has=page.locator("#col-closing"))
    expect(closing.locator(f"#deal-{deal.pk}")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("moved to Closing")

    page.locator(f"#deal-{deal.pk}").get_by_role("button", name="Won").click()
    expect(page.get_by_role("status")).to_contain_text("won")
    expect(page.locator(f"#deal-{deal.pk}")).to_have_count(0)

    deal = Opportunity.objects.get(pk=deal.pk)
    assert (deal.status, deal.probability) == ("won", 100)
    stages = [(c.from_stage, c.to_stage, c.to_status) for c in deal.changes.all()]
    assert stages == [("negotiation", "closing", ""), ("", "", "won")]

    page.goto(f"{live_server.url}/accounts/pipeline/{deal.pk}/")
    expect(page.get_by_text("Stage: Negotiation → Closing")).to_be_visible()
    expect(page.get_by_text("Status: Open → Won")).to_be_visible()


@pytest.mark.parametrize("width", [1366, 390])
def test_screenshots_of_the_board_and_the_list(live_server, page, rm1_pipeline, width):
    os.makedirs(SHOTS, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, "rm1")
    page.goto(f"{live_server.url}/accounts/pipeline/board/")
    expect(page.get_by_role("heading", name="Negotiation")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/board-{width}.png", full_page=True)
    # The page is no wider than the screen: the columns stack or scroll inside the board.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto(f"{live_server.url}/accounts/pipeline/")
    expect(page.get_by_role("heading", name="My pipeline")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/list-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
