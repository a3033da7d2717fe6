"""Importing customer ratings from CSV: all or nothing, every bad row reported, importing
the same file twice changes nothing, and a file that is not such a CSV is one clear error."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from coaching.models import CustomerRating
from coaching.services.rating_import import (
    ImportFileError,
    ImportRefused,
    RowError,
    import_ratings,
)
from tests.factories import AccountFactory, CustomerRatingFactory, RmFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 4, 2)
MARCH = datetime.date(2027, 3, 1)
HEADER = "account_number,rm_username,behaviour,month,rating,comment\n"


@pytest.fixture
def accounts(rm):
    return [AccountFactory(owner=rm, number="CB1001"), AccountFactory(owner=rm, number="CB1002")]


def csv_file(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def run(text: str, **kwargs):
    return import_ratings(csv_file(text), today=TODAY, **kwargs)


GOOD = (
    HEADER
    + "CB1001,rm_north,Listening,2027-03,good,Calls back the same day.\n"
    + "CB1001,rm_north,Follow-up,2027-03,5,\n"
    + 'CB1002,rm_north,listening,2027-02,Poor,"Late, twice; ""sorry"" is not enough."\n'
)


def ratings():
    return set(
        CustomerRating.objects.values_list(
            "account__number", "rm__username", "behaviour__name", "month", "rating", "comment"
        )
    )


def test_a_good_file_creates_one_rating_per_row(behaviours, accounts):
    result = run(GOOD)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert ratings() == {
        ("CB1001", "rm_north", "Listening", MARCH, 4, "Calls back the same day."),
        ("CB1001", "rm_north", "Follow-up", MARCH, 5, ""),
        (
            "CB1002",
            "rm_north",
            "Listening",
            datetime.date(2027, 2, 1),
            1,
            'Late, twice; "sorry" is not enough.',
        ),
    }
    assert set(CustomerRating.objects.values_list("source", "contact")) == {("import", None)}


def test_importing_the_same_file_twice_changes_nothing(behaviours, accounts):
    run(GOOD)
    before = list(CustomerRating.objects.order_by("pk").values())
    result = run(GOOD)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert list(CustomerRating.objects.order_by("pk").values()) == before


def test_a_changed_rating_replaces_the_one_of_the_same_natural_key(behaviours, accounts):
    run(GOOD)
    result = run(GOOD.replace("Listening,2027-03,good", "Listening,2027-03,fair"))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert CustomerRating.objects.count() == 3
    assert (
        CustomerRating.objects.get(account__number="CB1001", behaviour__name="Listening").rating
        == 2
    )


def test_a_survey_answer_of_a_contact_is_not_overwritten_by_an_import(behaviours, accounts, rm):
    from tests.factories import CustomerContactFactory

    contact = CustomerContactFactory(account=accounts[0])
    CustomerRatingFactory(
        account=accounts[0],
        rm=rm,
        behaviour=behaviours[0],
        month=MARCH,
        rating=1,
        contact=contact,
        source="survey",
    )
    run(GOOD)
    assert CustomerRating.objects.get(contact=contact).rating == 1
    assert CustomerRating.objects.filter(contact__isnull=True).count() == 3


def test_a_bom_and_windows_line_ends_are_fine(behaviours, accounts):
    text = "\ufeff" + GOOD.replace("\n", "\r\n")
    assert import_ratings(csv_file(text), today=TODAY).created == 3


def test_columns_may_come_in_any_order(behaviours, accounts):
    text = (
        "month,rating,comment,behaviour,rm_username,account_number\n"
        "2027-03,4,,Listening,rm_north,CB1001\n"
    )
    assert run(text).created == 1


def test_a_file_with_two_bad_rows_writes_nothing_and_reports_both(behaviours, accounts):
    text = (
        HEADER
        + "CB1001,rm_north,Listening,2027-03,good,\n"
        + "CB9999,rm_north,Listening,2027-03,good,\n"
        + "CB1002,rm_north,Listening,2027-03,superb,\n"
    )
    with pytest.raises(ImportRefused) as refused:
        run(text)
    assert refused.value.errors == [
        RowError(3, "account_number", "CB9999", "no such account"),
        RowError(4, "rating", "superb", "use 1-5 or poor, fair, average, good, excellent"),
    ]
    assert not CustomerRating.objects.exists()


@pytest.mark.parametrize(
    ("row", "column", "value", "reason"),
    [
        ("CB1001,nobody,Listening,2027-03,4,", "rm_username", "nobody", "no such user"),
        (
            "CB1001,leader_north,Listening,2027-03,4,",
            "rm_username",
            "leader_north",
            "is not an RM (team leader)",
        ),
        (
            "CB1001,rm_north,Charm,2027-03,4,",
            "behaviour",
            "Charm",
            "not a behaviour of FY 2027 (Listening, Follow-up)",
        ),
        ("CB1001,rm_north,Listening,03/2027,4,", "month", "03/2027", "use YYYY-MM, e.g. 2027-03"),
        ("CB1001,rm_north,Listening,2027-13,4,", "month", "2027-13", "the month must be 01 to 12"),
        ("CB1001,rm_north,Listening,2027-05,4,", "month", "2027-05", "is in the future"),
        ("CB1001,rm_north,Listening,2031-01,4,", "month", "2031-01", "is in the future"),
        (
            "CB1001,rm_north,Listening,2027-03,6,",
            "rating",
            "6",
            "use 1-5 or poor, fair, average, good, excellent",
        ),
        ("CB1001,rm_north,Listening,2027-03,,", "rating", "", "is empty"),
        (
            "CB1001,rm_north,Listening,2027-03,4",
            "row",
            "CB1001,rm_north,Listening,2027-03,4",
            "has 5 fields, not 6",
        ),
    ],
)
def test_each_bad_value_is_reported_with_its_column_and_reason(
    behaviours, accounts, leader, row, column, value, reason
):
    with pytest.raises(ImportRefused) as refused:
        run(HEADER + row + "\n")
    assert refused.value.errors == [RowError(2, column, value, reason)]


def test_a_month_without_a_plan_year_is_reported(behaviours, accounts):
    with pytest.raises(ImportRefused) as refused:
        import_ratings(csv_file(HEADER + "CB1001,rm_north,Listening,2026-03,4,\n"), today=TODAY)
    assert refused.value.errors == [RowError(2, "month", "2026-03", "no plan year contains it")]


def test_a_month_of_a_closed_plan_year_is_reported(behaviours, accounts, plan_year):
    plan_year.is_open = False
    plan_year.save()
    with pytest.raises(ImportRefused) as refused:
        run(HEADER + "CB1001,rm_north,Listening,2027-03,4,\n")
    assert refused.value.errors == [RowError(2, "month", "2027-03", "FY 2027 is closed")]


def test_the_same_rating_twice_in_one_file_is_reported_on_the_second_row(behaviours, accounts):
    text = (
        HEADER + "CB1001,rm_north,Listening,2027-03,4,\n" + "CB1001,rm_north,LISTENING,2027-03,5,\n"
    )
    with pytest.raises(ImportRefused) as refused:
        run(text)
    [error] = refused.value.errors
    assert (error.row, error.column) == (3, "behaviour")
    assert "row 2 already rates" in error.reason


def test_a_wrong_header_is_one_clear_error(behaviours, accounts):
    with pytest.raises(ImportFileError, match="missing rating; unknown 'score'"):
        run(HEADER.replace("rating", "score") + "CB1001,rm_north,Listening,2027-03,4,\n")
    assert not CustomerRating.objects.exists()


def test_a_file_without_a_header_is_one_clear_error(behaviours, accounts):
    with pytest.raises(ImportFileError, match="must be the header"):
        run("CB1001,rm_north,Listening,2027-03,4,\n")


def test_a_semicolon_separated_file_is_one_clear_error(behaviours, accounts):
    with pytest.raises(ImportFileError, match="separated by semicolons; use commas"):
        run(GOOD.replace(",", ";"))
    assert not CustomerRating.objects.exists()


def test_a_latin_1_file_is_one_clear_error(behaviours, accounts):
    text = HEADER + "CB1001,rm_north,Listening,2027-03,4,Très réactif\n"
    with pytest.raises(ImportFileError, match="not UTF-8"):
        import_ratings(csv_file(text, "latin-1"), today=TODAY)
    assert not CustomerRating.objects.exists()


def test_an_empty_file_is_one_clear_error(behaviours):
    with pytest.raises(ImportFileError, match="empty"):
        run("")


def test_the_import_runs_a_bounded_number_of_queries(behaviours, rm, django_assert_max_num_queries):
    rows = [HEADER]
    for i in range(60):
        AccountFactory(owner=rm, number=f"CB2{i:03d}")
        rows.append(f"CB2{i:03d},rm_north,Listening,2027-03,{i % 5 + 1},\n")
    with django_assert_max_num_queries(16):
        assert run("".join(rows)).created == 60


def test_the_import_command_imports_the_file(behaviours, accounts, tmp_path, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda: TODAY)
    path = tmp_path / "ratings.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = io.StringIO()
    call_command("import_ratings", str(path), stdout=out)
    assert "3 new, 0 changed, 0 unchanged" in out.getvalue()
    assert CustomerRating.objects.count() == 3


def test_the_import_command_prints_the_error_report_and_fails(
    behaviours, accounts, tmp_path, monkeypatch
):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda: TODAY)
    path = tmp_path / "ratings.csv"
    path.write_text(HEADER + "CB9999,rm_north,Listening,2027-03,4,\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 row cannot be imported"):
        call_command("import_ratings", str(path), stdout=out)
    assert "2,account_number,CB9999,no such account" in out.getvalue()


def test_the_sample_file_names_every_column(settings):
    from pathlib import Path

    sample = Path(settings.BASE_DIR) / "docs" / "samples" / "ratings.csv"
    assert sample.read_text(encoding="utf-8").splitlines()[0] == HEADER.strip()


def test_an_import_is_not_refused_for_an_rm_who_is_not_the_accounts_owner(behaviours, accounts):
    RmFactory(username="rm_covering")
    assert run(HEADER + "CB1001,rm_covering,Listening,2027-03,4,\n").created == 1


def test_every_problem_of_a_bad_row_is_reported(behaviours, accounts, leader):
    with pytest.raises(ImportRefused) as refused:
        run(HEADER + "CB9999,leader_north,Charm,2027-03,superb,\n")
    assert [(e.row, e.column) for e in refused.value.errors] == [
        (2, "rating"),
        (2, "account_number"),
        (2, "rm_username"),
        (2, "behaviour"),
    ]


def test_an_empty_value_is_reported_once_as_empty(behaviours, accounts):
    with pytest.raises(ImportRefused) as refused:
        run(HEADER + ",rm_north,,2027-03,4,\n")
    assert refused.value.errors == [
        RowError(2, "account_number", "", "is empty"),
        RowError(2, "behaviour", "", "is empty"),
    ]
