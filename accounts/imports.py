"""The back office's imports of the book from core banking / MCIF files (docs/imports.md).

Two CSV files, each all or nothing (salesmgmt.imports): every row is checked, every bad
row is reported, and nothing is written unless every row is good; a good file is upserted
on its natural key, so importing it twice changes nothing the second time.

Month-end positions (`import_positions`) come by the million, so the work is set-based.
Python only streams the file in blocks of lines: one regular expression checks that a
whole block is plain CSV with the right number of fields (no per-row Python for the usual
block), and the block goes as it is to a TEMP staging table (COPY on PostgreSQL, batched
inserts on SQLite). The database then checks every value (one scan that also looks up the
account, the product and the current position), reports the bad rows, and writes: one
INSERT of the new positions, one UPDATE of the changed ones; unchanged rows are not
touched. Memory stays flat in the file's size: one block, and the problems found.
Positions have no history (they are facts of core banking, re-imported at will).

Accounts (`import_accounts`) are far fewer; they go through the ORM in batches, with
simple-history records like every change to an account, and a change of owner records an
OwnershipChange as every hand-over does.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from org.models import Role, User
from salesmgmt.exports import money, neutralise
from salesmgmt.imports import (
    MAX_ERRORS,
    ImportFileError,
    ImportRefused,
    ImportResult,
    RowError,
    blocks,
    decode,
    header_positions,
    parse_line,
    text_lines,
    unneutralise,
    wrong_width,
)

from .models import Account, AccountStatus, OwnershipChange, Position, Segment, Tier

__all__ = [
    "ACCOUNT_COLUMNS",
    "POSITION_COLUMNS",
    "ImportFileError",
    "ImportRefused",
    "ImportResult",
    "RowError",
    "export_positions",
    "import_accounts",
    "import_positions",
    "position_rows",
]

POSITION_COLUMNS = ("account_number", "product_code", "month", "balance", "revenue")
IMPORT_REASON = "CSV import"

# --- positions: reading ------------------------------------------------------------------------

# The values of a good row, as regular expressions over bytes. Possessive (`++`): a block
# of good rows is matched in one pass, without backtracking.
_VALUE = {
    "account_number": rb"[^\s,\"'\x00]++",
    "product_code": rb"[^\s,\"'\x00]++",
    "month": rb"[12]\d{3}-(?:0[1-9]|1[0-2])(?:-01)?+",
    "balance": rb"\d{1,16}+(?:\.\d\d?+)?+",
    "revenue": rb"\d{1,16}+(?:\.\d\d?+)?+",
}
_TEXT_VALUE = {name: re.compile(rx.decode()) for name, rx in _VALUE.items()}
_BLANK = re.compile(r"[\s,]*")
_BLOCKS: dict[tuple[str, ...], re.Pattern] = {}
STAGE_ROWS = 10_000  # rows per executemany on SQLite
AMOUNT_REASON = (
    "is not an amount: digits, a dot before at most 2 decimals, no thousands separator "
    "(at most 16 digits before the dot)"
)


def _good_block(order: tuple[str, ...]) -> re.Pattern:
    """A block of lines that are all good rows, the columns in the file's order."""
    if order not in _BLOCKS:
        line = b",".join(_VALUE[name] for name in order) + b"\n"
        _BLOCKS[order] = re.compile(b"(?:" + line + b")*+")
    return _BLOCKS[order]


