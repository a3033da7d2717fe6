"""How every figure is printed: pages, check-in snapshots, e-mails and the words of the
demo (docs/metrics.md, "How numbers are printed"). One place, built on Django's
localisation (`django.utils.formats.number_format` and the formats module of
LANGUAGE_CODE, salesmgmt/formats/), so a bank in another locale changes one setting.

The template filters (accounts/templatetags/book.py, coaching's checkin_figures,
planning's plan_figures) delegate here. Exports do not: they are for machines (plain
numbers in CSV, typed cells in Excel; salesmgmt/exports.py)."""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils import formats

MINUS = "\u2212"
NBSP = "\u00a0"
NONE = "—"

# Decimals a figure is printed with, by the metric's unit (planning.models.Metric.Unit):
# percentages and ratios to two places, money in whole units, counts whole where they are
# whole and to two places where they are not (an average of 2.50 calls a week).
UNIT_PLACES = {"percent": 2, "ratio": 2, "money": 0, "count": 0}
# A unit as the catalogue displays it ("%") or as it is stored ("percent").
UNIT_CODES = {"%": "percent"}


def decimal(value) -> Decimal | None:
    """The value as a Decimal; None for none, "" or what is not a number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def number(value, places: int) -> str:
    """The value rounded half up to `places` decimals, grouped in thousands by the locale,
    with a true minus sign: 1234567.891 → 1,234,567.89; -3 → minus 3; 1E+1 → 10."""
    num = decimal(value)
    if num is None:
        return NONE
    num = num.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if num == 0:
        num = abs(num)  # no "minus 0.00"
    text = formats.number_format(num, decimal_pos=places, use_l10n=True, force_grouping=True)
    return MINUS + text[1:] if text.startswith("-") else text


def count(value) -> str:
    """A count: whole where it is whole (10, not 10.0), two decimals where it is not (2.50)."""
    num = decimal(value)
    if num is None:
        return NONE
    return number(num, 0 if num == num.to_integral_value() else 2)


def money(value, currency: bool = False) -> str:
    """An amount in whole currency units: 1,234,568; with the bank's currency (BANK_CURRENCY)
    where the figure stands alone: 1,234,568 EUR."""
    text = number(value, 0)
    if currency and text != NONE:
        return f"{text}{NBSP}{settings.BANK_CURRENCY}"
    return text


def percent(value, places: int = UNIT_PLACES["percent"]) -> str:
    """A percentage with a fixed number of decimals: 4.25 %."""
    text = number(value, places)
    return text if text == NONE else f"{text}{NBSP}%"


def points(value, places: int = 2) -> str:
    """A difference in percentage points, always signed: +1.20 pp, minus 2.60 pp."""
    return _signed(value, lambda magnitude: f"{number(magnitude, places)}{NBSP}pp")


def figure(value, unit: str = "") -> str:
    """A figure in its metric's unit: 4.25 %, 1,250,000, 2.50, 7."""
    unit = UNIT_CODES.get(unit, unit)
    if unit == "money":
        return money(value)
    if unit == "percent":
        return percent(value)
    if unit == "count":
        return count(value)
    return number(value, UNIT_PLACES["ratio"])


def signed(value, unit: str = "") -> str:
    """A difference with its sign: +1.20 %, minus 3, 0 (no sign for nothing)."""
    return _signed(value, lambda magnitude: figure(magnitude, unit))


def signed_percent(value, places: int = 1) -> str:
    """A change as a signed percentage: +4.3 %, minus 2.0 %."""
    return _signed(value, lambda magnitude: percent(magnitude, places))


def _signed(value, fmt) -> str:
    num = decimal(value)
    if num is None:
        return NONE
    text = fmt(abs(num))
    # The sign of what is printed, not of the raw value: -0.004 printed to two places is 0.
    if not any(digit in text for digit in "123456789"):
        return text
    return f"+{text}" if num > 0 else f"{MINUS}{text}"


def date(value, fmt: str = "DATE_FORMAT") -> str:
    """A date in the locale's one format: 4 Dec 2026 (a named format, e.g. "YEAR_MONTH_FORMAT")."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return formats.date_format(value, fmt)
