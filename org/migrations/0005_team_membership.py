import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F, Q

# The earliest day a membership can start when the person has no hired_on: before any plan
# year of the bank, so an RM without a hiring date counts for their team in every period.
EARLIEST = datetime.date(2000, 1, 1)

OVERLAP_SQL = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE org_teammembership ADD CONSTRAINT membership_no_overlap
EXCLUDE USING gist (user_id WITH =, daterange(started_on, ended_on, '[]') WITH &&);
"""


def no_overlap(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OVERLAP_SQL)


def drop_no_overlap(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE org_teammembership DROP CONSTRAINT IF EXISTS membership_no_overlap"
        )


def open_memberships(apps, schema_editor):
    """One open membership per person with a team today, from their hiring date."""
    User = apps.get_model("org", "User")
    TeamMembership = apps.get_model("org", "TeamMembership")
    TeamMembership.objects.bulk_create(
        TeamMembership(user_id=pk, team_id=team, started_on=hired or EARLIEST)
        for pk, team, hired in User.objects.filter(team__isnull=False).values_list(
            "pk", "team_id", "hired_on"
        )
    )


class Migration(migrations.Migration):
    dependencies = [("org", "0004_calendar_feed")]

    operations = [
        migrations.CreateModel(
            name="TeamMembership",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("started_on", models.DateField()),
                (
                    "ended_on",
                    models.DateField(
                        blank=True, help_text="Empty while still in the team.", null=True
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="memberships",
                        to="org.team",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["user", "started_on"],
                "constraints": [
                    models.CheckConstraint(
                        condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                        name="membership_ends_after_start",
                    ),
                    models.UniqueConstraint(
                        condition=Q(ended_on__isnull=True),
                        fields=("user",),
                        name="membership_one_open_per_user",
                    ),
                ],
            },
        ),
        migrations.RunPython(no_overlap, drop_no_overlap),
        migrations.RunPython(open_memberships, migrations.RunPython.noop),
    ]
