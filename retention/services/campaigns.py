"""Sales campaigns and their prequalified lists (executives and administrators).

A campaign's goal is relationships, never one product: new relationships, the cross-sell
ratio, or a product *family*. Its prequalified list is built from a filter (set-based: one
SELECT of the matching ids, one bulk INSERT that skips what is already listed) or imported
from an MCIF / core-system CSV (`account_number,reason`), all or nothing with every bad
row reported — the house style of coaching.services.rating_import, whose generic pieces
(errors, report, decoding) are reused. See docs/campaigns.md.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.aggregates import Max
from django.utils import timezone

from accounts.models import Account, AccountStatus, Position, ProductFamily, Segment, Tier
from org.access import require_role
from org.models import Role, User
from salesmgmt import formatting
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
from salesmgmt.workflow import InvalidTransition

from ..models import Campaign, CampaignAccount

__all__ = [
    "COLUMNS",
    "ImportFileError",
    "ImportRefused",
    "ImportResult",
    "RowError",
    "campaign_create",
    "campaign_remove_account",
    "campaign_update",
    "error_report_rows",
    "latest_closed_month",
    "prequalified_from_filter",
    "prequalified_import",
]

COLUMNS = ("account_number", "reason")
MAX_REASON = CampaignAccount._meta.get_field("reason").max_length
BATCH = 500
MANAGERS = (Role.EXECUTIVE, Role.ADMIN)
# A cross-sell ratio above this is a typing slip (25 products per customer), not a goal.
MAX_RATIO = Decimal("25")


def _require_manager(user: User) -> None:
    """Campaigns are set up by executives and administrators: anyone else gets a 403."""
    require_role(user, *MANAGERS)


# --- the campaign ------------------------------------------------------------------------------


def _clean(
    *,
    name: str,
    starts_on: datetime.date | None,
    ends_on: datetime.date | None,
    goal: str,
    product_family: str,
    target_value,
    exclude_pk: int | None = None,
) -> dict:
    """The campaign's fields, checked together; every problem is named by its field."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Give the campaign a name."
    elif Campaign.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        errors["name"] = "Another campaign already has this name."
    if starts_on is None:
        errors["starts_on"] = "Say when the campaign starts."
    if ends_on is None:
        errors["ends_on"] = "Say when the campaign ends."
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = "The campaign cannot end before it starts."
    if goal not in Campaign.Goal.values:
        errors["goal"] = "Choose new relationships, the cross-sell ratio or a product family."
    family = (product_family or "").strip()
    if goal == Campaign.Goal.PRODUCT_FAMILY:
        if not family:
            errors["product_family"] = "A product-family goal needs the family."
        elif family not in ProductFamily.values:
            errors["product_family"] = "Choose a product family (never a single product)."
    else:
        family = ""  # only a family goal has a family
    try:
        target = Decimal(str(target_value)) if target_value not in (None, "") else None
    except InvalidOperation:
        target = None
    if target is None or not target.is_finite():
        errors["target_value"] = "Give the target as a number."
    elif target <= 0:
        errors["target_value"] = "The target must be more than zero."
    elif goal == Campaign.Goal.CROSS_SELL and target > MAX_RATIO:
        errors["target_value"] = (
            f"A cross-sell ratio is products per customer: at most {MAX_RATIO}."
        )
    elif goal in (Campaign.Goal.NEW_RELATIONSHIPS, Campaign.Goal.PRODUCT_FAMILY) and (
        target != target.to_integral_value()
    ):
        errors["target_value"] = "This goal counts accounts: give a whole number."
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "goal": goal,
        "product_family": family,
        "target_value": target.quantize(Decimal("0.01")),
    }


@transaction.atomic
def campaign_create(
    *,
    by: User,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    goal: str,
    target_value,
    product_family: str = "",
    description: str = "",
) -> Campaign:
    _require_manager(by)
    fields = _clean(
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        goal=goal,
        product_family=product_family,
        target_value=target_value,
    )
    campaign = Campaign(**fields, description=(description or "").strip(), created_by=by)
    campaign.full_clean()
    campaign.save()
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign_id: int,
    by: User,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    goal: str,
    target_value,
    product_family: str = "",
    description: str = "",
) -> Campaign:
    _require_manager(by)
    campaign = Campaign.objects.select_for_update(of=("self",)).get(pk=campaign_id)
    fields = _clean(
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        goal=goal,
        product_family=product_family,
        target_value=target_value,
        exclude_pk=campaign.pk,
    )
    for key, value in fields.items():
        setattr(campaign, key, value)
    campaign.description = (description or "").strip()
    campaign.full_clean()
    campaign.save()
    return campaign


def _locked_open_campaign(campaign_id: int, today: datetime.date) -> Campaign:
    """The campaign, locked so two list builds of it queue; a finished one is closed."""
    campaign = Campaign.objects.select_for_update(of=("self",)).get(pk=campaign_id)
    if campaign.ends_on < today:
        raise InvalidTransition(
            f"{campaign} ended on {formatting.date(campaign.ends_on)}; "
            "its list can no longer change."
        )
    return campaign


