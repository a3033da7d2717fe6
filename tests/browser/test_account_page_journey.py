"""The account page, as an RM reads it: positions per product, revenue over time, the
families held and the cross-sell gaps. Screenshots at a laptop's and a phone's width."""

import datetime
import os
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import ProductFamily
from tests.factories import AccountFactory, PositionFactory, ProductFactory, RmFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("FLIGHTPATH_SHOTS", "/tmp/shots/book")


@pytest.fixture
def harbor():
    rm1 = RmFactory(username="rm1", first_name="Rita", last_name="Marsh")
    products = [
        ProductFactory(code="TL", name="Term loan", family=ProductFamily.LOAN),
        ProductFactory(code="RCL", name="Revolving credit line", family=ProductFamily.LOAN),
        ProductFactory(code="DDA", name="Operating account", family=ProductFamily.DEPOSIT),
        ProductFactory(code="CASH", name="Cash management", family=ProductFamily.TREASURY),
    ]
    account = AccountFactory(owner=rm1, name="Harbor Logistics")
    month = datetime.date(2023, 11, 1)
    for i in range(36):
        for n, product in enumerate(products):
            balance = Decimal(0) if product.code == "CASH" else Decimal(100_000 * (n + 1) + i * 900)
            PositionFactory(
                account=account,
                product=product,
                month=month,
                balance=balance,
                revenue=Decimal(300 + 10 * i + 50 * n),
            )
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return account


def test_the_account_page_shows_positions_per_product(live_server, page, harbor):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("rm1")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}{harbor.get_absolute_url()}")

    expect(page.get_by_role("heading", name="Harbor Logistics", level=1)).to_be_visible()
    table = page.locator("#positions-table")
    expect(table.get_by_role("row", name="Term loan")).to_contain_text("131,500")
    expect(table.get_by_role("row", name="All loans")).to_be_visible()
    expect(page.locator("#cross-sell-gaps")).to_have_text(
        "Holds loans, deposits and treasury services; does not hold cards or other products: "
        "the cross-sell gaps."
    )
    revenue = page.get_by_role("img", name="Stacked bar chart of the account's revenue")
    expect(revenue).to_have_attribute("data-chart-ready", "36")

    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/account-page-{width}.png", full_page=True)
        # wide tables scroll inside their card; the page itself never scrolls sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_text("Revenue as a table").click()
    expect(page.locator("#revenue-table").get_by_role("row", name="Oct 2026")).to_be_visible()
