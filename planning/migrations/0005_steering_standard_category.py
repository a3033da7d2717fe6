"""The metric catalogue gets a third category, "steering standard": forecast accuracy and
activities per week measure how the work is done, neither growth nor retention, and leave
the growth / retention balance (docs/metrics.md, "Steering standards")."""

from django.db import migrations, models

STEERING = ("activities_per_week", "forecast_accuracy")


def to_steering(apps, schema_editor):
    Metric = apps.get_model("planning", "Metric")
    Metric.objects.filter(code__in=STEERING).update(category="steering")


def back_to_retention(apps, schema_editor):
    Metric = apps.get_model("planning", "Metric")
    Metric.objects.filter(code__in=STEERING).update(category="retention")


class Migration(migrations.Migration):
    dependencies = [("planning", "0004_forecast_submissions")]

    operations = [
        migrations.AlterField(
            model_name="metric",
            name="category",
            field=models.CharField(
                choices=[
                    ("growth", "Growth"),
                    ("retention", "Retention"),
                    ("steering", "Steering standard"),
                ],
                max_length=10,
            ),
        ),
        migrations.RunPython(to_steering, back_to_retention),
    ]
