"""People and structure: who works in the sales force, in which team, in which role."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords


class Role(models.TextChoices):
    RM = "rm", "Relationship manager"
    LEADER = "leader", "Team leader"
    EXECUTIVE = "executive", "Executive"
    ADMIN = "admin", "Administrator"


class RmStyle(models.TextChoices):
    """How an RM sells: hunting new relationships, minding the book, or both."""

    FINDER = "finder", "Finder"
    MINDER = "minder", "Minder"
    BOTH = "both", "Finder and minder"


class Market(models.TextChoices):
    SMALL_BUSINESS = "small_business", "Small business"
    COMMERCIAL = "commercial", "Commercial"
    CORPORATE = "corporate", "Corporate"


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.RM, db_index=True)
    rm_style = models.CharField(
        "RM style", max_length=8, choices=RmStyle.choices, blank=True, help_text="RMs only."
    )
    team = models.ForeignKey(
        "org.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        help_text="The team this RM belongs to. Leaders lead a team through Team.leader.",
    )
    hired_on = models.DateField(null=True, blank=True)
    notice_given_on = models.DateField(null=True, blank=True)
    departed_on = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(departed_on__isnull=True)
                | Q(hired_on__isnull=True)
                | Q(departed_on__gte=F("hired_on")),
                name="user_departed_after_hired",
            ),
            models.CheckConstraint(
                condition=Q(notice_given_on__isnull=True)
                | Q(hired_on__isnull=True)
                | Q(notice_given_on__gte=F("hired_on")),
                name="user_notice_after_hired",
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_rm(self):
        return self.role == Role.RM

    @property
    def is_leader(self):
        return self.role == Role.LEADER

    @property
    def is_executive(self):
        return self.role == Role.EXECUTIVE

    @property
    def is_administrator(self):
        return self.role == Role.ADMIN or self.is_superuser


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    market = models.CharField(max_length=20, choices=Market.choices)
    leader = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_teams",
        limit_choices_to={"role": Role.LEADER},
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:team", args=[self.pk])