class _Stage:
    """The staging table `imp_stage` (the file's columns as text, in the file's order) and
    the map from its row numbers (`seq`, 1, 2, ... in the order written) to the file's."""

    def __init__(self, cursor, order: list[str]):
        self.cursor = cursor
        self.order = order
        self.pg = connection.vendor == "postgresql"
        self.written = 0
        self.next_row = 2  # the file row the next staged row is, if no line was skipped
        self.anchors: list[tuple[int, int]] = [(1, 2)]  # (seq, file row) where a run starts
        self.pending: list[list[str]] = []

    def __enter__(self):
        # Amounts are typed on PostgreSQL (COPY parses them; Python checked their form).
        amount = "numeric(18, 2)" if self.pg else "text"
        columns = ", ".join(
            f"{c} {amount if c in ('balance', 'revenue') else 'text'}" for c in POSITION_COLUMNS
        )
        self.cursor.execute("DROP TABLE IF EXISTS imp_rows")
        self.cursor.execute("DROP TABLE IF EXISTS imp_stage")
        if self.pg:
            self.cursor.execute(
                "CREATE TEMP TABLE imp_stage (seq bigint GENERATED ALWAYS AS IDENTITY, "
                f"{columns}) ON COMMIT DROP"
            )
            self.copy_cm = self.cursor.cursor.copy(
                f"COPY imp_stage ({', '.join(self.order)}) FROM STDIN (FORMAT csv)"
            )
            self.copy = self.copy_cm.__enter__()
        else:
            self.cursor.execute(f"CREATE TEMP TABLE imp_stage (seq integer PRIMARY KEY, {columns})")
            marks = ", ".join(["%s"] * len(self.order))
            self.insert = f"INSERT INTO imp_stage ({', '.join(self.order)}) VALUES ({marks})"
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.pg:
            return self.copy_cm.__exit__(exc_type, exc, tb)
        if exc_type is None:
            self._flush(1)
        return None

    def _at(self, row: int, count: int) -> None:
        if row != self.next_row:
            self.anchors.append((self.written + 1, row))
        self.written += count
        self.next_row = row + count

    def plain_block(self, block: bytes, text: str, row: int, count: int) -> None:
        """`count` plain lines (already checked), the first being file row `row`."""
        self._at(row, count)
        if self.pg:
            self.copy.write(block)
        else:
            self.pending.extend(line.split(",") for line in text.split("\n")[:-1])
            self._flush(STAGE_ROWS)

    def fields(self, fields: list[str], row: int) -> None:
        self._at(row, 1)
        if self.pg:
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerow(fields)
            self.copy.write(out.getvalue().encode())
        else:
            self.pending.append(fields)
            self._flush(STAGE_ROWS)

    def _flush(self, at_least: int) -> None:
        if len(self.pending) >= at_least:
            self.cursor.executemany(self.insert, self.pending)
            self.pending = []

    def row_of(self, seq: int) -> int:
        first_seq, first_row = self.anchors[bisect.bisect_right(self.anchors, (seq, 1 << 62)) - 1]
        return first_row + seq - first_seq


def _stage_positions(file, cursor, errors: list[RowError]) -> _Stage:
    """Stream the file into the staging table; problems of the file's shape (a line that is
    no CSV line of five fields) are added to `errors`."""
    reader = blocks(file)
    first = next(reader, None)
    if first is not None and b"\r" in first:
        first = first.replace(b"\r\n", b"\n")
    if first is None or not first.strip():
        raise ImportFileError(
            f"The file is empty. The first row must be the header {','.join(POSITION_COLUMNS)}."
        )
    text = decode(first, 1)
    header, _, text = text.partition("\n")
    at = header_positions(parse_line(header), POSITION_COLUMNS, joiner=",")
    order = tuple(name for _, name in sorted((i, n) for n, i in at.items()))
    good = _good_block(order)
    with _Stage(cursor, order) as stage:
        block, row = first[first.index(b"\n") + 1 :], 2
        while True:
            count = block.count(b"\n")
            if good.fullmatch(block):
                if count:
                    stage.plain_block(block, text, row, count)
            else:
                for offset, line in enumerate(text.split("\n")[:-1]):
                    _stage_line(stage, line, row + offset, errors)
                    if len(errors) >= MAX_ERRORS:
                        raise ImportRefused(errors[:MAX_ERRORS], truncated=True)
            row += count
            block = next(reader, None)
            if block is None:
                break
            if b"\r" in block:
                block = block.replace(b"\r\n", b"\n")
            text = decode(block, row)
    return stage


def _stage_line(stage: _Stage, line: str, row: int, errors: list[RowError]) -> None:
    """One line of a block that is not all good rows: skipped if blank, else its values are
    checked one by one (trimmed, an exporter's apostrophe dropped) and staged if good."""
    if _BLANK.fullmatch(line):
        return
    try:
        fields = next(csv.reader([line]))
    except csv.Error as exc:
        errors.append(RowError(row, "row", line[:80], f"is not a CSV line ({exc})"))
        return
    if len(fields) != len(POSITION_COLUMNS):
        errors.append(wrong_width(row, fields, len(POSITION_COLUMNS)))
        return
    cleaned, before = [], len(errors)
    for name, value in zip(stage.order, fields, strict=True):
        value = unneutralise(value.strip())
        cleaned.append(value)
        if _TEXT_VALUE[name].fullmatch(value):
            continue
        shown = value.replace("\x00", "")[:80]
        if not value:
            reason = "is empty"
        elif "\x00" in value:
            reason = "has a NUL byte"
        elif name == "month":
            reason = "is not a month: use YYYY-MM"
        elif name in ("balance", "revenue"):
            reason = "is negative" if value.startswith("-") else AMOUNT_REASON
        else:
            continue  # a code with a space or a quote in it: the lookup decides
        errors.append(RowError(row, name, shown, reason))
    if len(errors) == before:
        stage.fields(cleaned, row)


