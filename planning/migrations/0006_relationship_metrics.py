"""The catalogue gets the metrics behind each relationship-metric choice of the standards
(docs/metrics.md, "The relationship metric"): revenue growth, balance-weighted retention
and the average customer rating. Products per relationship is the cross-sell ratio."""

from django.db import migrations

METRICS = [
    # code, name, unit, direction, category, position
    (
        "revenue_growth",
        "Revenue growth % (on the same months last year)",
        "percent",
        "higher",
        "growth",
        95,
    ),
    ("balance_retention", "Balance-weighted retention %", "percent", "higher", "retention", 45),
    ("customer_rating", "Average customer rating (1-5)", "ratio", "higher", "retention", 65),
]


def add_metrics(apps, schema_editor):
    Metric = apps.get_model("planning", "Metric")
    for code, name, unit, direction, category, position in METRICS:
        Metric.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "direction": direction,
                "category": category,
                "position": position,
                "description": f"See docs/metrics.md#{code.replace('_', '-')}.",
            },
        )


def remove_metrics(apps, schema_editor):
    Metric = apps.get_model("planning", "Metric")
    Metric.objects.filter(code__in=[m[0] for m in METRICS]).delete()


class Migration(migrations.Migration):
    dependencies = [("planning", "0005_steering_standard_category")]

    operations = [migrations.RunPython(add_metrics, remove_metrics)]
