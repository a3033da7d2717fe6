"""The shared writer (salesmgmt/exports.py): the Excel file keeps text as text (a formula is
never stored as one), numbers as numbers and dates as dates; `?format=` picks the format;
the download buttons carry the page's filters."""

import datetime
from decimal import Decimal

import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from salesmgmt.exports import (
    XLSX_CONTENT_TYPE,
    export_format,
    export_response,
    neutralise,
    xlsx_response,
)

from .download import csv_rows, filename, sheet, xlsx_rows

DANGEROUS_TEXT = ["=1+1", "+44 20", "-2", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x")']


def one_cell(value):
    ws = sheet(xlsx_response("x.xlsx", ["Value"], iter([[value]]), sheet_title="X"))
    return ws["A2"]


@pytest.mark.parametrize("text", DANGEROUS_TEXT)
def test_excel_stores_text_a_spreadsheet_would_run_as_quote_prefixed_text(text):
    cell = one_cell(text)
    # A carriage return is written as the line feed Excel uses for a break in a cell.
    assert cell.value == text.replace("\r", "\n")
    assert (cell.data_type, cell.quotePrefix) == ("s", True)


def test_excel_plain_text_is_text_without_a_prefix():
    cell = one_cell("North")
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("North", "s", False)


def test_excel_a_negative_amount_stays_a_number_with_two_decimals():
    cell = one_cell(Decimal("-1234.50"))
    assert (cell.value, cell.data_type, cell.number_format) == (-1234.5, "n", "#,##0.00")


def test_excel_whole_numbers_are_numbers():
    cell = one_cell(42)
    assert (cell.value, cell.data_type) == (42, "n")


def test_excel_dates_are_dates():
    cell = one_cell(datetime.date(2027, 3, 19))
    assert (cell.value, cell.data_type, cell.number_format) == (
        datetime.datetime(2027, 3, 19),
        "d",
        "yyyy-mm-dd",
    )


def test_excel_an_aware_datetime_is_written_in_local_time():
    moment = timezone.make_aware(datetime.datetime(2027, 3, 9, 9, 0))
    assert one_cell(moment).value == datetime.datetime(2027, 3, 9, 9, 0)


def test_csv_an_aware_datetime_is_written_in_local_time_to_the_minute():
    moment = timezone.make_aware(datetime.datetime(2027, 3, 9, 9, 0))
    assert neutralise(moment) == "2027-03-09 09:00"


def test_excel_booleans_and_none_read_as_in_the_csv():
    ws = sheet(
        xlsx_response("x.xlsx", ["A", "B", "C"], iter([[True, False, None]]), sheet_title="X")
    )
    assert xlsx_rows(ws)[1] == ["yes", "no", None]


def test_excel_header_is_bold_frozen_and_filtered():
    ws = sheet(xlsx_response("x.xlsx", ["Name", "=Sum"], iter([]), sheet_title="X"))
    assert [c.value for c in ws[1]] == ["Name", "=Sum"]
    assert all(c.font.b for c in ws[1])
    assert ws["B1"].data_type == "s"
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:B1"


def test_excel_columns_are_sized_to_their_content_within_bounds():
    long = "Harbor Logistics and Warehousing Cooperative"
    ws = sheet(xlsx_response("x.xlsx", ["Name", "N"], iter([[long, 1]]), sheet_title="X"))
    assert ws.column_dimensions["A"].width == len(long)
    assert ws.column_dimensions["B"].width == 8


def test_excel_response_is_an_attachment_with_a_safe_name_and_a_valid_sheet_title():
    response = xlsx_response('a "b"\r\n.xlsx', ["A"], iter([]), sheet_title="Book: a/b [x]")
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert filename(response) == "a-b-.xlsx"
    assert sheet(response).title == "Book  a b  x"


def test_excel_writes_more_rows_than_the_width_sample():
    rows = ([i, f"row {i}"] for i in range(120))
    ws = sheet(xlsx_response("x.xlsx", ["N", "Text"], rows, sheet_title="X"))
    values = xlsx_rows(ws)
    assert len(values) == 121
    assert values[-1] == [119, "row 119"]


@pytest.mark.parametrize(
    ("query", "chosen"),
    [("format=csv", "csv"), ("format=xlsx", "xlsx"), ("format=pdf", None), ("", None)],
)
def test_format_is_chosen_by_the_query_string(query, chosen):
    assert export_format(RequestFactory().get(f"/x/?{query}")) == chosen


def test_one_call_answers_csv_or_excel_from_the_same_rows():
    def rows():
        yield ["=A", Decimal("1.50")]

    as_csv = export_response(
        RequestFactory().get("/?format=csv"), "list", ["T", "N"], rows(), sheet_title="L"
    )
    as_xlsx = export_response(
        RequestFactory().get("/?format=xlsx"), "list", ["T", "N"], rows(), sheet_title="L"
    )
    assert isinstance(as_csv, StreamingHttpResponse)
    assert (filename(as_csv), filename(as_xlsx)) == ("list.csv", "list.xlsx")
    assert csv_rows(as_csv) == [["T", "N"], ["'=A", "1.50"]]
    assert xlsx_rows(sheet(as_xlsx)) == [["T", "N"], ["=A", 1.5]]


def test_the_buttons_keep_the_filters_and_drop_the_page():
    request = RequestFactory().get("/accounts/?tier=A&segment=1&segment=2&page=3")
    html = render_to_string(
        "_download_buttons.html",
        {"url": "/accounts/", "id": "book", "what": "accounts"},
        request=request,
    )
    assert 'id="book-csv"' in html
    assert 'id="book-xlsx"' in html
    assert 'href="/accounts/?tier=A&amp;segment=1&amp;segment=2&amp;format=csv"' in html
    assert 'href="/accounts/?tier=A&amp;segment=1&amp;segment=2&amp;format=xlsx"' in html


def test_the_buttons_name_the_list_of_a_page_with_several():
    request = RequestFactory().get("/coaching/checkins/mine/")
    html = render_to_string(
        "_download_buttons.html",
        {"url": "/c/", "id": "checkins", "what": "x", "list": "checkins"},
        request=request,
    )
    assert 'href="/c/?list=checkins&amp;format=csv"' in html


def test_excel_drops_control_characters_a_workbook_cannot_hold():
    cell = one_cell("Harbor\x00 Logistics\x1b")
    assert (cell.value, cell.data_type) == ("Harbor Logistics", "s")


def test_excel_stores_an_error_code_as_text_not_an_error():
    cell = one_cell("#N/A")
    assert (cell.value, cell.data_type) == ("#N/A", "s")


def test_excel_a_plain_cell_after_a_formatted_one_keeps_no_format():
    ws = sheet(xlsx_response("x.xlsx", ["A", "B"], iter([[Decimal("1.50"), 3]]), sheet_title="X"))
    assert (ws["A2"].number_format, ws["B2"].number_format) == ("#,##0.00", "General")
