"""The nightly jobs' default schedules (django-celery-beat), in the bank's time zone.

Editable afterwards in the admin (Periodic tasks). Reversing removes these tasks (and their
crontabs when nothing else uses them). docs/jobs.md lists the jobs.
"""

from django.conf import settings
from django.db import migrations

# name, task, minute, hour, day of month
SCHEDULES = [
    ("Flightpath: forecast snapshots", "planning.tasks.snapshot_forecasts", "15", "0", "1"),
    ("Flightpath: plan versus actual", "planning.tasks.recompute_variances", "30", "1", "*"),
    ("Flightpath: attrition risk", "retention.tasks.score_risk", "30", "2", "*"),
    ("Flightpath: early warnings", "retention.tasks.compute_early_warnings", "0", "3", "*"),
    ("Flightpath: check-ins from cadences", "coaching.tasks.create_checkins", "0", "5", "*"),
    ("Flightpath: uncovered accounts", "retention.tasks.flag_uncovered", "0", "6", "*"),
    ("Flightpath: monthly report cards", "coaching.tasks.issue_report_cards", "0", "7", "2"),
    ("Flightpath: check-in reminders", "coaching.tasks.send_checkin_reminders", "*/15", "*", "*"),
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, hour, day in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=day,
            month_of_year="*",
            day_of_week="*",
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={"task": task, "crontab": crontab, "enabled": True, "kwargs": "{}"},
        )


def remove(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()
    CrontabSchedule.objects.filter(periodictask__isnull=True).filter(
        minute__in={s[2] for s in SCHEDULES}, hour__in={s[3] for s in SCHEDULES}
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0002_jobs_and_notifications"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