def _sql(pg: bool) -> dict[str, str]:
    """The few phrases PostgreSQL and SQLite say differently."""
    if pg:
        return {
            "month": "CAST(left(month, 7) || '-01' AS date)",
            "temp": "CREATE TEMP TABLE imp_rows ON COMMIT DROP AS",
            "c": 'COLLATE "C"',
        }
    return {
        "month": "(substr(month, 1, 7) || '-01')",
        "temp": "CREATE TEMP TABLE imp_rows AS",
        "c": "",
    }


def _check_and_write(cursor, stage: _Stage, errors: list[RowError], today) -> ImportResult:
    """Every staged row's values are well-formed (Python checked them): look up the
    account, the product and the current position in one scan, report what is unknown,
    in the future or twice in the file; then insert the new rows and update the changed."""
    pg = stage.pg
    q = _sql(pg)
    if pg:
        cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute(f"SELECT min(month {q['c']}), max(month {q['c']}) FROM imp_stage")
    first, last = (f"{m[:7]}-01" if m else None for m in cursor.fetchone())
    if pg and first:
        first, last = (datetime.date.fromisoformat(m) for m in (first, last))
    position = Position._meta.db_table
    # Only the positions of the file's months are looked at (a hash of those, or the
    # unique index), never the whole table.
    cursor.execute(
        f"""{q["temp"]}
        SELECT s.seq, s.month_on, s.balance, s.revenue, a.id AS account_id,
               p.id AS product_id, x.id AS position_id,
               CASE WHEN x.balance = s.balance AND x.revenue = s.revenue THEN 1 ELSE 0 END
                   AS same
        FROM (
            SELECT seq, account_number, product_code, {q["month"]} AS month_on, balance,
                   revenue
            FROM imp_stage
        ) s
        LEFT JOIN {Account._meta.db_table} a ON a.number = s.account_number
        LEFT JOIN accounts_product p ON p.code = s.product_code
        LEFT JOIN (SELECT * FROM {position} WHERE month BETWEEN %s AND %s) x
               ON x.account_id = a.id AND x.product_id = p.id AND x.month = s.month_on""",
        [first, last],
    )
    this_month = today.replace(day=1) if pg else today.replace(day=1).isoformat()
    cursor.execute(
        """SELECT count(*),
                  sum(CASE WHEN account_id IS NULL OR product_id IS NULL OR month_on > %s
                      THEN 1 ELSE 0 END),
                  sum(CASE WHEN position_id IS NULL THEN 1 ELSE 0 END), sum(same)
           FROM imp_rows""",
        [this_month],
    )
    total, bad_rows, new, same = (v or 0 for v in cursor.fetchone())
    if bad_rows:
        errors.extend(_value_errors(cursor, stage, this_month, MAX_ERRORS - len(errors)))
    # Two rows of the file on one position: for positions that exist, seen here (one
    # bigint key); for new ones, the unique constraint refuses the INSERT below.
    cursor.execute(
        "SELECT 1 FROM imp_rows WHERE position_id IS NOT NULL GROUP BY position_id "
        "HAVING count(*) > 1 LIMIT 1"
    )
    if errors or cursor.fetchone() is not None:
        errors.extend(_duplicates(cursor, stage, MAX_ERRORS - len(errors)))
    if errors:
        errors.sort(key=lambda e: e.row)
        raise ImportRefused(errors[:MAX_ERRORS], truncated=len(errors) >= MAX_ERRORS)
    if not total:
        raise ImportFileError("The file has a header but no positions.")
    if new:
        try:
            with transaction.atomic():
                cursor.execute(
                    f"""INSERT INTO {position} (account_id, product_id, month, balance, revenue)
                        SELECT account_id, product_id, month_on, balance, revenue
                        FROM imp_rows WHERE position_id IS NULL
                        ORDER BY account_id, product_id, month_on"""
                )
        except IntegrityError:
            repeated = _duplicates(cursor, stage, MAX_ERRORS)
            if not repeated:
                raise  # another import wrote them meanwhile
            raise ImportRefused(repeated, truncated=len(repeated) >= MAX_ERRORS) from None
    if total - new - same:
        cursor.execute(
            f"""UPDATE {position} SET balance = r.balance, revenue = r.revenue
                FROM imp_rows r WHERE {position}.id = r.position_id AND r.same = 0"""
        )
    return ImportResult(created=new, updated=total - new - same, unchanged=same)


