"""Reading a check-in's figures in templates: the live dict and the stored snapshot hold
dates as ISO strings and numbers as decimal strings (JSON), so the same partials render
both."""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from coaching.selectors import checkins as selectors

register = template.Library()


@register.filter
def iso(value):
    """An ISO date or date-time string as a date / datetime ("" when there is none)."""
    if not value:
        return ""
    if isinstance(value, datetime.date):
        return value
    try:
        if "T" in value:
            return datetime.datetime.fromisoformat(value)
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return ""


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def figure(value, unit=""):
    """A plan-versus-actual figure in its unit: 4.25 %, 1,250,000, 2.50, 7."""
    number = _decimal(value)
    if number is None:
        return "—"
    if unit == "money":
        return intcomma(int(number.quantize(Decimal("1"), rounding=ROUND_HALF_UP)))
    places = Decimal("1") if unit == "count" and number == number.to_integral() else Decimal("0.01")
    text = f"{number.quantize(places, rounding=ROUND_HALF_UP):,}"
    return f"{text}\u00a0%" if unit == "percent" else text


@register.filter
def signed(value, unit=""):
    """A difference with its sign: +1.20 %, minus 3 (a true minus sign)."""
    number = _decimal(value)
    if number is None:
        return "—"
    text = figure(abs(number), unit)
    if number > 0:
        return f"+{text}"
    if number < 0:
        return f"\u2212{text}"
    return text


@register.filter
def checkin_name(checkin) -> str:
    """ "Weekly check-in", "Quarterly check-in", "Semi-annual review"."""
    return selectors.checkin_name(checkin)
