"""Coaching: the check-ins where plan meets actual, and the customers' RB report card.

Check-ins: a team's `Cadence` says when its leader meets each RM; `CheckIn` is one such
conversation, `Commitment` an action item agreed in it, `LineRating` the formal review's
rating of a target line. The report card: `BehaviourSet` (the year's relationship-building
behaviours, signed off with four eyes), `Behaviour`, `CustomerContact`,
`SurveyInvitation` (the signed, once-only link a customer rates with), `CustomerRating`
and the RM's `ImprovementPlan` for a behaviour below its objective.
"""

import datetime
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from salesmgmt import formatting

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


# --- check-ins -----------------------------------------------------------------------------


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"


class Cadence(models.Model):
    """When a team's leader meets each of the team's RMs.

    Weekly: on `weekly_day` at `weekly_time`. After each month-end, on `monthly_day` of the
    next month at `monthly_time`, one review of the month just closed: a semi-annual review
    after June and December, a quarterly one after March and September, a monthly one
    otherwise (the larger conversation covers the smaller; see docs/checkins.md).
    """

    team = models.OneToOneField("org.Team", on_delete=models.CASCADE, related_name="cadence")
    weekly = models.BooleanField(default=True)
    weekly_day = models.PositiveSmallIntegerField(choices=Weekday.choices, default=Weekday.MONDAY)
    weekly_time = models.TimeField(default=datetime.time(9, 0))
    monthly = models.BooleanField(default=True)
    quarterly = models.BooleanField(default=True)
    semi_annual = models.BooleanField("semi-annual review", default=True)
    monthly_day = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="Day of the month (1-28) the review of the month just closed is held.",
    )
    monthly_time = models.TimeField(default=datetime.time(14, 0))
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    horizon_days = models.PositiveSmallIntegerField(
        default=35,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="How far ahead check-ins are created.",
    )

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_day__gte=1) & Q(monthly_day__lte=28),
                name="cadence_monthly_day_1_28",
            ),
            models.CheckConstraint(condition=Q(weekly_day__lte=4), name="cadence_weekday"),
        ]

    def __str__(self):
        return f"Cadence of {self.team}"