def _value_errors(cursor, stage: _Stage, this_month, limit: int) -> list[RowError]:
    checks = [
        ("account_number", "r.account_id IS NULL", "no such account"),
        ("product_code", "r.product_id IS NULL", "no such product"),
        ("month", "r.month_on > %s", "is in the future"),
    ]
    parts = [
        f"SELECT r.seq, {i} AS k, s.{column} AS v FROM imp_rows r "
        f"JOIN imp_stage s ON s.seq = r.seq WHERE {where}"
        for i, (column, where, _reason) in enumerate(checks)
    ]
    cursor.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 2 LIMIT %s", [this_month, limit])
    return [
        RowError(stage.row_of(seq), checks[k][0], value[:80], checks[k][2])
        for seq, k, value in cursor.fetchall()
    ]


def _duplicates(cursor, stage: _Stage, limit: int) -> list[RowError]:
    """Rows that repeat an account, product and month of an earlier row."""
    key = "account_id, product_id, month_on"
    known = "account_id IS NOT NULL AND product_id IS NOT NULL AND month_on IS NOT NULL"
    if limit <= 0:
        return []
    cursor.execute(
        f"""SELECT d.seq, d.first, s.account_number, s.product_code, s.month FROM (
                SELECT seq, min(seq) OVER (PARTITION BY {key}) AS first
                FROM imp_rows WHERE {known}
            ) d JOIN imp_stage s ON s.seq = d.seq
            WHERE d.seq <> d.first ORDER BY d.seq LIMIT %s""",
        [limit],
    )
    return [
        RowError(
            stage.row_of(seq),
            "account_number",
            number,
            f"row {stage.row_of(first)} already has {product} for {month[:7]}",
        )
        for seq, first, number, product, month in cursor.fetchall()
    ]


def import_positions(
    file, *, by: User | None = None, today: datetime.date | None = None
) -> ImportResult:
    """Import month-end positions from a binary CSV (an upload, an open file, or an
    iterable of bytes). All or nothing: raises ImportFileError or ImportRefused and writes
    nothing, or upserts every row on (account, product, month) in one transaction. `by` is
    accepted for symmetry with the other imports (positions keep no history)."""
    today = today or timezone.localdate()
    errors: list[RowError] = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            stage = _stage_positions(file, cursor, errors)
            result = _check_and_write(cursor, stage, errors, today)
            cursor.execute("DROP TABLE imp_rows")
            cursor.execute("DROP TABLE imp_stage")
            return result
    except IntegrityError:
        raise ImportFileError(
            "Another import wrote some of these positions at the same moment; nothing of "
            "this file was imported. Import it again."
        ) from None


# --- positions: export ------------------------------------------------------------------------


def position_rows(month: datetime.date | None = None) -> Iterator[tuple]:
    """Positions as rows of the import's file (account number, product code, month as
    YYYY-MM-01, balance, revenue), by account number, product code and month."""
    positions = Position.objects.order_by("account__number", "product__code", "month")
    if month is not None:
        positions = positions.filter(month=month.replace(day=1))
    for number, code, on, balance, revenue in positions.values_list(
        "account__number", "product__code", "month", "balance", "revenue"
    ).iterator(chunk_size=10_000):
        yield number, code, on, money(balance), money(revenue)


