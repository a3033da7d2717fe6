"""Customer ratings from a CSV file: all or nothing, every bad row reported.

Columns (the header is required; any order): account_number, rm_username, behaviour,
month, rating, comment. `behaviour` is a behaviour's name in the approved set of the plan
year the month falls in; `month` is YYYY-MM; `rating` is 1-5 or poor / fair / average /
good / excellent. The file is UTF-8 (a byte-order mark is fine) and comma-separated.

Every row is checked before anything is written. If any row is bad, nothing is written
and `ImportRefused.errors` names each bad row (row number as a spreadsheet shows it, the
header being row 1), column, value and reason. Otherwise each row is upserted on its
natural key (account, RM, behaviour, month, no contact), so importing the same file twice
changes nothing. A file that cannot be read as such a CSV at all (encoding, delimiter,
header) is refused with one `ImportFileError`. See docs/surveys.md; the generic pieces
(errors, report, decoding, header) are salesmgmt.imports', shared by every CSV import.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from accounts.models import Account
from accounts.selectors import month_start
from org.models import Role, User
from planning.models import PlanYear
from salesmgmt.imports import (
    ImportFileError,
    ImportRefused,
    ImportResult,
    RowError,
    chunked,
    error_report_rows,
    header_positions,
    text_lines,
)

from ..models import Behaviour, BehaviourSet, CustomerRating
from .surveys import MAX_COMMENT, parse_month

COLUMNS = ("account_number", "rm_username", "behaviour", "month", "rating", "comment")
WORDS = {label.lower(): value for value, label in CustomerRating.Score.choices}
BATCH = 500

__all__ = [
    "COLUMNS",
    "ImportFileError",
    "ImportRefused",
    "ImportResult",
    "RowError",
    "error_report_rows",
    "header_positions",
    "import_ratings",
]


# --- reading -------------------------------------------------------------------------------


def _header(names: list[str]) -> dict[str, int]:
    return header_positions(names, COLUMNS)


@dataclass
class _Row:
    row: int
    account_number: str
    rm_username: str
    behaviour: str
    month: datetime.date | None  # None: the month given is not a month
    rating: int | None
    comment: str
    ok: bool  # False: some value was already reported as bad


def _parse(fields: list[str], row: int, at: dict[str, int], errors: list[RowError]):
    """A row's values, checked on their own; bad ones are added to `errors`."""
    if len(fields) != len(COLUMNS):
        errors.append(
            RowError(row, "row", ",".join(fields)[:80], f"has {len(fields)} fields, not 6")
        )
        return None
    value = {name: fields[i].strip() for name, i in at.items()}
    before = len(errors)
    for name in ("account_number", "rm_username", "behaviour", "month", "rating"):
        if not value[name]:
            errors.append(RowError(row, name, "", "is empty"))
    month = rating = None
    if value["month"]:
        try:
            month = parse_month(value["month"])
        except ValueError as exc:
            errors.append(RowError(row, "month", value["month"], str(exc)))
    if value["rating"]:
        text = value["rating"].lower()
        rating = int(text) if text in {"1", "2", "3", "4", "5"} else WORDS.get(text)
        if rating is None:
            errors.append(
                RowError(row, "rating", value["rating"], f"use 1-5 or {', '.join(WORDS)}")
            )
    if len(value["comment"]) > MAX_COMMENT:
        errors.append(
            RowError(row, "comment", value["comment"][:40] + "…", f"longer than {MAX_COMMENT}")
        )
    return _Row(
        row,
        value["account_number"],
        value["rm_username"],
        value["behaviour"],
        month,
        rating,
        value["comment"],
        ok=len(errors) == before,
    )


def _read(binary_lines: Iterable[bytes], errors: list[RowError]) -> list[_Row]:
    reader = csv.reader(text_lines(binary_lines))
    try:
        names = next(reader, None)
        if not names:
            raise ImportFileError(
                f"The file is empty. The first row must be the header {', '.join(COLUMNS)}."
            )
        at = _header(names)
        rows = []
        # Row numbers as a spreadsheet shows them: the header is row 1.
        for row, fields in enumerate(reader, start=2):
            if not any(f.strip() for f in fields):
                continue
            parsed = _parse(fields, row, at, errors)
            if parsed is not None:  # None: the wrong number of fields
                rows.append(parsed)
    except csv.Error as exc:
        raise ImportFileError(f"The file is not a readable CSV: {exc}.") from None
    return rows


# --- resolving -----------------------------------------------------------------------------


def _lookups(rows: list[_Row]):
    accounts, people = {}, {}
    for chunk in chunked({r.account_number for r in rows}, BATCH):
        accounts.update(Account.objects.filter(number__in=chunk).values_list("number", "pk"))
    for chunk in chunked({r.rm_username for r in rows}, BATCH):
        for user in User.objects.filter(username__in=chunk).only("pk", "username", "role"):
            people[user.username] = user
    years = list(PlanYear.objects.all())
    approved = {
        bs.plan_year_id: bs
        for bs in BehaviourSet.objects.filter(status=BehaviourSet.Status.APPROVED)
    }
    behaviours, names = {}, {}
    for pk, name, year_id in Behaviour.objects.filter(
        behaviour_set__in=approved.values()
    ).values_list("pk", "name", "behaviour_set__plan_year_id"):
        behaviours[(year_id, name.lower())] = pk
        names.setdefault(year_id, []).append(name)
    return accounts, people, years, approved, behaviours, names


