"""Reading a check-in's figures in templates: the live dict and the stored snapshot hold
dates as ISO strings and numbers as decimal strings (JSON), so the same partials render
both."""

import datetime

from django import template

from coaching.selectors import checkins as selectors
from salesmgmt import formatting

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


@register.filter
def figure(value, unit=""):
    """A plan-versus-actual figure in its unit: 4.25 %, 1,250,000, 2.50, 7."""
    return formatting.figure(value, unit)


@register.filter
def signed(value, unit=""):
    """A difference with its sign: +1.20 %, minus 3 (a true minus sign)."""
    return formatting.signed(value, unit)


@register.filter
def checkin_name(checkin) -> str:
    """ "Weekly check-in", "Quarterly check-in", "Semi-annual review"."""
    return selectors.checkin_name(checkin)
