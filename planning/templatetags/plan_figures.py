"""How a difference from plan reads: percentage points for a metric measured in %, a
signed figure in the metric's unit otherwise (docs/metrics.md, "Points, not a percent of a
percent"). For live lines, stored rows and the JSON of a check-in snapshot alike."""

from django import template

from coaching.templatetags.checkin_figures import signed
from salesmgmt import formatting

register = template.Library()


@register.filter
def points(value):
    """A difference in percentage points: +1.20 pp, minus 2.60 pp (a true minus sign)."""
    return formatting.points(value)


def _get(line, key):
    """A key of a snapshot line (a dict) or an attribute of a live line."""
    return line.get(key) if isinstance(line, dict) else getattr(line, key, None)


def _in_points(line) -> bool:
    unit = _get(line, "difference_unit")
    if unit is None:  # a snapshot frozen before the unit was recorded
        unit = "pp" if _get(line, "unit") == "percent" else _get(line, "unit")
    return unit == "pp"


@register.filter
def difference(line):
    """The line's difference from plan in its own terms."""
    if _in_points(line):
        return points(_get(line, "difference"))
    return signed(_get(line, "difference"), _get(line, "unit") or "")


@register.filter
def relative(line):
    """The line's difference as a percent of plan, only where that means something (money,
    counts, ratios); "—" for a metric measured in %."""
    if _in_points(line):
        return "—"
    return signed(_get(line, "percent"), "percent")


@register.filter
def decimal2(value):
    """A figure with 2 decimals and a true minus sign (U+2212); "—" for none."""
    return formatting.number(value, 2)


@register.filter
def unit_figure(value, unit=""):
    """A figure in its metric's unit, by the unit's code or its display ("%", "count")."""
    return formatting.figure(value, unit)


@register.filter
def signed_figure(value, unit=""):
    """A difference in its metric's unit with its sign: +3, minus 1,250 (unit code or display)."""
    return formatting.signed(value, unit)
