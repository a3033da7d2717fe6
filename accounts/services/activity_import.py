"""Activities from a CRM export (CSV): all or nothing, every bad row reported
(docs/imports.md, docs/activities.md).

Columns (the header is required; any order): rm_username, account_number, kind, date,
status, outcome, next_step, next_step_due. `kind` is call / visit / meeting / review;
`status` done or planned (empty: done); dates YYYY-MM-DD. The rows obey the rules of an
activity logged on a page (accounts.services.activities.check_activity): a done activity is
not in the future, a plan has no outcome, a due date needs a next step; and the RM owns or
covers the account.

An activity is known by its RM, account, kind and date: importing the same file again
changes nothing, and a changed status, outcome or next step updates the activity (a done
activity is not made a plan again). Rows are written in bulk with their audit history.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from accounts.models import Account, Activity, ActivityKind, ActivityStatus
from org.models import Role, User
from salesmgmt.imports import (
    ImportFileError,
    ImportRefused,
    ImportResult,
    RowError,
    chunked,
    header_positions,
    text_lines,
    unneutralise,
)

from .activities import check_activity

COLUMNS = (
    "rm_username",
    "account_number",
    "kind",
    "date",
    "status",
    "outcome",
    "next_step",
    "next_step_due",
)
BATCH = 500
MAX_NEXT_STEP = Activity._meta.get_field("next_step").max_length
KINDS = {value for value, _ in ActivityKind.choices}
STATUSES = {value for value, _ in ActivityStatus.choices}
CHANGED = ("status", "outcome", "next_step", "next_step_due")


@dataclass
class _Row:
    row: int
    value: dict[str, str]
    date: datetime.date | None
    due: datetime.date | None


def _date(value: str, row: int, column: str, errors: list[RowError]) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        errors.append(RowError(row, column, value, "is not a date YYYY-MM-DD"))
        return None


def _read(binary_lines: Iterable[bytes], errors: list[RowError]) -> list[_Row]:
    reader = csv.reader(text_lines(binary_lines))
    rows = []
    try:
        names = next(reader, None)
        if not names:
            raise ImportFileError(
                f"The file is empty. The first row must be the header {', '.join(COLUMNS)}."
            )
        at = header_positions(names, COLUMNS)
        for row, fields in enumerate(reader, start=2):
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(COLUMNS):
                errors.append(
                    RowError(
                        row,
                        "row",
                        ",".join(fields)[:80],
                        f"has {len(fields)} fields, not {len(COLUMNS)}",
                    )
                )
                continue
            value = {name: unneutralise(fields[i].strip()) for name, i in at.items()}
            value["kind"] = value["kind"].lower()
            value["status"] = value["status"].lower() or ActivityStatus.DONE
            for name in ("rm_username", "account_number", "kind", "date"):
                if not value[name]:
                    errors.append(RowError(row, name, "", "is empty"))
            if value["kind"] and value["kind"] not in KINDS:
                errors.append(
                    RowError(row, "kind", value["kind"], f"use {', '.join(sorted(KINDS))}")
                )
            if value["status"] not in STATUSES:
                errors.append(RowError(row, "status", value["status"], "use done or planned"))
            if len(value["next_step"]) > MAX_NEXT_STEP:
                errors.append(
                    RowError(
                        row,
                        "next_step",
                        value["next_step"][:40] + "…",
                        f"longer than {MAX_NEXT_STEP}",
                    )
                )
            rows.append(
                _Row(
                    row,
                    value,
                    _date(value["date"], row, "date", errors),
                    _date(value["next_step_due"], row, "next_step_due", errors),
                )
            )
    except csv.Error as exc:
        raise ImportFileError(f"The file is not a readable CSV: {exc}.") from None
    return rows


def _lookups(rows: list[_Row]):
    accounts, people = {}, {}
    for chunk in chunked({r.value["account_number"] for r in rows}, BATCH):
        for a in Account.objects.filter(number__in=chunk).only(
            "pk", "number", "owner_id", "covering_rm_id"
        ):
            accounts[a.number] = a
    for chunk in chunked({r.value["rm_username"] for r in rows}, BATCH):
        for u in User.objects.filter(username__in=chunk).only("pk", "username", "role"):
            people[u.username] = u
    return accounts, people


def _resolve(rows: list[_Row], errors: list[RowError], today: datetime.date):
    """(row, unsaved Activity) for every good row; each problem goes to `errors`."""
    accounts, people = _lookups(rows)
    resolved, seen = [], {}
    for r in rows:
        before = len(errors)
        v = r.value
        account = accounts.get(v["account_number"])
        if account is None and v["account_number"]:
            errors.append(RowError(r.row, "account_number", v["account_number"], "no such account"))
        user = people.get(v["rm_username"])
        if user is None and v["rm_username"]:
            errors.append(RowError(r.row, "rm_username", v["rm_username"], "no such user"))
        elif user is not None and user.role != Role.RM:
            errors.append(RowError(r.row, "rm_username", v["rm_username"], "is not an RM"))
        elif (
            user is not None
            and account is not None
            and user.pk not in (account.owner_id, account.covering_rm_id)
        ):
            errors.append(
                RowError(
                    r.row,
                    "account_number",
                    v["account_number"],
                    f"{v['rm_username']} neither owns nor covers this account",
                )
            )
        activity = Activity(
            rm_id=user.pk if user else None,
            account_id=account.pk if account else None,
            kind=v["kind"],
            status=v["status"],
            date=r.date,
            outcome=v["outcome"],
            next_step=v["next_step"],
            next_step_due=r.due,
        )
        if v["status"] in STATUSES:
            try:
                # Imported plans may lie in the past (the CRM's diary): only the page asks
                # for a plan to be today or later.
                check_activity(activity, today=today, date_changed=False)
            except ValidationError as exc:
                for column, messages in exc.message_dict.items():
                    errors.append(RowError(r.row, column, v.get(column, ""), " ".join(messages)))
        if len(errors) > before:
            continue
        key = (user.pk, account.pk, activity.kind, activity.date)
        if key in seen:
            errors.append(
                RowError(
                    r.row,
                    "date",
                    v["date"],
                    f"row {seen[key]} already has this RM, account, kind and date",
                )
            )
            continue
        seen[key] = r.row
        resolved.append((r, activity))
    return resolved


def _existing(resolved) -> dict[tuple, Activity]:
    found: dict[tuple, Activity] = {}
    dates = {a.date for _, a in resolved}
    for chunk in chunked({a.account_id for _, a in resolved}, BATCH):
        for a in Activity.objects.filter(
            account_id__in=chunk, date__gte=min(dates), date__lte=max(dates)
        ).select_for_update():
            found.setdefault((a.rm_id, a.account_id, a.kind, a.date), a)
    return found


def import_activities(
    binary_lines: Iterable[bytes], *, by: User | None = None, today: datetime.date | None = None
) -> ImportResult:
    """Import activities from a binary file (an upload or an open file). All or nothing:
    raises ImportFileError or ImportRefused and writes nothing, or writes every row in one
    transaction."""
    errors: list[RowError] = []
    rows = _read(binary_lines, errors)
    resolved = _resolve(rows, errors, today or timezone.localdate())
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: e.row))
    if not resolved:
        raise ImportFileError("The file has a header but no activities.")
    return _write(resolved, by)


@transaction.atomic
def _write(resolved, by: User | None) -> ImportResult:
    existing = _existing(resolved)
    now = timezone.now()
    new, changed, unchanged = [], [], 0
    for _row, activity in resolved:
        current = existing.get((activity.rm_id, activity.account_id, activity.kind, activity.date))
        if current is None:
            new.append(activity)
            continue
        # A done activity stays done: the CRM's plan for it has happened.
        if current.status == ActivityStatus.DONE and activity.status == ActivityStatus.PLANNED:
            unchanged += 1
            continue
        if all(getattr(current, f) == getattr(activity, f) for f in CHANGED):
            unchanged += 1
            continue
        for f in CHANGED:
            setattr(current, f, getattr(activity, f))
        current.version += 1
        current.updated_at = now
        changed.append(current)
    reason = "CSV import"
    if new:
        bulk_create_with_history(
            new, Activity, batch_size=BATCH, default_user=by, default_change_reason=reason
        )
    if changed:
        bulk_update_with_history(
            changed,
            Activity,
            [*CHANGED, "version", "updated_at"],
            batch_size=BATCH,
            default_user=by,
            default_change_reason=reason,
        )
    return ImportResult(created=len(new), updated=len(changed), unchanged=unchanged)
