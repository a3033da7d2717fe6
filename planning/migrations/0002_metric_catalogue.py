"""The metric catalogue: reference data every target line points at.

Meanings (how each actual is computed) are in docs/metrics.md. Administrators can edit
names and descriptions in the admin; the codes are what the variance job keys on.
"""

from django.db import migrations

METRICS = [
    # code, name, unit, direction, category
    ("loan_growth", "Loan balance growth %", "percent", "higher", "growth"),
    ("deposit_growth", "Deposit (DDA) balance growth %", "percent", "higher", "growth"),
    ("tier_a_retention", "Retention of tier-A accounts %", "percent", "higher", "retention"),
    ("retention", "Overall retention %", "percent", "higher", "retention"),
    ("new_relationships", "New relationships", "count", "higher", "growth"),
    (
        "cross_sell_ratio",
        "Cross-sell ratio (products per relationship)",
        "ratio",
        "higher",
        "growth",
    ),
    ("activities_per_week", "Activities per week", "count", "higher", "retention"),
    ("product_mix_share", "Product-mix share %", "percent", "higher", "growth"),
    ("forecast_accuracy", "Forecast accuracy %", "percent", "higher", "retention"),
]


def add_metrics(apps, schema_editor):
    Metric = apps.get_model("planning", "Metric")
    for position, (code, name, unit, direction, category) in enumerate(METRICS, start=1):
        Metric.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "direction": direction,
                "category": category,
                "position": position * 10,
                "description": f"See docs/metrics.md#{code.replace('_', '-')}.",
            },
        )


def remove_metrics(apps, schema_editor):
    Metric = apps.get_model("planning", "Metric")
    Metric.objects.filter(code__in=[m[0] for m in METRICS]).delete()


class Migration(migrations.Migration):
    dependencies = [("planning", "0001_initial")]

    operations = [migrations.RunPython(add_metrics, remove_metrics)]