@transaction.atomic
def campaign_remove_account(
    *, campaign_id: int, account_id: int, by: User, today: datetime.date | None = None
) -> bool:
    """Take an account off the list; False when it was not on it."""
    _require_manager(by)
    _locked_open_campaign(campaign_id, today or timezone.localdate())
    deleted, _ = CampaignAccount.objects.filter(
        campaign_id=campaign_id, account_id=account_id
    ).delete()
    return bool(deleted)


# --- the list from a filter --------------------------------------------------------------------


def latest_closed_month() -> datetime.date | None:
    """The latest month the bank has positions for (first day); None before any. 1 query."""
    return Position.objects.aggregate(m=Max("month"))["m"]


def holds_family(family: str, month: datetime.date | None, account_ref="pk") -> Exists:
    """The account holds a product of `family` at `month`'s close: a position in it with a
    balance or revenue above zero. With no month, nobody holds anything."""
    return Exists(
        Position.objects.filter(
            Q(balance__gt=0) | Q(revenue__gt=0),
            account=OuterRef(account_ref),
            month=month,
            product__family=family,
        )
    )


def _filter_reason(segments, tiers, holds, lacks, month) -> str:
    label = dict(ProductFamily.choices)
    parts = []
    if segments:
        parts.append("segment " + " or ".join(segments))
    if tiers:
        parts.append("tier " + " or ".join(tiers))
    if holds:
        parts.append("holds " + " and ".join(label[f].lower() for f in holds))
    if lacks:
        parts.append("holds no " + " and no ".join(label[f].lower() for f in lacks))
    text = "Filter: active, " + "; ".join(parts) if parts else "Filter: every active account"
    if (holds or lacks) and month:
        text += f" (positions of {month:%b %Y})"
    return text[:MAX_REASON]


