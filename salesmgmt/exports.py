"""Downloads of the lists people work from: one streamed CSV path (see docs/exports.md).

`csv_response(filename, header, rows)` streams `rows` (any iterable of sequences, best a
generator over a queryset's `.iterator()`) through `csv.writer`, one line at a time, as
Django's "Streaming large CSV files" does: nothing holds all the rows at once.

Every cell goes through `neutralise`: text a spreadsheet would run as a formula gets a
leading apostrophe; numbers and dates are written as plain values (a negative balance is
a number, not a formula, so it stays `-1.50`).
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import StreamingHttpResponse

# A text cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice
# and Google Sheets: = + - @, and a tab or carriage return in front of them.
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"


CENT = Decimal("0.01")


def money(value) -> Decimal:
    """An amount to two decimals whatever the database returned (SQLite gives a bare 0 for
    a coalesced zero, PostgreSQL 0.00): the same file from either."""
    return Decimal(value or 0).quantize(CENT)


def neutralise(value) -> str:
    """The cell as text that cannot run as a formula.

    None is empty; numbers (int, Decimal, float; not bool) and dates are written as they
    are (ISO dates), even when negative: only text cells are neutralised, by a leading
    apostrophe when they start with = + - @, a tab or a carriage return.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal | float):
        return str(value)
    if isinstance(value, datetime.date):  # a datetime is a date too
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
    filename: str, header: Sequence, rows: Iterable[Sequence], *, bom: bool = True
) -> StreamingHttpResponse:
    """A streamed CSV download: UTF-8 with a byte-order mark (so Excel reads the accents
    right), the header line first, then each row, every cell neutralised."""
    writer = csv.writer(Echo())

    def lines():
        yield (BOM if bom else "") + writer.writerow([neutralise(v) for v in header])
        for row in rows:
            yield writer.writerow([neutralise(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    return response


def wants_csv(request) -> bool:
    """`?format=csv` on a list page asks for its download."""
    return request.GET.get("format") == "csv"
