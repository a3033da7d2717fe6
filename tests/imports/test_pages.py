"""The back office's import pages: administrators only, the same service as the commands,
a refused file shows every bad row and a downloadable report, a size limit, and no bad
upload ever gives a 500."""

from __future__ import annotations

import base64
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import imports
from accounts.models import Account, Position
from salesmgmt.imports import ImportResult

pytestmark = pytest.mark.django_db

POSITIONS = "/accounts/imports/positions/"
ACCOUNTS = "/accounts/imports/accounts/"
INDEX = "/accounts/imports/"
HEADER = "account_number,product_code,month,balance,revenue\n"


def upload(text: str, name: str = "positions.csv", encoding: str = "utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def test_the_pages_have_their_url_names():
    assert reverse("accounts:imports") == INDEX
    assert reverse("accounts:import_positions") == POSITIONS
    assert reverse("accounts:import_accounts") == ACCOUNTS


@pytest.mark.parametrize("url", [INDEX, POSITIONS, ACCOUNTS])
@pytest.mark.parametrize("who", ["rm", "leader", "executive"])
def test_only_administrators_may_open_the_import_pages(client, request, who, url):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url).status_code == 403
    assert client.post(url, {"file": upload(HEADER)}).status_code == 403


def test_an_anonymous_visitor_is_asked_to_log_in(client):
    response = client.get(POSITIONS)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_index_lists_all_four_imports(client, administrator):
    client.force_login(administrator)
    response = client.get(INDEX)
    assert response.status_code == 200
    for url in (POSITIONS, ACCOUNTS, reverse("coaching:ratings_import")):
        assert f'href="{url}"' in response.text
    assert f'href="{reverse("retention:campaigns")}"' in response.text


def test_the_nav_offers_imports_to_administrators_only(client, administrator, rm):
    client.force_login(administrator)
    assert f'href="{INDEX}">Imports</a>' in client.get(INDEX).text
    client.force_login(rm)
    assert f'href="{INDEX}"' not in client.get(reverse("accounts:book")).text


def test_uploading_a_good_positions_file_imports_it_and_says_how_many(client, administrator, book):
    client.force_login(administrator)
    text = HEADER + "CB1001,LOAN,2026-10,1,1\nCB1002,DDA,2026-10,2,0\n"
    response = client.post(POSITIONS, {"file": upload(text)}, follow=True)
    assert response.redirect_chain == [(POSITIONS, 302)]
    assert "Imported positions.csv: 2 new, 0 changed, 0 unchanged positions." in response.text
    assert Position.objects.count() == 2


def test_a_file_with_bad_rows_shows_them_and_imports_nothing(client, administrator, book):
    client.force_login(administrator)
    text = HEADER + "CB1001,LOAN,2026-10,1,1\nCB9999,LOAN,2026-10,1,1\nCB1002,GOLD,2026-10,1,1\n"
    response = client.post(POSITIONS, {"file": upload(text)})
    assert response.status_code == 400
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td><code>(\w+)</code></td>", response.text)
    assert rows == [("3", "account_number"), ("4", "product_code")]
    assert "2 rows cannot be imported, so nothing was imported." in response.text
    assert not Position.objects.exists()


def test_the_error_report_downloads_as_csv(client, administrator, book):
    client.force_login(administrator)
    response = client.post(POSITIONS, {"file": upload(HEADER + "CB9999,LOAN,2026-10,1,1\n")})
    [href] = re.findall(
        r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download="positions-import-errors.csv"',
        response.text,
    )
    report = base64.b64decode(href).decode("utf-8-sig").splitlines()
    assert report == ["row,column,value,reason", "2,account_number,CB9999,no such account"]


@pytest.mark.parametrize(
    ("text", "encoding", "message"),
    [
        (HEADER.replace(",", ";") + "CB1001;LOAN;2026-10;1;1\n", "utf-8", "semicolons"),
        ("account,product,month,balance,revenue\n", "utf-8", "must be the header"),
        (HEADER + "CB1001,Épargne,2026-10,1,1\n", "latin-1", "not UTF-8"),
    ],
    ids=["delimiter", "header", "latin-1"],
)
def test_a_file_that_is_no_positions_csv_gets_one_clear_error(
    client, administrator, book, text, encoding, message
):
    client.force_login(administrator)
    response = client.post(POSITIONS, {"file": upload(text, encoding=encoding)})
    assert response.status_code == 400
    assert message in response.context["form"].errors["file"][0]
    assert "<table" not in response.text
    assert not Position.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_reading(
    client, administrator, book, settings, monkeypatch
):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    monkeypatch.setattr(imports, "import_positions", pytest.fail)
    client.force_login(administrator)
    big = SimpleUploadedFile("big.csv", b"x" * (1024 * 1024 + 1), content_type="text/csv")
    response = client.post(POSITIONS, {"file": big})
    assert response.status_code == 400
    assert "the limit is 1 MB" in response.context["form"].errors["file"][0]


def test_the_limit_is_200_mb_unless_set(client, administrator):
    client.force_login(administrator)
    assert "at most 200 MB" in client.get(POSITIONS).text


@pytest.mark.parametrize(
    ("url", "name"), [(POSITIONS, "import_positions"), (ACCOUNTS, "import_accounts")]
)
def test_the_page_and_the_command_call_the_same_service(
    client, administrator, monkeypatch, tmp_path, url, name
):
    calls = []

    def service(file, *, by=None):
        calls.append((file.read(), by))
        return ImportResult(1, 0, 0)

    monkeypatch.setattr(imports, name, service)
    client.force_login(administrator)
    assert client.post(url, {"file": upload("x\n")}).status_code == 302
    path = tmp_path / "file.csv"
    path.write_bytes(b"y\n")
    out = io.StringIO()
    call_command(name, str(path), stdout=out)
    assert calls == [(b"x\n", administrator), (b"y\n", None)]
    assert out.getvalue().startswith("1 new, 0 changed, 0 unchanged")


@pytest.mark.parametrize("rows", [5, 50])
def test_the_upload_query_count_does_not_grow_with_rows(
    client, administrator, book, rows, django_assert_max_num_queries
):
    lines = [HEADER] + [
        f"CB100{i % 2 + 1},{('LOAN', 'DDA')[i // 2 % 2]},{2000 + i // 4}-01,{i},0\n"
        for i in range(rows)
    ]
    client.force_login(administrator)
    with django_assert_max_num_queries(30):
        response = client.post(POSITIONS, {"file": upload("".join(lines))})
    assert response.status_code == 302
    assert Position.objects.count() == rows


CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["CB1001", "LOAN", "2026-10", "1.5", "-1", "", '"', "'=1+1"]
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from([POSITIONS, ACCOUNTS]),
    rows=st.lists(st.lists(CELL, min_size=0, max_size=12), max_size=6),
    header=st.booleans(),
    raw=st.binary(max_size=40),
)
def test_no_uploaded_file_ever_gives_a_server_error(
    client, administrator, book, kind, rows, header, raw
):
    client.force_login(administrator)
    columns = imports.POSITION_COLUMNS if kind == POSITIONS else imports.ACCOUNT_COLUMNS
    lines = ([",".join(columns)] if header else []) + [",".join(r) for r in rows]
    data = "\n".join(lines).encode("utf-8", "surrogatepass") + raw
    response = client.post(kind, {"file": SimpleUploadedFile("f.csv", data)})
    assert response.status_code in (302, 400)
    assert Account.objects.count() >= 2
