"""Reading the downloads back in the export tests: the CSV as rows of text, the Excel file
through openpyxl (values and cell types), and the number of queries a download makes."""

from __future__ import annotations

import csv
import io

from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from salesmgmt.exports import XLSX_CONTENT_TYPE

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def fetch(client, user, url, fmt, **params):
    """`url` with `params` and `format=fmt`, as `user`; must answer 200."""
    client.force_login(user)
    response = client.get(url, {**params, "format": fmt})
    assert response.status_code == 200, response.status_code
    return response


def csv_rows(response) -> list[list[str]]:
    """A streamed CSV download as rows of text (header first), after its byte-order mark."""
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith(BOM)
    text = text[len(BOM) :]
    return list(csv.reader(io.StringIO(text)))


def sheet(response):
    """An Excel download's first (only) sheet."""
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    return load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]


def xlsx_rows(ws) -> list[list]:
    return [[cell.value for cell in row] for row in ws.iter_rows()]


def get_csv(client, user, url, **params) -> list[list[str]]:
    return csv_rows(fetch(client, user, url, "csv", **params))


def get_xlsx(client, user, url, **params):
    return sheet(fetch(client, user, url, "xlsx", **params))


def column(rows, name) -> list:
    i = list(rows[0]).index(name)
    return [r[i] for r in rows[1:]]


def cells(ws, name) -> list:
    """The cells (not values) of the column headed `name`, below the header."""
    header = [c.value for c in ws[1]]
    i = header.index(name)
    return [row[i] for row in ws.iter_rows(min_row=2)]


def filename(response) -> str:
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    return disposition.split("filename=", 1)[1].strip('"')


def queries(client, url, fmt, **params) -> int:
    """How many queries one download makes, its content read to the end."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {**params, "format": fmt})
        assert response.status_code == 200
        b"".join(response.streaming_content)
    return len(captured)


def no_formula_in_csv(rows) -> bool:
    return not any(cell.startswith(FORMULA_STARTS) for row in rows for cell in row)


def no_formula_in_xlsx(ws) -> bool:
    return all(
        c.data_type != "f" and (c.data_type == "s" or not str(c.value or "").startswith("="))
        for row in ws.iter_rows()
        for c in row
    )