class CheckIn(models.Model):
    class Kind(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        SEMI_ANNUAL = "semi_annual", "Semi-annual review"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    class Rating(models.IntegerChoices):
        UNSATISFACTORY = 1, "Unsatisfactory"
        NEEDS_IMPROVEMENT = 2, "Needs improvement"
        MEETS = 3, "Meets expectations"
        EXCEEDS = 4, "Exceeds expectations"
        OUTSTANDING = 5, "Outstanding"

    OPEN = (Status.SCHEDULED, Status.IN_PROGRESS)
    # The notes each kind of conversation has (docs/checkins.md).
    NOTES = {
        Kind.WEEKLY: ("deals_notes", "activity_notes", "field_observation", "behaviours_skills"),
        Kind.MONTHLY: ("progress_notes", "course_corrections", "surprises", "surprise_response"),
        Kind.QUARTERLY: ("progress_notes", "course_corrections", "surprises", "surprise_response"),
        Kind.SEMI_ANNUAL: ("progress_notes", "review_summary"),
    }

    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="checkins",
        verbose_name="RM",
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_checkins"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    scheduled_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)

    # weekly
    deals_notes = models.TextField("deals", blank=True)
    activity_notes = models.TextField("activities against the standard", blank=True)
    field_observation = models.TextField(blank=True)
    behaviours_skills = models.TextField("behaviours and skills", blank=True)
    # monthly, quarterly (and the review's progress)
    progress_notes = models.TextField("progress against the plan", blank=True)
    course_corrections = models.TextField("course corrections for the next period", blank=True)
    surprises = models.TextField("surprises (unexpected requests)", blank=True)
    surprise_response = models.TextField("planned response", blank=True)
    # semi-annual review
    review_summary = models.TextField("review summary", blank=True)
    rb_rating = models.PositiveSmallIntegerField(
        "RB competency rating", choices=Rating.choices, null=True, blank=True
    )
    overall_rating = models.PositiveSmallIntegerField(choices=Rating.choices, null=True, blank=True)

    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The figures shown when the check-in was completed; never rewritten afterwards.
    snapshot = models.JSONField(null=True, blank=True, editable=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    rm_comment = models.TextField("RM's comment", blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    # Optimistic lock: every save of the notes compares and increments it.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["scheduled_at", "rm"]
        constraints = [
            models.UniqueConstraint(
                fields=["rm", "kind", "period_start"], name="checkin_one_per_rm_kind_period"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="checkin_period_order"
            ),
            models.CheckConstraint(
                condition=~Q(status="completed")
                | (Q(completed_at__isnull=False) & Q(snapshot__isnull=False)),
                name="checkin_completed_has_snapshot",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(status="completed"),
                name="checkin_acknowledged_only_completed",
            ),
            models.CheckConstraint(condition=~Q(leader=F("rm")), name="checkin_leader_is_not_rm"),
        ]
        indexes = [
            models.Index(fields=["leader", "scheduled_at"], name="checkin_leader_when"),
            models.Index(fields=["rm", "scheduled_at"], name="checkin_rm_when"),
            models.Index(fields=["status", "scheduled_at"], name="checkin_status_when"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} check-in of {self.rm}, {self.period_label}"

    def get_absolute_url(self):
        return reverse("coaching:checkin", args=[self.pk])

    @property
    def period_label(self) -> str:
        if self.kind == self.Kind.WEEKLY:
            return f"week of {formatting.date(self.period_start)}"
        if self.kind == self.Kind.MONTHLY:
            return f"{self.period_start:%B %Y}"
        if self.kind == self.Kind.QUARTERLY:
            return f"Q{(self.period_start.month - 1) // 3 + 1} {self.period_start.year}"
        half = 1 if self.period_start.month <= 6 else 2
        return f"H{half} {self.period_start.year}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_completed(self) -> bool:
        return self.status == self.Status.COMPLETED

    @property
    def note_fields(self) -> tuple[str, ...]:
        return self.NOTES[self.kind]


class LineRating(models.Model):
    """The semi-annual review's rating of one of the RM's target lines."""

    checkin = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="line_ratings")
    metric = models.ForeignKey("planning.Metric", on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(choices=CheckIn.Rating.choices)
    comment = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["checkin", "metric__position"]
        constraints = [
            models.UniqueConstraint(fields=["checkin", "metric"], name="linerating_once"),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="linerating_1_5"
            ),
        ]

    def __str__(self):
        return f"{self.metric}: {self.get_rating_display()}"


class Commitment(models.Model):
    """An action item agreed in a check-in; open ones carry into the next one."""

    checkin = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="commitments")
    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="coaching_commitments",
        verbose_name="RM",
        help_text="The RM whose check-ins it belongs to (copied from the check-in).",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_commitments",
        help_text="Who will do it: the RM or the leader.",
    )
    text = models.CharField(max_length=500)
    due_on = models.DateField()
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["done", "due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done=False, done_at__isnull=True) | Q(done=True, done_at__isnull=False),
                name="commitment_done_has_date",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="commitment_has_text"),
        ]
        indexes = [models.Index(fields=["rm", "done"], name="commitment_rm_done")]

    def __str__(self):
        return self.text


# --- the RB report card --------------------------------------------------------------------


class BehaviourSet(models.Model):
    """The year's relationship-building behaviours and objectives, signed off with four eyes.

    Written by an executive or an administrator while draft or returned; proposed; approved
    or returned by an executive who neither proposed nor last edited it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROPOSED = "proposed", "Proposed"
        RETURNED = "returned", "Returned"
        APPROVED = "approved", "Approved"

    EDITABLE = (Status.DRAFT, Status.RETURNED)

    plan_year = models.OneToOneField(
        "planning.PlanYear", on_delete=models.PROTECT, related_name="behaviour_set"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    min_ratings_for_ranking = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1)],
        help_text="Most improved: an RM needs at least this many ratings in both periods.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-plan_year__year"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="approved")
                | (
                    Q(decided_by__isnull=False)
                    & ~Q(decided_by=F("proposed_by"))
                    & ~Q(decided_by=F("last_edited_by"))
                ),
                name="behaviourset_four_eyes",
            ),
        ]

    def __str__(self):
        return f"RB behaviours {self.plan_year}"

    def get_absolute_url(self):
        return reverse("coaching:behaviours", args=[self.plan_year.year])

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class Behaviour(models.Model):
    behaviour_set = models.ForeignKey(
        BehaviourSet, on_delete=models.CASCADE, related_name="behaviours"
    )
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    weight = models.PositiveSmallIntegerField("weight %", validators=PERCENT)
    objective_pct = models.PositiveSmallIntegerField(
        "year-end objective %",
        default=80,
        validators=PERCENT,
        help_text="Share of ratings good or excellent the RM should reach by year-end.",
    )
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["behaviour_set", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["behaviour_set", "name"], name="behaviour_unique_name"),
            models.CheckConstraint(condition=Q(weight__lte=100), name="behaviour_weight_0_100"),
            models.CheckConstraint(
                condition=Q(objective_pct__lte=100), name="behaviour_objective_0_100"
            ),
        ]

    def __str__(self):
        return self.name


class CustomerContact(models.Model):
    """A person at a customer who is asked each month how their RM is doing."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(max_length=120)
    email = models.EmailField()
    surveys_enabled = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["account", "name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "email"], name="contact_unique_email"),
        ]

    def __str__(self):
        return f"{self.name} ({self.account.name})"


