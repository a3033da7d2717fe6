"""CSV downloads of the lists people work from (salesmgmt/exports.py): formulas
neutralised, numbers kept as numbers, only what the user may see, the filters on screen
applied, a header and a byte-order mark, streamed, queries that do not grow with rows."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import ProductFamily
from salesmgmt.exports import csv_response, neutralise, safe_filename
from tests.factories import (
    AccountFactory,
    CheckInFactory,
    CommitmentFactory,
    PositionFactory,
    ProductFactory,
    RiskScoreFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

BOOK = reverse("accounts:book")
RETENTION = reverse("retention:retention")
MY_CHECKINS = reverse("coaching:my_checkins")
BOM = "\ufeff"
WEEK = datetime.timedelta(weeks=1)
NOW = datetime.datetime(2027, 3, 9, 10, 0, tzinfo=datetime.UTC)


def download(client, user, url, query=""):
    client.force_login(user)
    response = client.get(f"{url}?{query}format=csv" if query else f"{url}?format=csv")
    assert response.status_code == 200
    return response


def rows_of(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :])))


def column(rows, name):
    i = rows[0].index(name)
    return [r[i] for r in rows[1:]]


# --- the shared module -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+44 20", "-2", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_that_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert neutralise(text) == "'" + text


def test_numbers_and_dates_are_written_as_plain_values_even_when_negative():
    assert neutralise(Decimal("-1234.50")) == "-1234.50"
    assert neutralise(-3) == "-3"
    assert neutralise(datetime.date(2027, 3, 1)) == "2027-03-01"
    assert neutralise(None) == ""


def test_a_filename_keeps_only_safe_characters():
    assert safe_filename('book "x"\r\n;evil.csv') == "book-x-evil.csv"


def test_the_response_streams_utf8_csv_with_a_bom_and_an_attachment_name():
    response = csv_response("a b.csv", ["Name"], iter([["Zoë"]]))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="a-b.csv"'
    assert b"".join(response.streaming_content) == "\ufeffName\r\nZoë\r\n".encode()


# --- the book ----------------------------------------------------------------------------------


def test_the_book_csv_neutralises_formulas_in_a_customers_name(client, rm):
    for name in ("=HYPERLINK(1)", "+Plus", "-Minus", "@At"):
        AccountFactory(owner=rm, name=name)
    rows = rows_of(download(client, rm, BOOK))
    assert sorted(column(rows, "Name")) == ["'+Plus", "'-Minus", "'=HYPERLINK(1)", "'@At"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


def test_a_negative_balance_stays_a_number_while_the_same_text_is_neutralised():
    # Positions cannot hold a negative balance (position_balance_gte_0): the rule is shown
    # on the shared writer, which every list goes through.
    response = csv_response("x.csv", ["Balance", "Note"], iter([[Decimal("-1234.50"), "-1234.50"]]))
    (_, row) = rows_of(response)
    assert row == ["-1234.50", "'-1234.50"]


def test_the_book_csv_has_the_header_and_the_pages_columns(client, rm, teammate):
    account = AccountFactory(owner=rm, covering_rm=teammate, contract_until="2028-06-30")
    PositionFactory(account=account, balance=Decimal("500.00"))  # a deposit
    rows = rows_of(download(client, rm, BOOK))
    assert rows[0] == [
        "Number",
        "Name",
        "Segment",
        "Tier",
        "Owner",
        "Covering RM",
        "Status",
        "Opened",
        "Closed",
        "Contract until",
        "Loans",
        "Deposits",
    ]
    assert rows[1] == [
        account.number,
        account.name,
        account.segment.name,
        "B",
        str(rm),
        str(teammate),
        "Active",
        "2019-03-01",
        "",
        "2028-06-30",
        "0.00",
        "500.00",
    ]


def test_the_book_csv_has_only_the_accounts_the_leader_may_see(client, leader, rm, other_rm):
    mine = AccountFactory(owner=rm)
    AccountFactory(owner=other_rm)
    rows = rows_of(download(client, leader, BOOK))
    assert column(rows, "Number") == [mine.number]


def test_the_book_csv_applies_the_tier_filter(client, rm):
    a = AccountFactory(owner=rm, tier=TierFactory(code="A"))
    AccountFactory(owner=rm, tier=TierFactory(code="C"))
    rows = rows_of(download(client, rm, BOOK, "tier=A&"))
    assert column(rows, "Number") == [a.number]


def test_the_book_csv_follows_the_pages_sort(client, rm):
    AccountFactory(owner=rm, name="Alpha", number="CB2")
    AccountFactory(owner=rm, name="Beta", number="CB1")
    rows = rows_of(download(client, rm, BOOK, "sort=number&"))
    assert column(rows, "Name") == ["Beta", "Alpha"]


def _book_queries(client, leader, rm, n):
    loan = ProductFactory(code="LN", family=ProductFamily.LOAN)
    for _ in range(n):
        account = AccountFactory(owner=rm, tier=TierFactory(code="A"))
        PositionFactory(account=account, product=loan)
    client.force_login(leader)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{BOOK}?tier=A&format=csv")
        rows = rows_of(response)
    return len(queries), len(rows) - 1


BOOK_QUERIES = 5  # session, user, latest month, the tier filter's choice, the rows


def test_the_book_csv_queries_do_not_grow_with_accounts(client, leader, rm):
    few, few_rows = _book_queries(client, leader, rm, 2)
    many, many_rows = _book_queries(client, leader, rm, 40)
    assert (few_rows, many_rows) == (2, 42)
    assert few == many == BOOK_QUERIES


def test_the_book_page_links_the_download_with_its_filters(client, rm):
    client.force_login(rm)
    body = client.get(f"{BOOK}?tier=A&page=1").content.decode()
    assert 'id="book-csv"' in body
    assert f'href="{BOOK}?tier=A&amp;format=csv"' in body


# --- the retention list ------------------------------------------------------------------------


def scored(owner, score=40, **account):
    acc = AccountFactory(owner=owner, **account)
    RiskScoreFactory(
        account=acc,
        score=score,
        reasons=[{"code": "no_contact", "points": score, "detail": "=cmd|' /C calc'!A0"}],
    )
    return acc


def test_the_retention_csv_lists_the_teams_accounts_by_priority_neutralised(
    client, leader, rm, other_rm
):
    low = scored(rm, 20, name="Low")
    high = scored(rm, 70, name="@High")
    scored(other_rm, 90)
    rows = rows_of(download(client, leader, RETENTION))
    assert column(rows, "Number") == [high.number, low.number]
    assert column(rows, "Account") == ["'@High", "Low"]
    assert column(rows, "Rank") == ["1", "2"]
    assert column(rows, "Risk") == ["70", "20"]
    assert column(rows, "Reasons")[0] == "70 =cmd|' /C calc'!A0"  # starts with a digit


def test_the_retention_csv_applies_the_tier_filter(client, leader, rm):
    a = scored(rm, tier=TierFactory(code="A"))
    scored(rm, tier=TierFactory(code="C"))
    rows = rows_of(download(client, leader, RETENTION, "tier=A&"))
    assert column(rows, "Number") == [a.number]


def test_an_rm_gets_403_on_the_retention_csv(client, rm):
    client.force_login(rm)
    assert client.get(f"{RETENTION}?format=csv").status_code == 403


def _retention_queries(client, leader, rm, n):
    for _ in range(n):
        scored(rm, tier=TierFactory(code="A"))
    client.force_login(leader)
    with CaptureQueriesContext(connection) as queries:
        rows = rows_of(client.get(f"{RETENTION}?tier=A&basis=balances&format=csv"))
    return len(queries), len(rows) - 1


RETENTION_QUERIES = 5  # session, user, as-of month, the tier filter's choice, the rows


def test_the_retention_csv_queries_do_not_grow_with_accounts(client, leader, rm):
    few, few_rows = _retention_queries(client, leader, rm, 2)
    many, many_rows = _retention_queries(client, leader, rm, 40)
    assert (few_rows, many_rows) == (2, 42)
    assert few == many == RETENTION_QUERIES


def test_the_retention_page_links_the_download_with_its_filters(client, leader, rm):
    scored(rm)
    client.force_login(leader)
    body = client.get(f"{RETENTION}?basis=revenue&page=1").content.decode()
    assert f'href="{RETENTION}?basis=revenue&amp;format=csv"' in body


# --- the RM's open commitments -----------------------------------------------------------------


def test_the_commitments_csv_has_the_rms_open_commitments_neutralised(client, rm, other_rm):
    checkin = CheckInFactory(rm=rm)
    CommitmentFactory(checkin=checkin, text="-5% fees: ask the CFO")
    CommitmentFactory(checkin=checkin, text="Done already", done=True, done_at=NOW)
    CommitmentFactory(checkin=CheckInFactory(rm=other_rm), text="Not mine")
    rows = rows_of(download(client, rm, MY_CHECKINS))
    assert rows[0] == ["Commitment", "Who", "Due", "Overdue", "From check-in"]
    assert column(rows, "Commitment") == ["'-5% fees: ask the CFO"]
    assert column(rows, "Due") == ["2027-03-19"]


def _commitment_queries(client, rm, n):
    checkin = CheckInFactory(rm=rm, period_start=datetime.date(2027, 3, 8) + WEEK * n)
    for _ in range(n):
        CommitmentFactory(checkin=checkin)
    client.force_login(rm)
    with CaptureQueriesContext(connection) as queries:
        rows = rows_of(client.get(f"{MY_CHECKINS}?format=csv"))
    return len(queries), len(rows) - 1


COMMITMENT_QUERIES = 3  # session, user, the rows


def test_the_commitments_csv_queries_do_not_grow_with_commitments(client, rm):
    few, few_rows = _commitment_queries(client, rm, 2)
    many, many_rows = _commitment_queries(client, rm, 30)
    assert (few_rows, many_rows) == (2, 32)
    assert few == many == COMMITMENT_QUERIES


def test_my_checkins_links_the_commitments_download(client, rm):
    CommitmentFactory(checkin=CheckInFactory(rm=rm))
    client.force_login(rm)
    body = client.get(MY_CHECKINS).content.decode()
    assert f'href="{MY_CHECKINS}?format=csv"' in body