def export_positions(out, month: datetime.date | None = None) -> int:
    """Write positions to the text stream `out` in the import's format (cells neutralised
    as every export's are); returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(POSITION_COLUMNS)
    n = 0
    for row in position_rows(month):
        writer.writerow([neutralise(v) for v in row])
        n += 1
    return n


# --- accounts ---------------------------------------------------------------------------------

ACCOUNT_COLUMNS = (
    "number",
    "name",
    "segment",
    "tier",
    "owner_username",
    "status",
    "opened_on",
    "closed_on",
    "lost_reason",
    "contract_until",
)
ACCOUNT_FIELDS = (
    "name",
    "segment_id",
    "tier_id",
    "owner_id",
    "status",
    "opened_on",
    "closed_on",
    "lost_reason",
    "contract_until",
)
ACCOUNT_BATCH = 1_000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STATUS = {
    **{value: value for value in AccountStatus.values},
    **{label.lower(): value for value, label in AccountStatus.choices},
}
_MAX = {
    "number": Account._meta.get_field("number").max_length,
    "name": Account._meta.get_field("name").max_length,
    "lost_reason": Account._meta.get_field("lost_reason").max_length,
}


@dataclass(frozen=True)
class _AccountRow:
    row: int
    number: str
    values: dict  # ACCOUNT_FIELDS → value


class _AccountLookups:
    """Segments, tiers and the people who may own accounts, loaded once."""

    def __init__(self, today: datetime.date):
        self.segments = {n.lower(): pk for pk, n in Segment.objects.values_list("pk", "name")}
        self.segment_names = sorted(Segment.objects.values_list("name", flat=True))
        self.tiers = {c.lower(): pk for pk, c in Tier.objects.values_list("pk", "code")}
        self.tier_codes = sorted(Tier.objects.values_list("code", flat=True))
        self.people = {
            username: (pk, role, active, departed)
            for pk, username, role, active, departed in User.objects.values_list(
                "pk", "username", "role", "is_active", "departed_on"
            )
        }
        self.today = today

    def owner(self, username: str) -> tuple[int | None, str]:
        """The user's pk if they may own accounts, else None and why not."""
        found = self.people.get(username)
        if found is None:
            return None, "no such user"
        pk, role, active, departed = found
        if role != Role.RM:
            return None, f"is not an RM ({Role(role).label.lower()})"
        if not active or (departed is not None and departed <= self.today):
            return None, "has left the bank"
        return pk, ""


def _account_date(row: int, name: str, text: str, errors: list[RowError]):
    if not text:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return datetime.date.fromisoformat(text)
    except ValueError:
        errors.append(RowError(row, name, text[:80], "is not a date: use YYYY-MM-DD"))
        return None


def _account_row(fields, row: int, at: dict[str, int], look: _AccountLookups, errors):
    """The row's values checked on their own, or None (every problem added to `errors`)."""
    if len(fields) != len(ACCOUNT_COLUMNS):
        errors.append(wrong_width(row, fields, len(ACCOUNT_COLUMNS)))
        return None
    value = {name: unneutralise(fields[i].strip()) for name, i in at.items()}
    before = len(errors)
    for name in ("number", "name", "segment", "tier", "owner_username", "status"):
        if not value[name]:
            errors.append(RowError(row, name, "", "is empty"))
    for name, limit in _MAX.items():
        if len(value[name]) > limit:
            errors.append(
                RowError(row, name, value[name][:40] + "…", f"longer than {limit} characters")
            )
    segment = look.segments.get(value["segment"].lower())
    if segment is None and value["segment"]:
        known = ", ".join(look.segment_names)
        errors.append(RowError(row, "segment", value["segment"], f"no such segment ({known})"))
    tier = look.tiers.get(value["tier"].lower())
    if tier is None and value["tier"]:
        known = ", ".join(look.tier_codes)
        errors.append(RowError(row, "tier", value["tier"], f"no such tier ({known})"))
    owner = None
    if value["owner_username"]:
        owner, why = look.owner(value["owner_username"])
        if owner is None:
            errors.append(RowError(row, "owner_username", value["owner_username"], why))
    status = _STATUS.get(value["status"].lower())
    if status is None and value["status"]:
        errors.append(
            RowError(row, "status", value["status"], f"use {', '.join(AccountStatus.values)}")
        )
    dates = {
        name: _account_date(row, name, value[name], errors)
        for name in ("opened_on", "closed_on", "contract_until")
    }
    if len(errors) > before:
        return None
    if dates["opened_on"] and dates["closed_on"] and dates["closed_on"] < dates["opened_on"]:
        errors.append(RowError(row, "closed_on", value["closed_on"], "is before opened_on"))
    if status in (AccountStatus.CLOSED, AccountStatus.LOST) and not dates["closed_on"]:
        errors.append(RowError(row, "closed_on", "", f"is empty: a {status} account has one"))
    if status == AccountStatus.LOST and not value["lost_reason"]:
        errors.append(RowError(row, "lost_reason", "", "is empty: say why the account was lost"))
    if len(errors) > before:
        return None
    return _AccountRow(
        row,
        value["number"],
        {
            "name": value["name"],
            "segment_id": segment,
            "tier_id": tier,
            "owner_id": owner,
            "status": status,
            "opened_on": dates["opened_on"],
            "closed_on": dates["closed_on"],
            "lost_reason": value["lost_reason"],
            "contract_until": dates["contract_until"],
        },
    )