def _behaviour(r: _Row, errors, this_month, years, approved, behaviours, names) -> int | None:
    """The id of the row's behaviour in the approved set of its month's plan year, or None
    with the reason added to `errors` (nothing more is said of a month that is no month)."""
    if r.month is None:
        return None
    month_text = f"{r.month:%Y-%m}"
    year = next((y for y in years if y.starts_on <= r.month <= y.ends_on), None)
    if r.month > this_month:
        reason = "is in the future"
    elif year is None:
        reason = "no plan year contains it"
    elif not year.is_open:
        reason = f"{year} is closed"
    elif year.pk not in approved:
        reason = f"{year} has no approved RB behaviours"
    else:
        behaviour_id = behaviours.get((year.pk, r.behaviour.lower()))
        if behaviour_id is None and r.behaviour:
            known = ", ".join(names.get(year.pk, []))
            errors.append(
                RowError(r.row, "behaviour", r.behaviour, f"not a behaviour of {year} ({known})")
            )
        return behaviour_id
    errors.append(RowError(r.row, "month", month_text, reason))
    return None


def _resolve(rows: list[_Row], errors: list[RowError], today: datetime.date):
    """(row, account id, rm id, behaviour id) for every good row; every problem of every
    row (a row can have several) is added to `errors`."""
    accounts, people, years, approved, behaviours, names = _lookups(rows)
    this_month = month_start(today)
    resolved, seen = [], {}
    for r in rows:
        before = len(errors)
        account_id = accounts.get(r.account_number)
        if account_id is None and r.account_number:
            errors.append(RowError(r.row, "account_number", r.account_number, "no such account"))
        user = people.get(r.rm_username)
        if user is None and not r.rm_username:
            pass  # reported as empty
        elif user is None:
            errors.append(RowError(r.row, "rm_username", r.rm_username, "no such user"))
        elif user.role != Role.RM:
            errors.append(
                RowError(
                    r.row,
                    "rm_username",
                    r.rm_username,
                    f"is not an RM ({user.get_role_display().lower()})",
                )
            )
        behaviour_id = _behaviour(r, errors, this_month, years, approved, behaviours, names)
        if len(errors) > before or not r.ok:
            continue
        key = (account_id, user.pk, behaviour_id, r.month)
        if key in seen:
            errors.append(
                RowError(
                    r.row,
                    "behaviour",
                    r.behaviour,
                    f"row {seen[key]} already rates this account, RM, behaviour and month",
                )
            )
            continue
        seen[key] = r.row
        resolved.append((r, account_id, user.pk, behaviour_id))
    return resolved


# --- writing -------------------------------------------------------------------------------


def _existing(resolved) -> dict[tuple, CustomerRating]:
    months = {r.month for r, *_ in resolved}
    behaviour_ids = {b for *_, b in resolved}
    found = {}
    for chunk in chunked({a for _, a, _, _ in resolved}, BATCH):
        for rating in CustomerRating.objects.filter(
            contact__isnull=True,
            account_id__in=chunk,
            month__in=months,
            behaviour_id__in=behaviour_ids,
        ).select_for_update():
            found[(rating.account_id, rating.rm_id, rating.behaviour_id, rating.month)] = rating
    return found


def import_ratings(
    binary_lines: Iterable[bytes], *, by: User | None = None, today: datetime.date | None = None
) -> ImportResult:
    """Import ratings from a binary file (an upload or an open file: anything that yields
    its lines as bytes). All or nothing: raises ImportFileError or ImportRefused and writes
    nothing, or upserts every row in one transaction."""
    errors: list[RowError] = []
    rows = _read(binary_lines, errors)
    resolved = _resolve(rows, errors, today or timezone.localdate())
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: e.row))
    if not resolved:
        raise ImportFileError("The file has a header but no ratings.")
    try:
        return _write(resolved, by)
    except IntegrityError:
        raise ImportFileError(
            "Another import wrote some of these ratings at the same moment; nothing of this "
            "file was imported. Import it again."
        ) from None


@transaction.atomic
def _write(resolved, by: User | None) -> ImportResult:
    existing = _existing(resolved)
    new, changed, unchanged = [], [], 0
    for r, account_id, rm_id, behaviour_id in resolved:
        current = existing.get((account_id, rm_id, behaviour_id, r.month))
        if current is None:
            new.append(
                CustomerRating(
                    account_id=account_id,
                    rm_id=rm_id,
                    behaviour_id=behaviour_id,
                    month=r.month,
                    rating=r.rating,
                    comment=r.comment,
                    source=CustomerRating.Source.IMPORT,
                )
            )
        elif (current.rating, current.comment) != (r.rating, r.comment):
            current.rating, current.comment = r.rating, r.comment
            current.source = CustomerRating.Source.IMPORT
            changed.append(current)
        else:
            unchanged += 1
    reason = "CSV import"
    if new:
        bulk_create_with_history(
            new, CustomerRating, batch_size=BATCH, default_user=by, default_change_reason=reason
        )
    if changed:
        bulk_update_with_history(
            changed,
            CustomerRating,
            ["rating", "comment", "source"],
            batch_size=BATCH,
            default_user=by,
            default_change_reason=reason,
        )
    return ImportResult(created=len(new), updated=len(changed), unchanged=unchanged)
