"""How Flightpath prints numbers and dates in English (docs/metrics.md, "How numbers are
printed"). A bank in another locale sets LANGUAGE_CODE and, where Django's own formats for
that language do not suit, adds salesmgmt/formats/<lang>/formats.py beside this one."""

# 4 Dec 2026: day first, month in words, no comma; the same on every page and e-mail.
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "F Y"
# A typed date: ISO first (what the browser's date input sends), then the printed form.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d %b %Y", "%d/%m/%Y"]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
