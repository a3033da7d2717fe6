"""How money and change read on Flightpath's pages."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def money(value):
    """Whole currency units with thousands separators: 1234567.89 → 1,234,568."""
    if value is None or value == "":
        return "—"
    return intcomma(int(Decimal(value).quantize(Decimal("1"), rounding=ROUND_HALF_UP)))


@register.filter
def change(value):
    """A year-on-year change as a coloured, signed percentage; "—" where there is no base."""
    if value is None:
        return mark_safe('<span class="text-body-secondary">—</span>')
    pct = Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if pct > 0:
        return format_html(
            '<span class="text-success"><i class="bi bi-arrow-up-right" aria-hidden="true"></i> '
            "+{}&nbsp;%</span>",
            pct,
        )
    if pct < 0:
        return format_html(
            '<span class="text-danger"><i class="bi bi-arrow-down-right" aria-hidden="true"></i> '
            "{}&nbsp;%</span>",
            pct,
        )
    return mark_safe('<span class="text-body-secondary">0.0&nbsp;%</span>')
