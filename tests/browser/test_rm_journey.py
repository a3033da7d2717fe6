"""An RM's first journey, as a person would make it: by labels and button names."""

import datetime
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from accounts.models import ProductFamily
from tests.factories import (
    AccountFactory,
    PositionFactory,
    ProductFactory,
    RmFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rm1_book():
    rm1 = RmFactory(username="rm1", first_name="Rita", last_name="Marsh")
    loan = ProductFactory(code="TL", name="Term loan", family=ProductFamily.LOAN)
    dda = ProductFactory(code="DDA", name="Operating account", family=ProductFamily.DEPOSIT)
    harbor = AccountFactory(owner=rm1, name="Harbor Logistics", tier=TierFactory(code="A"))
    AccountFactory(owner=rm1, name="Alpine Dairy", tier=TierFactory(code="C"))
    month = datetime.date(2023, 11, 1)
    for i in range(36):
        PositionFactory(
            account=harbor, product=loan, month=month, balance=Decimal(100_000 + i * 1000)
        )
        PositionFactory(account=harbor, product=dda, month=month, balance=Decimal(50_000 - i * 500))
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return rm1


def test_rm_logs_in_filters_tier_a_and_sees_the_account_chart(live_server, page, rm1_book):
    requested_hosts = set()
    page.on("request", lambda r: requested_hosts.add(urlparse(r.url).netloc))

    page.goto(live_server.url)
    page.get_by_label("Username").fill("rm1")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()

    # An RM lands on My week (issue 12); the book is one click away.
    expect(page.get_by_role("heading", name="My week")).to_be_visible()
    page.get_by_role("link", name="My book").click()
    expect(page.get_by_role("heading", name="My book")).to_be_visible()
    expect(page.get_by_role("link", name="Alpine Dairy")).to_be_visible()

    page.get_by_label("Tier", exact=True).select_option("A")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("link", name="Alpine Dairy")).to_have_count(0)

    page.get_by_role("link", name="Harbor Logistics").click()
    expect(page.get_by_role("heading", name="Harbor Logistics", level=1)).to_be_visible()
    chart = page.get_by_role("img", name="Line chart of month-end loan and deposit balances")
    expect(chart).to_have_attribute("data-chart-ready", "36")

    # Every asset came from our own server: the page needs no internet.
    assert requested_hosts == {urlparse(live_server.url).netloc}
