"""The bank's starting weights for attrition risk (100 points in all); tuned in the admin."""

from decimal import Decimal

from django.db import migrations

# code, weight (points), threshold (the reason's own limit; see docs/retention.md)
FACTORS = [
    ("balance_decline", 25, Decimal("10")),  # % fall of the last 3 months against the year
    ("contract_expiry", 15, Decimal("12")),  # months until the contract or maturity date
    ("no_contact", 20, None),  # days: the tier's max_days_without_contact
    ("owner_departed", 20, None),
    ("low_ratings", 10, Decimal("60")),  # % of ratings good or excellent, last 3 months
    ("lost_renewal", 10, Decimal("12")),  # months back a renewal opportunity was lost
]


def add_factors(apps, schema_editor):
    RiskFactor = apps.get_model("retention", "RiskFactor")
    for code, weight, threshold in FACTORS:
        RiskFactor.objects.get_or_create(
            code=code, defaults={"weight": weight, "threshold": threshold}
        )


def remove_factors(apps, schema_editor):
    apps.get_model("retention", "RiskFactor").objects.filter(
        code__in=[code for code, *_ in FACTORS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_risk_departures_campaigns")]

    operations = [migrations.RunPython(add_factors, remove_factors)]
