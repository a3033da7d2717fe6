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

    def leads(self, person: "User") -> bool:
        """Whether this user is the leader of `person`'s team (loads person.team)."""
        return (
            self.role == Role.LEADER
            and person.team_id is not None
            and person.team.leader_id == self.pk
        )


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


class TeamMembership(models.Model):
    """Which team an RM was in, from when to when (both days included). Team figures for a
    month count the RMs who were in the team at that month's end (docs/metrics.md "Team
    membership over time"). Written only by `org.services.team_move`; `User.team` is the
    open membership's team."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="memberships")
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True, help_text="Empty while still in the team.")

    class Meta:
        ordering = ["user", "started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="membership_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(ended_on__isnull=True),
                name="membership_one_open_per_user",
            ),
            # Overlapping periods are refused by an exclusion constraint on PostgreSQL
            # (migration 0005, raw SQL: SQLite cannot express it) and by clean().
        ]

    def __str__(self):
        return f"{self.user} in {self.team} from {self.started_on} to {self.ended_on or '…'}"

    def clean(self):
        overlapping = TeamMembership.objects.filter(user_id=self.user_id).exclude(pk=self.pk)
        overlapping = overlapping.filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=self.started_on)
        )
        if self.ended_on is not None:
            overlapping = overlapping.filter(started_on__lte=self.ended_on)
        if overlapping.exists():
            from django.core.exceptions import ValidationError

            raise ValidationError("This membership overlaps another of the same person.")


# --- operations: jobs and notifications ------------------------------------------------------


class JobRun(models.Model):
    """One run of a background job: what administrators look at the next morning."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run held the lock)"

    job = models.CharField(max_length=60, db_index=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    rows = models.PositiveIntegerField("rows affected", null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    error = models.TextField(blank=True)
    triggered_by = models.CharField(
        max_length=40, blank=True, help_text="celery, command, or the user who started it."
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["job", "-started_at"], name="jobrun_job_started")]

    def __str__(self):
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"


class Notification(models.Model):
    """A message in a person's in-app inbox (the bell). `key` makes each one exactly once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(
        max_length=120, help_text="What this notification is about, unique per person."
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key"),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self):
        return self.subject


class CalendarFeed(models.Model):
    """A person's private iCalendar feed: the token in the URL is the only key, so the
    person can reset it (a new token) when the link has gone where it should not."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Calendar feed of {self.user}"
