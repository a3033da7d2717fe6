from __future__ import annotations

from django.utils import timezone

from ..models import PlanYear


def current_plan_year() -> PlanYear | None:
    """The open year that contains today; else the latest open year; else None."""
    today = timezone.localdate()
    open_years = PlanYear.objects.filter(is_open=True)
    return (
        open_years.filter(starts_on__lte=today, ends_on__gte=today).first()
        or open_years.order_by("-year").first()
    )
