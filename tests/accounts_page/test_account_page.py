"""What the account page shows of the positions, and what it costs."""

import datetime
from decimal import Decimal

import pytest

from accounts.models import ProductFamily
from tests.factories import (
    ActivityFactory,
    OpportunityFactory,
    PositionFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

E = datetime.date(2026, 10, 1)


def put(account, product, month, balance, revenue="0"):
    PositionFactory(
        account=account,
        product=product,
        month=month,
        balance=Decimal(balance),
        revenue=Decimal(revenue),
    )


@pytest.fixture
def held(account):
    loan = ProductFactory(code="TL", name="Term loan", family=ProductFamily.LOAN)
    put(account, loan, E, "120000.00", "600.00")
    put(account, loan, datetime.date(2026, 9, 1), "100000.00", "500.00")
    put(account, loan, datetime.date(2025, 10, 1), "80000.00", "480.00")
    return account


def test_the_account_page_shows_the_position_per_product_with_its_changes(client, rm, held):
    client.force_login(rm)

    text = client.get(held.get_absolute_url()).text

    assert 'id="positions-table"' in text
    assert "Term loan" in text
    assert "120,000" in text  # the balance at October
    assert "+20,000" in text  # against September
    assert "+20.0&nbsp;%" in text
    assert "+40,000" in text  # against October a year before
    assert "+50.0&nbsp;%" in text


def test_the_account_page_states_the_cross_sell_gaps(client, rm, held):
    client.force_login(rm)

    response = client.get(held.get_absolute_url())

    assert response.context["positions"].summary in response.text
    assert "does not hold deposits, treasury services, cards or other products" in response.text
    assert response.text.count("not held: cross-sell gap") == 4


def test_the_revenue_chart_has_a_table_with_the_same_figures(client, rm, held):
    client.force_login(rm)

    text = client.get(held.get_absolute_url()).text

    assert 'id="revenue-chart"' in text
    assert 'id="revenue-history"' in text
    assert 'id="revenue-table"' in text
    assert "js/revenue-chart.js" in text


def test_an_account_without_positions_says_so_instead_of_drawing_charts(client, rm, account):
    client.force_login(rm)

    text = client.get(account.get_absolute_url()).text

    assert "No positions loaded for this account yet." in text
    assert "revenue-chart.js" not in text
    assert "Holds no product with the bank" in text


def test_an_rm_of_another_team_gets_404_on_the_account_page(client, other_rm, held):
    client.force_login(other_rm)

    assert client.get(held.get_absolute_url()).status_code == 404


def test_a_leader_of_another_team_gets_404_on_the_account_page(client, other_leader, held):
    client.force_login(other_leader)

    assert client.get(held.get_absolute_url()).status_code == 404


# --- query count: the same at few and many products and months ----------------------------

# session, user, account (joined), ownership history, coverage history, positions (one
# query with the bank's latest month), activities, opportunities, risk score, the bell.
ACCOUNT_PAGE_QUERIES = 10


@pytest.mark.parametrize(("products", "months"), [(2, 3), (9, 40)])
def test_account_page_query_count_does_not_grow_with_products_or_months(
    client, rm, account, products, months, django_assert_max_num_queries
):
    for p in range(products):
        product = ProductFactory(family=ProductFamily.values[p % len(ProductFamily.values)])
        for i in range(months):
            put(account, product, datetime.date(2023 + i // 12, i % 12 + 1, 1), "1000.00", "5")
    ActivityFactory.create_batch(3, account=account)
    OpportunityFactory.create_batch(3, account=account)
    client.force_login(rm)

    with django_assert_max_num_queries(ACCOUNT_PAGE_QUERIES):
        response = client.get(account.get_absolute_url())

    assert sum(len(fp.products) for fp in response.context["positions"].families) == products