@transaction.atomic
def prequalified_from_filter(
    *,
    campaign_id: int,
    by: User,
    segment_ids: Sequence[int] | None = None,
    tier_codes: Sequence[str] | None = None,
    holds_families: Sequence[str] | None = None,
    lacks_families: Sequence[str] | None = None,
    today: datetime.date | None = None,
) -> int:
    """List every ACTIVE account matching the filter; returns how many were added.

    The criteria combine with AND; within segments or tiers any one matches; an account
    must hold every family of `holds_families` and none of `lacks_families` (positions with
    a balance or revenue above zero in the latest closed month). Accounts already on the
    list keep their entry, so building the same filter twice adds nothing.
    """
    _require_manager(by)
    campaign = _locked_open_campaign(campaign_id, today or timezone.localdate())
    segment_ids = sorted({int(s) for s in segment_ids or ()})
    tier_codes = sorted({t.strip().upper() for t in tier_codes or () if t.strip()})
    holds = sorted(set(holds_families or ()))
    lacks = sorted(set(lacks_families or ()))
    errors = {}
    if segment_ids:
        found = set(Segment.objects.filter(pk__in=segment_ids).values_list("pk", flat=True))
        if missing := [str(s) for s in segment_ids if s not in found]:
            errors["segment_ids"] = f"No such segment: {', '.join(missing)}."
    if tier_codes:
        found = set(Tier.objects.filter(code__in=tier_codes).values_list("code", flat=True))
        if missing := [t for t in tier_codes if t not in found]:
            errors["tier_codes"] = f"No such tier: {', '.join(missing)}."
    for key, families in (("holds_families", holds), ("lacks_families", lacks)):
        if bad := [f for f in families if f not in ProductFamily.values]:
            errors[key] = f"Not a product family: {', '.join(bad)}."
    if both := set(holds) & set(lacks):
        errors["lacks_families"] = (
            f"An account cannot both hold and lack {', '.join(sorted(both))}."
        )
    if errors:
        raise ValidationError(errors)

    month = latest_closed_month() if holds or lacks else None
    accounts = Account.objects.filter(status=AccountStatus.ACTIVE)
    if segment_ids:
        accounts = accounts.filter(segment_id__in=segment_ids)
    if tier_codes:
        accounts = accounts.filter(tier__code__in=tier_codes)
    for family in holds:
        accounts = accounts.filter(holds_family(family, month))
    for family in lacks:
        accounts = accounts.filter(~holds_family(family, month))
    accounts = accounts.exclude(
        Exists(CampaignAccount.objects.filter(campaign=campaign, account=OuterRef("pk")))
    )
    segment_names = list(
        Segment.objects.filter(pk__in=segment_ids).order_by("name").values_list("name", flat=True)
    )
    reason = _filter_reason(segment_names, tier_codes, holds, lacks, month)
    ids = list(accounts.order_by().values_list("pk", flat=True))
    CampaignAccount.objects.bulk_create(
        [
            CampaignAccount(
                campaign=campaign,
                account_id=pk,
                reason=reason,
                source=CampaignAccount.Source.FILTER,
            )
            for pk in ids
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    return len(ids)


# --- the list from a file ----------------------------------------------------------------------


def _header(names: list[str]) -> dict[str, int]:
    return header_positions(names, COLUMNS, joiner=",")


def _read(binary_lines: Iterable[bytes], errors: list[RowError]) -> list[tuple[int, str, str]]:
    """(row, account number, reason) of every row whose values are fine on their own."""
    reader = csv.reader(text_lines(binary_lines))
    rows = []
    try:
        names = next(reader, None)
        if not names:
            raise ImportFileError(
                f"The file is empty. The first row must be the header {','.join(COLUMNS)}."
            )
        at = _header(names)
        # Row numbers as a spreadsheet shows them: the header is row 1.
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
            number = fields[at["account_number"]].strip()
            reason = fields[at["reason"]].strip()
            ok = True
            if not number:
                errors.append(RowError(row, "account_number", "", "is empty"))
                ok = False
            if not reason:
                errors.append(RowError(row, "reason", "", "is empty: say why the account fits"))
                ok = False
            elif len(reason) > MAX_REASON:
                errors.append(
                    RowError(row, "reason", reason[:40] + "…", f"longer than {MAX_REASON}")
                )
                ok = False
            rows.append((row, number, reason, ok))
    except csv.Error as exc:
        raise ImportFileError(f"The file is not a readable CSV: {exc}.") from None
    return rows


def _resolve(rows, errors: list[RowError]) -> dict[int, str]:
    """Account id → reason for every good row; every problem is added to `errors`."""
    accounts = {}
    for chunk in chunked({number for _, number, _, _ in rows if number}, BATCH):
        for number, pk, status in Account.objects.filter(number__in=chunk).values_list(
            "number", "pk", "status"
        ):
            accounts[number] = (pk, status)
    resolved, seen = {}, {}
    for row, number, reason, ok in rows:
        if number:
            if number in seen:
                errors.append(
                    RowError(row, "account_number", number, f"already on row {seen[number]}")
                )
                continue
            seen[number] = row
        found = accounts.get(number)
        if number and found is None:
            errors.append(RowError(row, "account_number", number, "no such account"))
            continue
        if found and found[1] in (AccountStatus.CLOSED, AccountStatus.LOST):
            errors.append(
                RowError(
                    row,
                    "account_number",
                    number,
                    f"the account is {AccountStatus(found[1]).label.lower()}",
                )
            )
            continue
        if ok:
            resolved[found[0]] = reason
    return resolved


def prequalified_import(
    *, campaign_id: int, by: User, file: Iterable[bytes], today: datetime.date | None = None
) -> ImportResult:
    """Import a prequalified list from a binary CSV (an upload or an open file).

    All or nothing: raises ImportFileError (the file is not such a CSV) or ImportRefused
    (every bad row, nothing written); otherwise upserts on (campaign, account) in one
    transaction, so the same file twice changes nothing.
    """
    _require_manager(by)
    today = today or timezone.localdate()
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.ends_on < today:
        raise InvalidTransition(
            f"{campaign} ended on {formatting.date(campaign.ends_on)}; "
            "its list can no longer change."
        )
    errors: list[RowError] = []
    rows = _read(file, errors)
    resolved = _resolve(rows, errors)
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: e.row))
    if not resolved:
        raise ImportFileError("The file has a header but no accounts.")
    try:
        return _write(campaign_id, resolved, today)
    except IntegrityError:
        raise ImportFileError(
            "Another change to this list was saved at the same moment; nothing of this file "
            "was imported. Import it again."
        ) from None


@transaction.atomic
def _write(campaign_id: int, resolved: dict[int, str], today: datetime.date) -> ImportResult:
    _locked_open_campaign(campaign_id, today)
    existing = {}
    for chunk in chunked(resolved, BATCH):
        for entry in CampaignAccount.objects.filter(campaign_id=campaign_id, account_id__in=chunk):
            existing[entry.account_id] = entry
    new, changed, unchanged = [], [], 0
    for account_id, reason in resolved.items():
        entry = existing.get(account_id)
        if entry is None:
            new.append(
                CampaignAccount(
                    campaign_id=campaign_id,
                    account_id=account_id,
                    reason=reason,
                    source=CampaignAccount.Source.IMPORT,
                )
            )
        elif entry.reason != reason:
            entry.reason, entry.source = reason, CampaignAccount.Source.IMPORT
            changed.append(entry)
        else:
            unchanged += 1
    CampaignAccount.objects.bulk_create(new, batch_size=BATCH)
    CampaignAccount.objects.bulk_update(changed, ["reason", "source"], batch_size=BATCH)
    return ImportResult(created=len(new), updated=len(changed), unchanged=unchanged)
