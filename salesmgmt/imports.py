"""What every CSV import of the back office shares (see docs/imports.md).

An import is all or nothing: every row is checked first; if any row is bad, nothing is
written and `ImportRefused.errors` lists each problem (`RowError`: the row number as a
spreadsheet shows it, the header being row 1, the column, the value and why). A file that
cannot be read as the expected CSV at all (encoding, delimiter, header, size) is refused
with one `ImportFileError`. A good file is upserted on its natural key and the
`ImportResult` says how many rows were created, updated and left unchanged.

The file is streamed: `text_lines` decodes it line by line (the ratings and campaign-list
imports), `blocks` hands out blocks of whole lines for the big imports that check a
block at once (accounts.imports). Neither ever holds the whole file.
"""

from __future__ import annotations

import base64
import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from salesmgmt.exports import DANGEROUS

# The report lists this many problems at most; reading stops there (the file is refused
# either way, and a user fixes the first ten thousand before the next).
MAX_ERRORS = 10_000
# The limit of an upload, in MB, unless the IMPORT_MAX_UPLOAD_MB setting says otherwise.
DEFAULT_MAX_UPLOAD_MB = 200
BLOCK_BYTES = 1 << 20
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged


class ImportFileError(Exception):
    """The file is not the expected CSV at all: wrong encoding, delimiter or header."""


class ImportRefused(Exception):
    """Some rows are bad; nothing was written."""

    def __init__(self, errors: list[RowError], *, truncated: bool = False):
        rows = len({e.row for e in errors})
        if truncated:
            message = (
                f"More than {MAX_ERRORS:,} problems: the file was not read further and "
                "nothing was imported. The report lists the first ones."
            )
        else:
            message = (
                f"{rows} row{'s' if rows != 1 else ''} cannot be imported, so nothing was imported."
            )
        super().__init__(message)
        self.errors = errors
        self.truncated = truncated


def error_report_rows(errors: Iterable[RowError]) -> Iterator[list[str]]:
    """The error report as CSV rows, header first."""
    yield ["row", "column", "value", "reason"]
    for e in errors:
        yield [str(e.row), e.column, e.value, e.reason]


def report_csv(errors: Iterable[RowError]) -> str:
    """The error report as one CSV text (with a byte-order mark, for Excel)."""
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out).writerows(error_report_rows(errors))
    return out.getvalue()


def report_href(errors: Iterable[RowError]) -> str:
    """The error report as a data: link the browser saves as a CSV file."""
    payload = base64.b64encode(report_csv(errors).encode()).decode()
    return f"data:text/csv;charset=utf-8;base64,{payload}"


def max_upload_mb() -> int:
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB))


def chunked(values: Iterable, size: int) -> Iterator[list]:
    """`values` sorted, in lists of at most `size` (for `__in` lookups)."""
    items = sorted(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def unneutralise(text: str) -> str:
    """Text as it was before an export neutralised it: salesmgmt.exports puts an apostrophe
    before a cell starting with = + - @; that apostrophe is dropped again on import."""
    if text[:1] == "'" and text[1:2] and text[1] in DANGEROUS:
        return text[1:]
    return text


# --- reading ---------------------------------------------------------------------------------


def not_utf8(line: int) -> ImportFileError:
    return ImportFileError(
        f"The file is not UTF-8 (line {line} has a character it cannot be). Save it "
        "from your spreadsheet as “CSV UTF-8 (comma delimited)” and try again."
    )


def text_lines(binary_lines: Iterable[bytes]) -> Iterator[str]:
    """Decode the file line by line as it is read (UTF-8, a leading BOM dropped)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    number = 1
    for number, raw in enumerate(binary_lines, start=1):
        try:
            yield decoder.decode(raw)
        except UnicodeDecodeError:
            raise not_utf8(number) from None
    try:
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError:  # the file ends inside a character
        raise not_utf8(number) from None
    if tail:
        yield tail


def blocks(file, size: int | None = None) -> Iterator[bytes]:
    """The file in blocks of whole lines, each ending with a newline (one is added to the
    last line if it has none); a leading BOM dropped. `file` is anything with `read(n)`
    (an upload, an open file) or an iterable of bytes. A line longer than `size` is no
    line of a CSV export: ImportFileError."""
    size = size or BLOCK_BYTES
    reads = iter(lambda: file.read(size), b"") if hasattr(file, "read") else iter(file)
    rest, first, line = b"", True, 1
    for data in reads:
        if isinstance(data, str):
            data = data.encode()
        if first:
            if not data:
                continue
            first = False
            if data.startswith(BOM):
                data = data[len(BOM) :]
        data = rest + data if rest else data
        cut = data.rfind(b"\n") + 1
        if not cut:
            if len(data) > size:
                raise ImportFileError(
                    f"Line {line} is longer than {size // 1024} KB: this is not a CSV export."
                )
            rest = data
            continue
        block, rest = data[:cut], data[cut:]
        line += block.count(b"\n")
        yield block
    if rest:
        yield rest + b"\n"


def decode(block: bytes, first_line: int) -> str:
    """The block as text, or ImportFileError naming the line that is not UTF-8."""
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(first_line + block.count(b"\n", 0, exc.start)) from None


def header_positions(names: list[str], columns, *, joiner: str = ", ") -> dict[str, int]:
    """Column name → position for a CSV header that must hold `columns` (in any order), or
    one ImportFileError saying what is wrong with it (another delimiter, missing, unknown
    or doubled names). Shared by the CSV imports."""
    expected = joiner.join(columns)
    if len(names) == 1:
        for sep, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in names[0]:
                raise ImportFileError(
                    f"The columns are separated by {label}; use commas. The header must be: "
                    f"{expected}."
                )
    cleaned = [n.strip().lower() for n in names]
    missing = [c for c in columns if c not in cleaned]
    unknown = [n for n in cleaned if n not in columns]
    doubled = sorted({n for n in cleaned if n in columns and cleaned.count(n) > 1})
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown {', '.join(repr(n) for n in unknown)}")
    if doubled:
        problems.append(f"twice {', '.join(doubled)}")
    if problems:
        raise ImportFileError(
            f"The first row must be the header {expected} ({'; '.join(problems)})."
        )
    return {name: cleaned.index(name) for name in columns}


def parse_line(line: str) -> list[str]:
    """One CSV line's fields (a quoted field may hold commas), or ImportFileError."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error as exc:
        raise ImportFileError(f"The file is not a readable CSV: {exc}.") from None


def wrong_width(row: int, fields: Sequence[str], width: int) -> RowError:
    return RowError(row, "row", ",".join(fields)[:80], f"has {len(fields)} fields, not {width}")


# --- the management commands ------------------------------------------------------------------


class ImportCommand(BaseCommand):
    """`manage.py import_<noun> file.csv`: the same service as the upload page. On refusal
    the error report goes to standard output as CSV and the command fails."""

    noun = "rows"

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file (UTF-8, comma-separated, with header).")

    def run(self, file) -> ImportResult:
        raise NotImplementedError

    def handle(self, *args, file, **options):
        try:
            with open(file, "rb") as f:
                result = self.run(f)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        except ImportRefused as refused:
            csv.writer(self.stdout, lineterminator="\n").writerows(
                error_report_rows(refused.errors)
            )
            raise CommandError(str(refused)) from None
        self.stdout.write(
            f"{result.created} new, {result.updated} changed, {result.unchanged} unchanged "
            f"{self.noun}."
        )
