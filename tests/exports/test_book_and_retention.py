"""Excel downloads of the lists that already had a CSV (the book, the accounts to defend,
the RM's open commitments, the compensation view): the same rows as the CSV, text stored as
text, numbers as numbers, dates as dates, filters and access as on screen, queries fixed."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import ProductFamily
from tests.factories import (
    AccountFactory,
    CheckInFactory,
    CommitmentFactory,
    PlanYearFactory,
    PositionFactory,
    ProductFactory,
    RiskScoreFactory,
    TierFactory,
)

from .download import (
    cells,
    column,
    csv_rows,
    fetch,
    filename,
    get_csv,
    get_xlsx,
    no_formula_in_xlsx,
    queries,
    xlsx_rows,
)

pytestmark = pytest.mark.django_db

BOOK = reverse("accounts:book")
RETENTION = reverse("retention:retention")
MY_CHECKINS = reverse("coaching:my_checkins")


# --- the book ----------------------------------------------------------------------------------


def test_the_book_in_excel_has_the_same_rows_as_the_csv(client, rm, teammate):
    account = AccountFactory(owner=rm, covering_rm=teammate, contract_until="2028-06-30")
    PositionFactory(account=account, balance=Decimal("500.00"))
    as_csv = get_csv(client, rm, BOOK)
    ws = get_xlsx(client, rm, BOOK)
    rows = xlsx_rows(ws)
    assert rows[0] == as_csv[0]
    assert rows[1][:7] == as_csv[1][:7]
    assert rows[1][7] == datetime.datetime(2019, 3, 1)  # opened: a date
    assert rows[1][10:] == [0, 500]


def test_the_book_in_excel_keeps_balances_as_numbers(client, rm):
    PositionFactory(account=AccountFactory(owner=rm), balance=Decimal("1234.56"))
    (deposits,) = cells(get_xlsx(client, rm, BOOK), "Deposits")
    assert (deposits.value, deposits.data_type, deposits.number_format) == (
        1234.56,
        "n",
        "#,##0.00",
    )


def test_the_book_in_excel_stores_a_formula_in_a_name_as_text(client, rm):
    AccountFactory(owner=rm, name='=HYPERLINK("http://evil")')
    ws = get_xlsx(client, rm, BOOK)
    (name,) = cells(ws, "Name")
    assert (name.value, name.data_type, name.quotePrefix) == (
        '=HYPERLINK("http://evil")',
        "s",
        True,
    )
    assert no_formula_in_xlsx(ws)


def test_the_book_in_excel_has_only_the_leaders_team_and_the_filter(client, leader, rm, other_rm):
    a = AccountFactory(owner=rm, tier=TierFactory(code="A"))
    AccountFactory(owner=rm, tier=TierFactory(code="C"))
    AccountFactory(owner=other_rm, tier=TierFactory(code="A"))
    ws = get_xlsx(client, leader, BOOK, tier="A")
    assert column(xlsx_rows(ws), "Number") == [a.number]


def test_the_book_in_excel_is_named_after_the_month(client, rm):
    PositionFactory(account=AccountFactory(owner=rm))
    response = fetch(client, rm, BOOK, "xlsx")
    assert filename(response).startswith("book-")
    assert filename(response).endswith(".xlsx")


def _book(rm, n):
    loan = ProductFactory(code="LN", family=ProductFamily.LOAN)
    for _ in range(n):
        PositionFactory(account=AccountFactory(owner=rm, tier=TierFactory(code="A")), product=loan)


def test_the_book_in_excel_queries_do_not_grow_with_accounts(client, leader, rm):
    client.force_login(leader)
    _book(rm, 2)
    few = queries(client, BOOK, "xlsx", tier="A")
    _book(rm, 60)
    assert queries(client, BOOK, "xlsx", tier="A") == few == 5


def test_the_book_page_offers_both_downloads_with_its_filters(client, rm):
    client.force_login(rm)
    body = client.get(f"{BOOK}?tier=A&page=1").content.decode()
    assert f'href="{BOOK}?tier=A&amp;format=csv"' in body
    assert f'href="{BOOK}?tier=A&amp;format=xlsx"' in body


# --- the accounts to defend --------------------------------------------------------------------


def scored(owner, score=40, **account):
    acc = AccountFactory(owner=owner, **account)
    RiskScoreFactory(account=acc, score=score)
    return acc


def test_the_retention_list_in_excel_is_the_teams_by_priority_with_numbers(
    client, leader, rm, other_rm
):
    low, high = scored(rm, 20), scored(rm, 70, name="@High")
    scored(other_rm, 90)
    ws = get_xlsx(client, leader, RETENTION)
    rows = xlsx_rows(ws)
    assert column(rows, "Number") == [high.number, low.number]
    assert column(rows, "Rank") == [1, 2]
    assert column(rows, "Risk") == [70, 20]
    assert cells(ws, "Account")[0].quotePrefix


def test_the_retention_list_in_excel_applies_the_tier_filter(client, leader, rm):
    a = scored(rm, tier=TierFactory(code="A"))
    scored(rm, tier=TierFactory(code="C"))
    assert column(xlsx_rows(get_xlsx(client, leader, RETENTION, tier="A")), "Number") == [a.number]


def test_an_rm_gets_403_on_the_retention_excel(client, rm):
    client.force_login(rm)
    assert client.get(RETENTION, {"format": "xlsx"}).status_code == 403


def test_the_retention_excel_queries_do_not_grow_with_accounts(client, leader, rm):
    client.force_login(leader)
    for _ in range(2):
        scored(rm)
    few = queries(client, RETENTION, "xlsx")
    for _ in range(40):
        scored(rm)
    assert queries(client, RETENTION, "xlsx") == few == 4  # session, user, month, rows


# --- the RM's open commitments -----------------------------------------------------------------


def test_the_commitments_in_excel_are_the_rms_open_ones_with_dates(client, rm, other_rm):
    checkin = CheckInFactory(rm=rm)
    CommitmentFactory(checkin=checkin, text="-5% fees: ask the CFO")
    CommitmentFactory(checkin=CheckInFactory(rm=other_rm), text="Not mine")
    ws = get_xlsx(client, rm, MY_CHECKINS)
    rows = xlsx_rows(ws)
    assert rows[0] == ["Commitment", "Who", "Due", "Overdue", "From check-in"]
    assert column(rows, "Commitment") == ["-5% fees: ask the CFO"]
    assert column(rows, "Due") == [datetime.datetime(2027, 3, 19)]
    assert cells(ws, "Commitment")[0].quotePrefix


# --- the compensation view ---------------------------------------------------------------------


def test_the_compensation_excel_has_only_the_leaders_team(client, leader, rm, teammate, other_rm):
    PlanYearFactory(year=2027)
    rows = xlsx_rows(get_xlsx(client, leader, reverse("coaching:compensation"), year="2027"))
    assert rows[0][0] == "RM"
    assert sorted(column(rows, "Username")) == sorted([rm.username, teammate.username])
    assert column(rows, "Product weight %") == [80, 80]


def test_the_compensation_csv_starts_with_a_byte_order_mark_like_the_others(client, leader, rm):
    PlanYearFactory(year=2027)
    response = fetch(client, leader, reverse("coaching:compensation"), "csv", year="2027")
    assert csv_rows(response)[0][0] == "RM"
