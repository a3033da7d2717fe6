"""Importing accounts: all or nothing, every bad row reported, upsert on the number, a new
owner recorded as a hand-over (OwnershipChange) and every change in the account's
history, formula-like names kept as text."""

from __future__ import annotations

import datetime

import pytest

from accounts.imports import import_accounts
from accounts.models import Account, OwnershipChange
from salesmgmt.imports import ImportFileError, ImportRefused, RowError
from tests.factories import AccountFactory, RmFactory, UserFactory

from .conftest import TODAY, csv_file

pytestmark = pytest.mark.django_db

HEADER = (
    "number,name,segment,tier,owner_username,status,opened_on,closed_on,lost_reason,"
    "contract_until\n"
)
GOOD = (
    HEADER
    + "CB2001,Harbour Foods Ltd,Commercial,A,rm_north,active,2019-03-01,,,2027-06-30\n"
    + 'CB2002,"Smith, Jones & Co",commercial,a,rm_north,Lost,2018-01-01,2026-05-31,'
    + "Moved to a competitor,\n"
)


def run(text: str, **kwargs):
    return import_accounts(csv_file(text), today=TODAY, **kwargs)


def refusal(text: str) -> list[RowError]:
    with pytest.raises(ImportRefused) as refused:
        run(text)
    return refused.value.errors


def test_a_good_file_creates_the_accounts_with_history(book, rm, administrator):
    result = run(GOOD, by=administrator)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    lost = Account.objects.get(number="CB2002")
    assert (lost.name, lost.status, lost.closed_on, lost.lost_reason, lost.owner) == (
        "Smith, Jones & Co",
        "lost",
        datetime.date(2026, 5, 31),
        "Moved to a competitor",
        rm,
    )
    history = Account.history.filter(number__in=["CB2001", "CB2002"], history_type="+")
    assert {(h.history_user, h.history_change_reason) for h in history} == {
        (administrator, "CSV import")
    }
    assert not OwnershipChange.objects.exists()


def test_importing_the_same_file_twice_changes_nothing(book):
    run(GOOD)
    before = list(Account.objects.order_by("pk").values())
    history = Account.history.count()
    result = run(GOOD)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert list(Account.objects.order_by("pk").values()) == before
    assert Account.history.count() == history


def test_a_new_owner_is_recorded_as_a_hand_over(book, rm, teammate, administrator):
    run(GOOD)
    result = run(
        GOOD.replace("Ltd,Commercial,A,rm_north", "Ltd,Commercial,A,rm_north_2"), by=administrator
    )
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    account = Account.objects.get(number="CB2001")
    assert account.owner == teammate
    change = OwnershipChange.objects.get()
    assert (change.account, change.previous_owner, change.new_owner) == (account, rm, teammate)
    assert (change.changed_by, change.reason) == (administrator, "CSV import")
    assert account.history.first().history_change_reason == "CSV import"


def test_the_covering_rm_cannot_become_owner_by_import(book, rm, teammate):
    AccountFactory(number="CB2001", owner=rm, covering_rm=teammate)
    errors = refusal(HEADER + "CB2001,X,Commercial,A,rm_north_2,active,,,,\n")
    assert [(e.row, e.column) for e in errors] == [(2, "owner_username")]
    assert "covers this account" in errors[0].reason


def test_a_file_with_one_bad_row_writes_nothing(book):
    text = GOOD + "CB2003,Nobody Ltd,Commercial,A,ghost,active,,,,\n"
    errors = refusal(text)
    assert errors == [RowError(4, "owner_username", "ghost", "no such user")]
    assert not Account.objects.filter(number__startswith="CB200").exists()


