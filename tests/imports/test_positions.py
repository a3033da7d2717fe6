"""Importing month-end positions: all or nothing, every bad row reported with its row,
column, value and reason, the same file twice changes nothing, and a file that is not a
positions CSV is one clear error. The same on SQLite (batched) and PostgreSQL (COPY)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accounts.imports import import_positions
from accounts.models import Position
from salesmgmt.imports import MAX_ERRORS, ImportFileError, ImportRefused, RowError
from tests.factories import PositionFactory

from .conftest import TODAY, csv_file

pytestmark = pytest.mark.django_db

HEADER = "account_number,product_code,month,balance,revenue\n"
GOOD = (
    HEADER
    + "CB1001,LOAN,2026-10,1500000.00,4200.50\n"
    + "CB1001,DDA,2026-10,250000,0\n"
    + "CB1002,LOAN,2026-11-01,99.9,0.01\n"
)
OCT, NOV = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)


def run(text: str, **kwargs):
    return import_positions(csv_file(text, kwargs.pop("encoding", "utf-8")), today=TODAY, **kwargs)


def positions():
    return set(
        Position.objects.values_list(
            "account__number", "product__code", "month", "balance", "revenue"
        )
    )


def refusal(text: str) -> list[RowError]:
    with pytest.raises(ImportRefused) as refused:
        run(text)
    return refused.value.errors


def test_a_good_file_creates_one_position_per_row(book):
    result = run(GOOD)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert positions() == {
        ("CB1001", "LOAN", OCT, Decimal("1500000.00"), Decimal("4200.50")),
        ("CB1001", "DDA", OCT, Decimal("250000.00"), Decimal("0.00")),
        ("CB1002", "LOAN", NOV, Decimal("99.90"), Decimal("0.01")),
    }


def test_importing_the_same_file_twice_changes_nothing(book):
    run(GOOD)
    before = list(Position.objects.order_by("pk").values())
    result = run(GOOD)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert list(Position.objects.order_by("pk").values()) == before


def test_a_changed_figure_updates_its_position_in_place(book):
    run(GOOD)
    pk = Position.objects.get(account__number="CB1002").pk
    result = run(HEADER + "CB1002,LOAN,2026-11,100.00,0.01\nCB1001,DDA,2026-10,250000.00,0\n")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert Position.objects.get(pk=pk).balance == Decimal("100.00")


def test_the_columns_may_come_in_any_order_with_quotes_spaces_and_crlf(book):
    text = (
        "Revenue , MONTH,account_number,product_code,balance\r\n"
        '"4200.50",2026-10," CB1001 ",LOAN,1500000\r\n'
        "\r\n"
        ",,,,\r\n"
        "0,2026-10,CB1001,DDA,250000\r\n"
    )
    result = run(text)
    assert result.created == 2
    assert ("CB1001", "LOAN", OCT, Decimal("1500000.00"), Decimal("4200.50")) in positions()


def test_a_file_with_one_bad_row_writes_nothing_and_names_the_row(book):
    PositionFactory(account=book["accounts"][0], product=book["products"][0], month=OCT, balance=1)
    before = positions()
    text = GOOD + "CB9999,LOAN,2026-10,1,1\n"
    assert refusal(text) == [RowError(5, "account_number", "CB9999", "no such account")]
    assert positions() == before


@pytest.mark.parametrize(
    ("line", "column", "value", "reason"),
    [
        ("CB1001,GOLD,2026-10,1,1", "product_code", "GOLD", "no such product"),
        ("CB1001,LOAN,2026-13,1,1", "month", "2026-13", "is not a month: use YYYY-MM"),
        ("CB1001,LOAN,10/2026,1,1", "month", "10/2026", "is not a month: use YYYY-MM"),
        ("CB1001,LOAN,2027-01,1,1", "month", "2027-01", "is in the future"),
        ("CB1001,LOAN,2026-10,-5,1", "balance", "-5", "is negative"),
        ("CB1001,LOAN,2026-10,1.005,1", "balance", "1.005", "is not an amount"),
        ('CB1001,LOAN,2026-10,"1,000.00",1', "balance", "1,000.00", "is not an amount"),
        ("CB1001,LOAN,2026-10,1,", "revenue", "", "is empty"),
        (",LOAN,2026-10,1,1", "account_number", "", "is empty"),
        ("CB1001,LOAN,2026-10,1", "row", "CB1001,LOAN,2026-10,1", "has 4 fields, not 5"),
    ],
)
def test_each_bad_value_is_reported_with_its_column_and_reason(book, line, column, value, reason):
    [error] = refusal(HEADER + "CB1002,DDA,2026-10,1,1\n" + line + "\n")
    assert (error.row, error.column, error.value) == (3, column, value)
    assert error.reason.startswith(reason)
    assert not Position.objects.exists()


def test_every_bad_row_is_reported_in_row_order(book):
    text = (
        HEADER
        + "CB1001,LOAN,2026-10,1,1\n"
        + "CB9999,LOAN,2026-10,1,1\n"  # row 3: unknown account (found by the database)
        + "\n"  # row 4: blank, skipped
        + "CB1001,LOAN,2026-1O,x,1\n"  # row 5: two bad values
        + "CB1002,GOLD,2026-10,1,1\n"  # row 6
        + "CB1001,LOAN,2026-10,2,2\n"  # row 7: row 2 again
    )
    errors = refusal(text)
    assert [(e.row, e.column) for e in errors] == [
        (3, "account_number"),
        (5, "month"),
        (5, "balance"),
        (6, "product_code"),
        (7, "account_number"),
    ]
    assert errors[-1].reason == "row 2 already has LOAN for 2026-10"


def test_row_numbers_stay_right_across_blocks_with_bad_lines(book, monkeypatch):
    """The database numbers the staged rows; skipped lines shift the file's row numbers."""
    import salesmgmt.imports

    monkeypatch.setattr(salesmgmt.imports, "BLOCK_BYTES", 64)
    lines = [HEADER]
    for i in range(40):
        account, product = f"CB100{i // 20 + 1}", ("LOAN", "DDA")[i // 10 % 2]
        lines.append("\n" if i % 7 == 3 else f"{account},{product},2026-{i % 10 + 1:02d},{i},0\n")
    lines.append("CB1001,NOPE,2026-10,1,1\n")  # row 42
    errors = refusal("".join(lines))
    assert [(e.row, e.column, e.value) for e in errors] == [(42, "product_code", "NOPE")]


@pytest.mark.parametrize(
    ("text", "encoding", "message"),
    [
        (HEADER.replace(",", ";") + "CB1001;LOAN;2026-10;1;1\n", "utf-8", "semicolons"),
        (HEADER.replace(",", "\t") + "CB1001\tLOAN\t2026-10\t1\t1\n", "utf-8", "tabs"),
        ("account,product,month,balance,revenue\nCB1001,LOAN,2026-10,1,1\n", "utf-8", "header"),
        (HEADER + "CB1001,LOAN,2026-10,1,1\nCB1002,Épargne,2026-10,1,1\n", "latin-1", "not UTF-8"),
        (HEADER + "CB1001,LOAN,2026-10,1,1\n", "utf-16", "not UTF-8"),
        ("", "utf-8", "empty"),
        (HEADER, "utf-8", "no positions"),
    ],
    ids=["semicolons", "tabs", "header", "latin-1", "utf-16", "empty", "header-only"],
)
def test_a_file_that_is_not_a_positions_csv_gets_one_clear_error(book, text, encoding, message):
    with pytest.raises(ImportFileError, match=message):
        run(text, encoding=encoding)
    assert not Position.objects.exists()


def test_the_line_that_is_not_utf8_is_named(book):
    text = HEADER + "CB1001,LOAN,2026-10,1,1\n" * 3 + "CB1002,Épargne,2026-10,1,1\n"
    with pytest.raises(ImportFileError, match="line 5"):
        run(text, encoding="latin-1")


def test_a_byte_order_mark_is_fine(book):
    assert run("\ufeff" + GOOD).created == 3


def test_the_report_stops_at_the_limit_of_problems(book, monkeypatch):
    import accounts.imports

    monkeypatch.setattr(accounts.imports, "MAX_ERRORS", 5)
    with pytest.raises(ImportRefused) as refused:
        run(HEADER + "CB1001,LOAN,bad,1,1\n" * 20)
    assert len(refused.value.errors) == 5
    assert refused.value.truncated
    assert "More than" in str(refused.value)
    assert MAX_ERRORS == 10_000


def test_a_formula_in_a_code_is_only_text(book):
    errors = refusal(HEADER + '"=HYPERLINK(""http://x"")",LOAN,2026-10,1,1\n')
    assert errors == [RowError(2, "account_number", '=HYPERLINK("http://x")', "no such account")]


def test_a_position_twice_in_an_otherwise_good_file_of_new_rows_is_refused(book):
    errors = refusal(GOOD + "CB1001,DDA,2026-10-01,1,1\n")
    assert errors == [RowError(5, "account_number", "CB1001", "row 3 already has DDA for 2026-10")]
    assert not Position.objects.exists()


@pytest.mark.parametrize("figures", ["250000,0", "7,7"], ids=["same figures", "other figures"])
def test_a_position_twice_in_a_file_of_known_positions_is_refused(book, figures):
    run(GOOD)
    before = positions()
    errors = refusal(GOOD + f"CB1001,DDA,2026-10,{figures}\n")
    assert [(e.row, e.reason) for e in errors] == [(5, "row 3 already has DDA for 2026-10")]
    assert positions() == before
