"""Downloads of the lists people work from, as CSV and as Excel (see docs/exports.md).

`csv_response(filename, header, rows)` streams `rows` (any iterable of sequences, best a
generator over a queryset's `.iterator()`) through `csv.writer`, one line at a time, as
Django's "Streaming large CSV files" does: nothing holds all the rows at once.

`xlsx_response(filename, header, rows, sheet_title=...)` writes the same rows into an
openpyxl write-only workbook (rows go to disk as they come, not into memory) and answers
with the finished file.

`export_response(request, stem, header, rows, sheet_title=...)` picks one of the two from
`?format=csv` / `?format=xlsx`: a list view builds its rows once and hands them over.

Every cell goes through `neutralise` (CSV) or `_xlsx_cell` (Excel): text a spreadsheet
would run as a formula gets a leading apostrophe in CSV and is stored as text (never a
formula, quote-prefixed) in Excel; numbers and dates are written as plain values (a
negative balance is a number, not a formula, so it stays `-1.50`).
"""

from __future__ import annotations

import csv
import datetime
import itertools
import re
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

# A text cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice
# and Google Sheets: = + - @, and a tab or carriage return in front of them.
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


CENT = Decimal("0.01")


def money(value) -> Decimal:
    """An amount to two decimals whatever the database returned (SQLite gives a bare 0 for
    a coalesced zero, PostgreSQL 0.00): the same file from either."""
    return Decimal(value or 0).quantize(CENT)


def neutralise(value) -> str:
    """The cell as text that cannot run as a formula.

    None is empty; numbers (int, Decimal, float; not bool) and dates are written as they
    are (ISO dates; a date and time in local time, "2027-03-09 11:00"), even when negative:
    only text cells are neutralised, by a leading apostrophe when they start with = + - @,
    a tab or a carriage return.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):  # plain digits for a machine: 10, never "1E+1"
        return format(value, "f")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime.datetime):  # local time, to the minute, as Excel reads it
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(DANGEROUS) else text


class Echo:
    """A pseudo-buffer: `write` hands the line back instead of keeping it."""

    def write(self, value):
        return value


def safe_filename(name: str) -> str:
    """Letters, digits, dot, dash and underscore only: nothing that could break the header."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return cleaned or "export.csv"


def csv_response(
    filename: str, header: Sequence, rows: Iterable[Sequence]
) -> StreamingHttpResponse:
    """A streamed CSV download: UTF-8 with a byte-order mark (so Excel reads the accents
    right), the header line first, then each row, every cell neutralised."""
    writer = csv.writer(Echo())

    def lines():
        yield BOM + writer.writerow([neutralise(v) for v in header])
        for row in rows:
            yield writer.writerow([neutralise(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    return response


def export_format(request) -> str | None:
    """ "csv" or "xlsx" when the list page is asked for its download (`?format=`), else None
    (any other value shows the page)."""
    chosen = request.GET.get("format")
    return chosen if chosen in FORMATS else None


def export_response(
    request,
    filename_stem: str,
    header: Sequence,
    rows: Iterable[Sequence],
    *,
    sheet_title: str,
):
    """The download the request asks for (`export_format`): a streamed CSV or an Excel
    file, from the same header and rows. Call it only when `export_format(request)`."""
    if export_format(request) == "xlsx":
        return xlsx_response(f"{filename_stem}.xlsx", header, rows, sheet_title=sheet_title)
    return csv_response(f"{filename_stem}.csv", header, rows)


# --- Excel -------------------------------------------------------------------------------------

# Columns are sized from the header and this many first rows (write-only sheets take their
# widths before the first row is written), between these bounds (in characters).
WIDTH_SAMPLE = 50
MIN_WIDTH, MAX_WIDTH = 8, 60
BOLD = Font(bold=True)
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# Excel's own limits: 31 characters for a sheet's name, none of these in it.
SHEET_TITLE_BAD = re.compile(r"[\\/*?:\[\]]")


def _sheet_title(title: str) -> str:
    return SHEET_TITLE_BAD.sub(" ", title).strip()[:31] or "Export"


def _number_format(value: Decimal) -> str:
    """Thousands separators and the decimals the value carries (money: two)."""
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return "#,##0." + "0" * places if places else "#,##0"


def _xlsx_value(value):
    """The value as Excel stores it: numbers as numbers (a Decimal keeps its digits), dates
    as dates (an aware datetime in local time, Excel has no time zones), booleans and
    None as in the CSV, anything else as text (without the control characters an Excel
    file cannot hold)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal | float):
        return value
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, datetime.date):
        return value
    # A line break in a cell is a line feed in Excel; a carriage return would be written
    # as-is or read back as a line feed depending on the XML writer (lxml or not).
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _xlsx_cell(ws, value, *, bold: bool = False):
    """One cell: a plain value where openpyxl stores it right as it is (text, whole numbers,
    floats, empty), else a cell with its type and format set.

    Text is always stored as text (an inline string): openpyxl would otherwise store a value
    starting with "=" as a formula and "#N/A" as an error. Text a spreadsheet would run (= +
    - @, tab, carriage return first) is also quote-prefixed, so that editing the cell in
    Excel keeps it text."""
    value = _xlsx_value(value)
    plain = value is None or type(value) in (int, float)
    if isinstance(value, str):
        # "\n": a carriage return first became a line feed above.
        plain = not value.startswith((*DANGEROUS, "\n")) and value not in ERROR_CODES
    if plain and not bold:
        return value
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if not plain:
            cell.quotePrefix = True
    elif isinstance(value, Decimal):
        cell.number_format = _number_format(value)
    elif isinstance(value, datetime.datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, datetime.date):
        cell.number_format = DATE_FORMAT
    if bold:
        cell.font = BOLD
    return cell


def _width(value) -> int:
    value = _xlsx_value(value)
    if value is None:
        return 0
    if isinstance(value, datetime.date):
        return 16 if isinstance(value, datetime.datetime) else 10
    if isinstance(value, Decimal | float | int):
        return len(f"{value:,}") + 1
    return max((len(line) for line in str(value).splitlines()), default=0)


def xlsx_response(
    filename: str, header: Sequence, rows: Iterable[Sequence], *, sheet_title: str
) -> FileResponse:
    """An Excel download: one sheet named `sheet_title`, a bold header row kept in view
    (frozen pane) with a filter, columns sized to their content, then each row.

    The workbook is write-only: each row goes to a temporary file as it is appended, so the
    rows are never all in memory; the finished file (in memory up to 1 MB, then on disk) is
    then sent in blocks and removed when the response is closed."""
    rows = iter(rows)
    sample = list(itertools.islice(rows, WIDTH_SAMPLE))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(sheet_title))
    ws.freeze_panes = "A2"
    for i, name in enumerate(header, start=1):
        widest = max([_width(name) + 2] + [_width(r[i - 1]) for r in sample if len(r) >= i])
        ws.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, max(MIN_WIDTH, widest))
    if header:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}1"
    ws.append([_xlsx_cell(ws, name, bold=True) for name in header])
    for row in itertools.chain(sample, rows):
        ws.append([_xlsx_cell(ws, value) for value in row])
    # Not a `with`: FileResponse reads the file after the view returns and closes it.
    out = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
    wb.save(out)
    out.seek(0)
    name = safe_filename(filename)
    return FileResponse(out, as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE)
