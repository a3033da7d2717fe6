"""The management commands (import_positions, import_accounts, export_positions) and the
round trip: positions exported and imported again give the same rows."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounts.imports import import_positions
from accounts.models import Position
from tests.factories import AccountFactory, PositionFactory, ProductFactory

from .conftest import TODAY

pytestmark = pytest.mark.django_db

HEADER = "account_number,product_code,month,balance,revenue\n"


def rows():
    return sorted(
        Position.objects.values_list(
            "account__number", "product__code", "month", "balance", "revenue"
        )
    )


@pytest.fixture
def positions(rm):
    """Positions whose account numbers and product codes an exporter would neutralise."""
    odd = [AccountFactory(owner=rm, number=n) for n in ("CB1", "-CB2", "=CB3", "@CB4")]
    products = [ProductFactory(code="LOAN"), ProductFactory(code="+FX")]
    for i, account in enumerate(odd):
        for j, product in enumerate(products):
            PositionFactory(
                account=account,
                product=product,
                month=datetime.date(2026, 9 + j, 1),
                balance=Decimal(f"{i * 1000 + j}.{i}5"),
                revenue=Decimal(i),
            )
    return rows()


def test_export_then_import_of_positions_gives_the_same_rows(positions, tmp_path):
    path = tmp_path / "positions.csv"
    call_command("export_positions", "-o", str(path), stderr=io.StringIO())
    text = path.read_text()
    assert text.splitlines()[0] == HEADER.strip()
    assert "'-CB2,LOAN" in text  # neutralised on the way out
    Position.objects.all().delete()
    with path.open("rb") as f:
        result = import_positions(f, today=TODAY)
    assert result.created == len(positions)
    assert rows() == positions
    with path.open("rb") as f:
        again = import_positions(f, today=TODAY)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(positions))


def test_export_of_one_month_to_standard_output(positions):
    out = io.StringIO()
    call_command("export_positions", "--month", "2026-10", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == HEADER.strip()
    assert len(lines) == 1 + 4
    assert all(",2026-10-01," in line for line in lines[1:])


def test_export_refuses_a_month_that_is_not_one():
    with pytest.raises(CommandError, match="use YYYY-MM"):
        call_command("export_positions", "--month", "October")


def test_the_import_command_imports_and_says_how_many(book, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "CB1001,LOAN,2026-10,1,1\n")
    out = io.StringIO()
    call_command("import_positions", str(path), stdout=out)
    assert out.getvalue() == "1 new, 0 changed, 0 unchanged positions.\n"


def test_the_import_command_prints_the_report_and_fails_on_a_bad_row(book, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "CB1001,LOAN,2026-10,1,1\nCB9,LOAN,2026-10,1,1\n")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 row cannot be imported"):
        call_command("import_positions", str(path), stdout=out)
    assert out.getvalue().splitlines() == [
        "row,column,value,reason",
        "3,account_number,CB9,no such account",
    ]
    assert not Position.objects.exists()


def test_the_import_command_says_what_is_wrong_with_the_file(book, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER.replace(",", ";"))
    with pytest.raises(CommandError, match="semicolons"):
        call_command("import_positions", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_accounts", str(tmp_path / "missing.csv"))


def test_the_accounts_command_imports(book, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "number,name,segment,tier,owner_username,status,opened_on,closed_on,lost_reason,"
        "contract_until\nCB5,Five Ltd,Commercial,A,rm_north,prospect,,,,\n"
    )
    out = io.StringIO()
    call_command("import_accounts", str(path), stdout=out)
    assert out.getvalue() == "1 new, 0 changed, 0 unchanged accounts.\n"


def test_the_sample_files_in_the_docs_import(tmp_path, rm):
    """docs/samples/accounts.csv then docs/samples/positions.csv, as docs/imports.md says,
    into a bank with the demo bank's segments, products and RMs (the README runs them on
    the demo bank)."""
    from pathlib import Path

    from tests.factories import RmFactory, SegmentFactory, TierFactory

    docs = Path(__file__).resolve().parents[2] / "docs" / "samples"
    for name in ("Manufacturing and distribution", "Professional services", "Agribusiness"):
        SegmentFactory(name=name)
    for code in "ABC":
        TierFactory(code=code)
    RmFactory(username="rm1")
    RmFactory(username="rm2")
    for code in ("TL", "DDA", "CASH", "RCL"):
        ProductFactory(code=code)
    call_command("import_accounts", str(docs / "accounts.csv"), stdout=io.StringIO())
    with (docs / "positions.csv").open("rb") as f:
        assert import_positions(f, today=TODAY).created == 5
