"""The account page: the month-end position per product, against the month before and the
same month a year before; the revenue chart; the product families held and the gaps."""

import datetime
from decimal import Decimal

import pytest

from accounts.models import AccountStatus, ProductFamily
from accounts.selectors.positions import account_positions
from tests.factories import AccountFactory, PositionFactory, ProductFactory

pytestmark = pytest.mark.django_db

E = datetime.date(2026, 10, 1)  # the bank's latest month-end in these tests
LAST_MONTH = datetime.date(2026, 9, 1)
YEAR_AGO = datetime.date(2025, 10, 1)


@pytest.fixture
def term_loan():
    return ProductFactory(code="TL", name="Term loan", family=ProductFamily.LOAN)


@pytest.fixture
def credit_line():
    return ProductFactory(code="RCL", name="Revolving credit line", family=ProductFamily.LOAN)


@pytest.fixture
def operating_account():
    return ProductFactory(code="DDA", name="Operating account", family=ProductFamily.DEPOSIT)


@pytest.fixture
def cash_management():
    return ProductFactory(code="CASH", name="Cash management", family=ProductFamily.TREASURY)


def put(account, product, month, balance, revenue="0"):
    return PositionFactory(
        account=account,
        product=product,
        month=month,
        balance=Decimal(balance),
        revenue=Decimal(revenue),
    )


def family(positions, code):
    return next(fp for fp in positions.families if fp.family == code)


def test_a_products_balance_and_revenue_are_compared_with_last_month_and_a_year_ago(
    account, term_loan
):
    put(account, term_loan, E, "120000.00", "600.00")
    put(account, term_loan, LAST_MONTH, "100000.00", "500.00")
    put(account, term_loan, YEAR_AGO, "80000.00", "480.00")

    positions = account_positions(account)

    assert (positions.month, positions.last_month, positions.year_ago) == (
        E,
        LAST_MONTH,
        YEAR_AGO,
    )
    [loan] = family(positions, ProductFamily.LOAN).products
    f = loan.figures
    assert (f.balance, f.balance_last_month, f.balance_year_ago) == (120000, 100000, 80000)
    # 120,000 - 100,000 = +20,000, 20 % of 100,000; 120,000 - 80,000 = +40,000, 50 %
    assert f.balance_vs_last_month.amount == Decimal("20000.00")
    assert f.balance_vs_last_month.pct == Decimal("20.00")
    assert f.balance_vs_year_ago.amount == Decimal("40000.00")
    assert f.balance_vs_year_ago.pct == Decimal("50.00")
    # revenue 600 against 500 (+100, +20 %) and 480 (+120, +25 %)
    assert f.revenue_vs_last_month.amount == Decimal("100.00")
    assert f.revenue_vs_last_month.pct == Decimal("20.00")
    assert f.revenue_vs_year_ago.amount == Decimal("120.00")
    assert f.revenue_vs_year_ago.pct == Decimal("25.00")


def test_a_percentage_is_rounded_half_up_to_two_decimals(account, term_loan):
    put(account, term_loan, E, "100000.00")
    put(account, term_loan, LAST_MONTH, "30000.00")

    [loan] = account_positions(account).families[0].products

    # 100 x 70,000 / 30,000 = 233.333...
    assert loan.figures.balance_vs_last_month.pct == Decimal("233.33")


def test_a_product_taken_up_since_has_a_change_in_money_but_no_percentage(
    account, operating_account
):
    put(account, operating_account, E, "50000.00", "40.00")

    [dda] = account_positions(account).families[0].products

    assert dda.figures.balance_vs_year_ago.amount == Decimal("50000.00")
    assert dda.figures.balance_vs_year_ago.pct is None
    assert dda.figures.balance_vs_last_month.pct is None


def test_the_month_is_the_banks_latest_so_a_product_given_up_shows_its_fall_to_nothing(
    account, term_loan, operating_account
):
    other = AccountFactory()
    put(other, operating_account, E, "1.00")  # the bank has October
    put(account, term_loan, LAST_MONTH, "90000.00", "300.00")  # the account stops in September

    positions = account_positions(account)

    assert positions.month == E
    [loan] = family(positions, ProductFamily.LOAN).products
    assert loan.figures.balance == 0
    assert loan.figures.balance_vs_last_month.amount == Decimal("-90000.00")
    assert loan.figures.balance_vs_last_month.pct == Decimal("-100.00")
    assert not family(positions, ProductFamily.LOAN).held