@pytest.mark.parametrize(
    ("values", "column", "value", "reason"),
    [
        ("CB3,N,Retail,A,rm_north,active,,,,", "segment", "Retail", "no such segment"),
        ("CB3,N,Commercial,Z,rm_north,active,,,,", "tier", "Z", "no such tier"),
        (
            "CB3,N,Commercial,A,leader_north,active,,,,",
            "owner_username",
            "leader_north",
            "is not an RM",
        ),
        ("CB3,N,Commercial,A,gone,active,,,,", "owner_username", "gone", "has left the bank"),
        ("CB3,N,Commercial,A,rm_north,asleep,,,,", "status", "asleep", "use prospect"),
        (
            "CB3,N,Commercial,A,rm_north,active,01/02/2020,,,",
            "opened_on",
            "01/02/2020",
            "is not a date",
        ),
        ("CB3,N,Commercial,A,rm_north,closed,,,,", "closed_on", "", "is empty: a closed"),
        ("CB3,N,Commercial,A,rm_north,lost,,2026-01-01,,", "lost_reason", "", "is empty"),
        (
            "CB3,N,Commercial,A,rm_north,closed,2026-02-01,2026-01-01,,",
            "closed_on",
            "2026-01-01",
            "is before opened_on",
        ),
        ("CB3,,Commercial,A,rm_north,active,,,,", "name", "", "is empty"),
        (
            "CB3,N,Commercial,A,rm_north,active,,,",
            "row",
            "CB3,N,Commercial,A,rm_north,active,,,",
            "has 9 fields, not 10",
        ),
    ],
)
def test_each_bad_value_is_reported(book, leader, values, column, value, reason):
    UserFactory(username="gone", departed_on=datetime.date(2026, 1, 31))
    [error] = refusal(HEADER + values + "\n")
    assert (error.row, error.column, error.value) == (2, column, value)
    assert error.reason.startswith(reason)


def test_a_number_twice_in_the_file_is_reported(book):
    errors = refusal(GOOD + "CB2001,Again,Commercial,A,rm_north,active,,,,\n")
    assert errors == [RowError(4, "number", "CB2001", "already on row 2")]


def test_a_formula_like_name_is_stored_as_text(book):
    run(HEADER + 'CB2001,"=HYPERLINK(""http://x"",""y"")",Commercial,A,rm_north,active,,,,\n')
    assert Account.objects.get(number="CB2001").name == '=HYPERLINK("http://x","y")'


def test_the_exporters_apostrophe_before_a_formula_is_dropped(book):
    """salesmgmt.exports writes '=... for a cell starting with =; the import reads it back."""
    run(HEADER + "CB2001,'=1+1,Commercial,A,rm_north,active,,,,\n")
    run(HEADER + "CB2002,'Quoted' Ltd,Commercial,A,rm_north,active,,,,\n")
    assert Account.objects.get(number="CB2001").name == "=1+1"
    assert Account.objects.get(number="CB2002").name == "'Quoted' Ltd"


def test_a_file_that_is_not_an_accounts_csv_gets_one_clear_error(book):
    with pytest.raises(ImportFileError, match="semicolons"):
        run(HEADER.replace(",", ";"))
    with pytest.raises(ImportFileError, match="no accounts"):
        run(HEADER)
    with pytest.raises(ImportFileError, match="not UTF-8"):
        import_accounts(csv_file(GOOD.replace("Harbour", "Hârbour"), "latin-1"))


def test_accounts_are_written_in_batches_across_the_file(book, monkeypatch):
    import accounts.imports

    monkeypatch.setattr(accounts.imports, "ACCOUNT_BATCH", 3)
    RmFactory(username="rm_x")
    lines = [HEADER] + [f"CB9{i:03d},Firm {i},Commercial,A,rm_x,active,,,,\n" for i in range(10)]
    assert run("".join(lines)).created == 10
    errors = refusal("".join(lines) + "CB9001,Again,Commercial,A,rm_x,active,,,,\n")
    assert errors == [RowError(12, "number", "CB9001", "already on row 3")]


def test_a_file_ending_inside_a_character_is_not_utf8(book):
    with pytest.raises(ImportFileError, match="not UTF-8"):
        import_accounts([*csv_file(GOOD).getvalue()[:-1].splitlines(True), b"\xc2"])
