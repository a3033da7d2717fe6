"""Activities from a CRM export: all or nothing, every bad row reported (docs/imports.md)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Activity
from accounts.services.activity_import import import_activities
from salesmgmt.imports import ImportFileError, ImportRefused
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

HEADER = "rm_username,account_number,kind,date,status,outcome,next_step,next_step_due\n"


def csv_file(*rows):
    return io.BytesIO((HEADER + "".join(r + "\n" for r in rows)).encode())


@pytest.fixture
def numbered(account):
    account.number = "CB00000001"
    account.save()
    return account


def test_a_good_file_imports_every_row_with_history(rm, numbered):
    result = import_activities(
        csv_file(
            "rm_north,CB00000001,visit,2026-11-30,done,Met the CFO,Send the offer,2026-12-07",
            "rm_north,CB00000001,call,2026-12-09,planned,,,",
        )
    )
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert set(Activity.objects.values_list("kind", "status")) == {
        ("visit", "done"),
        ("call", "planned"),
    }
    assert Activity.history.count() == 2


def test_importing_the_same_file_again_changes_nothing(rm, numbered):
    row = "rm_north,CB00000001,visit,2026-11-30,done,Met the CFO,,"
    import_activities(csv_file(row))
    result = import_activities(csv_file(row))
    assert (result.created, result.unchanged) == (0, 1)


def test_a_changed_outcome_updates_the_activity(rm, numbered):
    import_activities(csv_file("rm_north,CB00000001,visit,2026-11-30,done,First,,"))
    result = import_activities(csv_file("rm_north,CB00000001,visit,2026-11-30,done,Second,,"))
    assert result.updated == 1
    assert Activity.objects.get().outcome == "Second"


def test_every_bad_row_is_reported_and_nothing_is_imported(rm, other_rm, numbered):
    AccountFactory(owner=other_rm, number="CB00000002")
    with pytest.raises(ImportRefused) as refused:
        import_activities(
            csv_file(
                "rm_north,CB00000001,visit,2026-11-30,done,Fine,,",
                "rm_north,CB00000001,lunch,2026-11-30,done,,,",
                "rm_north,CB00000001,call,2099-01-01,done,From the future,,",
                "rm_north,CB00000002,call,2026-11-30,done,Not my account,,",
                "nobody,CB00000009,call,2026-11-31,done,,,",
                "rm_north,CB00000001,call,2026-12-20,planned,Has an outcome,,",
                "rm_north,CB00000001,call,2026-11-30,done,,,2026-12-01",
            )
        )
    reported = {(e.row, e.column) for e in refused.value.errors}
    assert reported == {
        (3, "kind"),
        (4, "date"),
        (5, "account_number"),
        (6, "rm_username"),
        (6, "account_number"),
        (6, "date"),
        (7, "outcome"),
        (8, "next_step"),
    }
    assert not Activity.objects.exists()


def test_a_file_with_the_wrong_header_is_refused_as_a_whole(rm):
    with pytest.raises(ImportFileError):
        import_activities(io.BytesIO(b"who,what\nrm_north,call\n"))


def test_the_command_writes_the_report_and_fails(rm, numbered, tmp_path):
    path = tmp_path / "activities.csv"
    path.write_bytes(csv_file("rm_north,CB00000001,lunch,2026-11-30,done,,,").getvalue())
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_activities", str(path), stdout=out)
    assert "2,kind,lunch" in out.getvalue()  # the header is row 1
    assert not Activity.objects.exists()


def test_the_administrator_imports_on_the_page_and_gets_the_report(client, administrator, numbered):
    client.force_login(administrator)
    upload = csv_file("rm_north,CB00000001,lunch,2026-11-30,done,,,")
    upload.name = "activities.csv"
    response = client.post(reverse("accounts:import_activities"), {"file": upload})
    assert response.status_code == 400
    assert "data:text/csv" in response.text  # the downloadable report
    assert not Activity.objects.exists()


def test_the_imports_list_offers_the_activities_import(client, administrator):
    client.force_login(administrator)
    assert reverse("accounts:import_activities") in client.get(reverse("accounts:imports")).text


def test_an_rm_may_not_open_the_import_page_403(client, rm):
    client.force_login(rm)
    assert client.get(reverse("accounts:import_activities")).status_code == 403