class _AccountWriter:
    """Writes batches of good rows; counts; records history and hand-overs."""

    def __init__(self, by: User | None):
        self.by = by
        self.now = timezone.now()
        self.created = self.updated = self.unchanged = 0

    def write(self, rows: list[_AccountRow], errors: list[RowError]) -> None:
        existing = {
            a.number: a
            for a in Account.objects.select_for_update()
            .filter(number__in=[r.number for r in rows])
            .order_by("pk")
        }
        new, changed, moves = [], [], []
        for r in rows:
            account = existing.get(r.number)
            if account is None:
                new.append(Account(number=r.number, **r.values))
                continue
            if r.values["owner_id"] == account.covering_rm_id:
                errors.append(
                    RowError(
                        r.row,
                        "owner_username",
                        "",
                        "covers this account now: end the cover before making them its owner",
                    )
                )
                continue
            if all(getattr(account, f) == r.values[f] for f in ACCOUNT_FIELDS):
                self.unchanged += 1
                continue
            if account.owner_id != r.values["owner_id"]:
                moves.append(
                    OwnershipChange(
                        account=account,
                        previous_owner_id=account.owner_id,
                        new_owner_id=r.values["owner_id"],
                        changed_at=self.now,
                        changed_by=self.by,
                        reason=IMPORT_REASON,
                    )
                )
            for f in ACCOUNT_FIELDS:
                setattr(account, f, r.values[f])
            changed.append(account)
        if errors:
            return  # nothing will be kept: spare the writes, go on checking
        if new:
            bulk_create_with_history(
                new,
                Account,
                batch_size=500,
                default_user=self.by,
                default_change_reason=IMPORT_REASON,
            )
        if changed:
            bulk_update_with_history(
                changed,
                Account,
                list(ACCOUNT_FIELDS),
                batch_size=500,
                default_user=self.by,
                default_change_reason=IMPORT_REASON,
            )
        OwnershipChange.objects.bulk_create(moves, batch_size=500)
        self.created += len(new)
        self.updated += len(changed)


def import_accounts(
    file, *, by: User | None = None, today: datetime.date | None = None
) -> ImportResult:
    """Import accounts from a binary CSV (an upload, an open file, or an iterable of its
    lines as bytes). All or nothing: raises ImportFileError or ImportRefused and writes
    nothing, or upserts every row on the account number in one transaction, with history
    records by `by`; a new owner is an OwnershipChange, as every hand-over is."""
    look = _AccountLookups(today or timezone.localdate())
    errors: list[RowError] = []
    writer = _AccountWriter(by)
    try:
        with transaction.atomic():
            _read_accounts(file, look, writer, errors)
            if errors:
                errors.sort(key=lambda e: e.row)
                raise ImportRefused(errors[:MAX_ERRORS], truncated=len(errors) >= MAX_ERRORS)
    except IntegrityError:
        raise ImportFileError(
            "Another change to some of these accounts was saved at the same moment; nothing "
            "of this file was imported. Import it again."
        ) from None
    result = ImportResult(writer.created, writer.updated, writer.unchanged)
    if not result.rows:
        raise ImportFileError("The file has a header but no accounts.")
    return result


def _read_accounts(lines, look: _AccountLookups, writer: _AccountWriter, errors) -> None:
    reader = csv.reader(text_lines(lines))
    try:
        names = next(reader, None)
        if not names or not any(n.strip() for n in names):
            raise ImportFileError(
                f"The file is empty. The first row must be the header {','.join(ACCOUNT_COLUMNS)}."
            )
        at = header_positions(names, ACCOUNT_COLUMNS, joiner=",")
        seen: dict[str, int] = {}
        batch: list[_AccountRow] = []
        for row, fields in enumerate(reader, start=2):
            if not any(f.strip() for f in fields):
                continue
            parsed = _account_row(fields, row, at, look, errors)
            if parsed is not None:
                if parsed.number in seen:
                    errors.append(
                        RowError(
                            row, "number", parsed.number, f"already on row {seen[parsed.number]}"
                        )
                    )
                    continue
                seen[parsed.number] = row
                batch.append(parsed)
            if len(batch) >= ACCOUNT_BATCH:
                writer.write(batch, errors)
                batch = []
            if len(errors) >= MAX_ERRORS:
                raise ImportRefused(errors[:MAX_ERRORS], truncated=True)
        if batch:
            writer.write(batch, errors)
    except csv.Error as exc:
        raise ImportFileError(f"The file is not a readable CSV: {exc}.") from None
