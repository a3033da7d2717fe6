"""The year's steering standards, set by executives: forecast accuracy, the relationship
metric, activity per RM style and the product mix.

One save writes them all in one transaction, validated, each row through `save()` so that
the audit history records who changed which value. A version token (the latest history
record of the year's steering standard, which every save writes) keeps two executives
from silently overwriting each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from org.models import Role, User
from salesmgmt.workflow import InvalidTransition, StaleEdit

from ..models import ActivityStandard, PlanYear, ProductMixStandard, SteeringStandard


@dataclass(frozen=True)
class ActivityInput:
    rm_style: str
    calls_per_week: Decimal
    visits_per_week: Decimal
    reviews_per_week: Decimal


@dataclass(frozen=True)
class StandardsInput:
    forecast_accuracy_pct: Decimal
    relationship_metric: str
    activity: list[ActivityInput]
    # family → target share %; None removes the family's standard.
    product_mix: dict[str, Decimal | None]


def may_set_standards(user: User) -> bool:
    """Executives set the standards; everyone else reads them."""
    return user.is_authenticated and user.role == Role.EXECUTIVE


def standards_version(plan_year: PlanYear) -> int:
    """A token that changes with every save of the year's standards (0: never saved)."""
    latest = (
        SteeringStandard.history.filter(plan_year_id=plan_year.pk)
        .order_by("-history_id")
        .values_list("history_id", flat=True)
        .first()
    )
    return latest or 0


def _save_if_changed(row, by: User, **values) -> bool:
    if row.pk and all(getattr(row, name) == value for name, value in values.items()):
        return False
    for name, value in values.items():
        setattr(row, name, value)
    row.full_clean(validate_unique=False, validate_constraints=False)
    row._history_user = by
    row.save()
    return True


@transaction.atomic
def standards_save(
    *, plan_year_id: int, by: User, data: StandardsInput, expected_version: int | None = None
) -> SteeringStandard:
    """Write the year's standards. Refuses non-executives (403), a closed year (409), a
    product mix above 100 % (ValidationError) and a stale form (409)."""
    if not may_set_standards(by):
        raise PermissionDenied("Only executives set the steering standards.")
    # The year's row is the lock that serialises two executives saving at once.
    plan_year = PlanYear.objects.select_for_update().get(pk=plan_year_id)
    if not plan_year.is_open:
        raise InvalidTransition(f"{plan_year} is closed: its standards can no longer change.")
    if expected_version is not None and expected_version != standards_version(plan_year):
        raise StaleEdit(
            "Someone saved these standards after you opened them. Your changes were not "
            "saved; here is what they look like now."
        )
    shares = [share for share in data.product_mix.values() if share is not None]
    if any(share < 0 for share in shares):
        raise ValidationError({"product_mix": "A product-mix share cannot be negative."})
    if (total := sum(shares, Decimal(0))) > 100:
        raise ValidationError(
            {"product_mix": f"The product-mix shares add up to {total} %, more than 100 %."}
        )
    weekly = [
        value
        for row in data.activity
        for value in (row.calls_per_week, row.visits_per_week, row.reviews_per_week)
    ]
    if any(value is None or value < 0 for value in weekly):
        raise ValidationError({"activity": "Activity per week is a number of 0 or more."})
    styles = [row.rm_style for row in data.activity]
    if len(styles) != len(set(styles)):
        raise ValidationError({"activity": "One activity standard per RM style."})

    steering = SteeringStandard.objects.filter(plan_year=plan_year).first() or SteeringStandard(
        plan_year=plan_year
    )
    # Always saved: the row names who set the standards last, and its history is the
    # version token.
    steering.forecast_accuracy_pct = data.forecast_accuracy_pct
    steering.relationship_metric = data.relationship_metric
    steering.updated_by = by
    steering.full_clean(validate_unique=False, validate_constraints=False)
    steering._history_user = by
    steering.save()

    activity = {row.rm_style: row for row in plan_year.activity_standards.all()}
    for given in data.activity:
        row = activity.get(given.rm_style) or ActivityStandard(
            plan_year=plan_year, rm_style=given.rm_style
        )
        _save_if_changed(
            row,
            by,
            calls_per_week=given.calls_per_week,
            visits_per_week=given.visits_per_week,
            reviews_per_week=given.reviews_per_week,
        )

    mix = {row.family: row for row in plan_year.product_mix_standards.all()}
    for family, share in data.product_mix.items():
        row = mix.get(family)
        if share is None:
            if row is not None:
                row._history_user = by
                row.delete()
            continue
        row = row or ProductMixStandard(plan_year=plan_year, family=family)
        _save_if_changed(row, by, target_share_pct=share)
    return steering