def _new_nonce() -> str:
    return secrets.token_urlsafe(24)


class SurveyInvitation(models.Model):
    """One contact's survey for one month: the link is signed, expires and works once."""

    contact = models.ForeignKey(
        CustomerContact, on_delete=models.CASCADE, related_name="invitations"
    )
    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="RM"
    )
    month = models.DateField(help_text="First day of the month rated.")
    # Random per invitation and part of the signed token: a link cannot be derived from
    # another one, and rotating it revokes the link.
    nonce = models.CharField(max_length=64, default=_new_nonce, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The survey's general comment: about the RM, not about one behaviour.
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month", "contact"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "month"], name="invitation_once_a_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="invitation_month_is_first"),
        ]

    def __str__(self):
        return f"Survey of {self.contact} for {self.month:%B %Y}"


class CustomerRating(models.Model):
    class Score(models.IntegerChoices):
        POOR = 1, "Poor"
        FAIR = 2, "Fair"
        AVERAGE = 3, "Average"
        GOOD = 4, "Good"
        EXCELLENT = 5, "Excellent"

    class Source(models.TextChoices):
        SURVEY = "survey", "Survey link"
        ADMIN = "admin", "Entered by the back office"
        IMPORT = "import", "Imported"

    GOOD_OR_BETTER = (Score.GOOD, Score.EXCELLENT)

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="customer_ratings"
    )
    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="customer_ratings",
        verbose_name="RM",
    )
    behaviour = models.ForeignKey(Behaviour, on_delete=models.PROTECT, related_name="ratings")
    month = models.DateField(help_text="First day of the month rated.")
    rating = models.PositiveSmallIntegerField(choices=Score.choices)
    comment = models.TextField(blank=True)
    contact = models.ForeignKey(
        CustomerContact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ratings",
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.ADMIN)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-month", "account", "behaviour"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="rating_1_5"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="rating_month_is_first"),
            models.UniqueConstraint(
                fields=["contact", "behaviour", "month"],
                condition=Q(contact__isnull=False),
                name="rating_once_per_contact",
            ),
            # Without a contact (back office, imports) the natural key is the account's.
            models.UniqueConstraint(
                fields=["account", "rm", "behaviour", "month"],
                condition=Q(contact__isnull=True),
                name="rating_once_per_account",
            ),
        ]
        indexes = [
            models.Index(fields=["rm", "month"], name="rating_rm_month"),
            models.Index(fields=["behaviour", "month"], name="rating_behaviour_month"),
        ]

    def __str__(self):
        return f"{self.behaviour}: {self.get_rating_display()} ({self.month:%b %Y})"


class ImprovementPlan(models.Model):
    """What an RM will do about a behaviour below its objective; coached at check-ins."""

    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="improvement_plans",
        verbose_name="RM",
    )
    behaviour = models.ForeignKey(
        Behaviour, on_delete=models.PROTECT, related_name="improvement_plans"
    )
    actions = models.TextField()
    support = models.TextField("support needed", blank=True)
    review_on = models.DateField("review date")
    closed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["review_on"]
        constraints = [
            models.UniqueConstraint(fields=["rm", "behaviour"], name="improvement_plan_once"),
            models.CheckConstraint(condition=~Q(actions=""), name="improvement_plan_has_actions"),
        ]

    def __str__(self):
        return f"Improvement plan of {self.rm}: {self.behaviour}"