def test_products_are_grouped_by_family_with_the_familys_subtotal(
    account, term_loan, credit_line, operating_account
):
    put(account, term_loan, E, "100000.00", "500.00")
    put(account, term_loan, YEAR_AGO, "110000.00", "550.00")
    put(account, credit_line, E, "25000.00", "125.00")
    put(account, credit_line, YEAR_AGO, "15000.00", "50.00")
    put(account, operating_account, E, "40000.00", "10.00")

    positions = account_positions(account)

    assert [fp.family for fp in positions.families] == [
        ProductFamily.LOAN,
        ProductFamily.DEPOSIT,
    ]
    loans = family(positions, ProductFamily.LOAN)
    assert [p.code for p in loans.products] == ["RCL", "TL"]
    assert loans.total.balance == Decimal("125000.00")
    assert loans.total.balance_year_ago == Decimal("125000.00")
    assert loans.total.balance_vs_year_ago.pct == Decimal("0.00")
    # revenue adds up across families: 500 + 125 + 10 now, 550 + 50 a year ago
    assert positions.total.revenue == Decimal("635.00")
    assert positions.total.revenue_vs_year_ago.amount == Decimal("35.00")
    assert positions.total.revenue_vs_year_ago.pct == Decimal("5.83")


def test_months_other_than_the_three_compared_do_not_enter_the_table(account, term_loan):
    put(account, term_loan, E, "100.00")
    put(account, term_loan, datetime.date(2026, 3, 1), "999999.00")

    [loan] = account_positions(account).families[0].products

    assert loan.figures.balance_last_month == 0
    assert loan.figures.balance_year_ago == 0


# --- holdings and cross-sell gaps ----------------------------------------------------------


def test_families_held_and_not_held_are_stated_as_the_cross_sell_gaps(
    account, term_loan, operating_account
):
    put(account, term_loan, E, "100000.00")
    put(account, operating_account, E, "20000.00")

    positions = account_positions(account)

    assert [h.family for h in positions.held] == [ProductFamily.LOAN, ProductFamily.DEPOSIT]
    assert [h.family for h in positions.gaps] == [
        ProductFamily.TREASURY,
        ProductFamily.CARD,
        ProductFamily.OTHER,
    ]
    assert positions.held[0].products == ["Term loan"]
    assert positions.summary == (
        "Holds loans and deposits; does not hold treasury services, cards or other products: "
        "the cross-sell gaps."
    )


def test_a_fee_product_with_revenue_and_no_balance_is_held(account, cash_management):
    put(account, cash_management, E, "0.00", "150.00")

    positions = account_positions(account)

    assert [h.family for h in positions.held] == [ProductFamily.TREASURY]


def test_a_product_with_neither_balance_nor_revenue_at_the_month_is_not_held(account, term_loan):
    put(account, term_loan, E, "0.00", "0.00")
    put(account, term_loan, LAST_MONTH, "5000.00", "20.00")

    positions = account_positions(account)

    assert ProductFamily.LOAN in [h.family for h in positions.gaps]
    assert positions.summary.startswith("Holds no product")


def test_a_customer_holding_every_family_has_no_gap(account):
    for f in ProductFamily.values:
        put(account, ProductFactory(family=f), E, "10.00")

    positions = account_positions(account)

    assert positions.gaps == []
    assert positions.summary.endswith("no cross-sell gap.")


def test_a_prospect_without_positions_holds_nothing_and_has_no_month(rm):
    prospect = AccountFactory(owner=rm, status=AccountStatus.PROSPECT, opened_on=None)

    positions = account_positions(prospect)

    assert positions.month is None
    assert positions.families == []
    assert len(positions.gaps) == len(ProductFamily.values)
    assert positions.balance_history == {}


# --- the charts' data ------------------------------------------------------------------------


def test_revenue_over_time_is_month_by_month_per_family(
    account, term_loan, operating_account, cash_management
):
    put(account, term_loan, LAST_MONTH, "100.00", "500.00")
    put(account, term_loan, E, "100.00", "600.00")
    put(account, cash_management, E, "0.00", "150.00")
    put(account, operating_account, E, "100.00", "0.00")  # earns nothing: no series

    positions = account_positions(account)

    chart = positions.revenue_history
    assert chart["labels"] == ["Sep 2026", "Oct 2026"]
    assert [(f["family"], f["data"]) for f in chart["families"]] == [
        (ProductFamily.LOAN, [500.0, 600.0]),
        (ProductFamily.TREASURY, [0.0, 150.0]),
    ]
    assert positions.revenue_families == ["Loan", "Treasury"]
    assert [(r.label, r.revenue, r.revenue_total) for r in positions.history] == [
        ("Sep 2026", [Decimal("500.00"), Decimal("0")], Decimal("500.00")),
        ("Oct 2026", [Decimal("600.00"), Decimal("150.00")], Decimal("750.00")),
    ]


def test_the_charts_show_at_most_the_last_36_month_ends(account, term_loan):
    for i in range(40):
        month = datetime.date(2023 + (i + 6) // 12, (i + 6) % 12 + 1, 1)
        put(account, term_loan, month, str(1000 + i), "1.00")

    positions = account_positions(account)

    assert len(positions.balance_history["labels"]) == 36
    assert positions.balance_history["labels"][-1] == "Oct 2026"
    assert len(positions.history) == 36
