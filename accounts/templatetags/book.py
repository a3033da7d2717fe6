"""How money and change read on Flightpath's pages."""

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from salesmgmt import formatting

register = template.Library()


@register.filter
def money(value, arg=""):
    """Whole currency units with thousands separators: 1234567.89 → 1,234,568; with
    `money:"currency"` the bank's currency after it (salesmgmt/formatting.py)."""
    return formatting.money(value, currency=arg == "currency")


@register.filter
def change(value):
    """A year-on-year change as a coloured, signed percentage; "—" where there is no base."""
    if value is None:
        return mark_safe('<span class="text-body-secondary">—</span>')
    plain = formatting.signed_percent(value, 1)
    # The page's own spelling of the space before "%" (tests and copy search for it).
    text = mark_safe(escape(plain).replace(formatting.NBSP, "&nbsp;"))
    if plain.startswith("+"):
        return format_html(
            '<span class="text-success"><i class="bi bi-arrow-up-right" aria-hidden="true"></i> '
            "{}</span>",
            text,
        )
    if plain.startswith(formatting.MINUS):
        return format_html(
            '<span class="text-danger"><i class="bi bi-arrow-down-right" aria-hidden="true"></i> '
            "{}</span>",
            text,
        )
    return format_html('<span class="text-body-secondary">{}</span>', text)


@register.filter
def count(value):
    """A count: 10, not 10.0 (salesmgmt/formatting.py)."""
    return formatting.count(value)


@register.filter
def percent(value, places=2):
    """A percentage with a fixed number of decimals: 4.25 %."""
    return formatting.percent(value, int(places))


@register.filter
def day(value, fmt="DATE_FORMAT"):
    """A date in the bank's one format (salesmgmt/formats/): 4 Dec 2026."""
    return formatting.date(value, fmt)
