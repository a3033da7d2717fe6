"""Retention: keeping what the bank has.

Attrition risk (`RiskFactor` weights, nightly `RiskScore` per account with its reasons),
multiple connections (`SecondaryContact`), an RM's departure (`DepartureCase`, the
coverage history `CoverageChange`, the replacement's `HandoverReview`), the nightly
`EarlyWarning` of an RM drifting, and sales campaigns (`Campaign`, `CampaignAccount`).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

# --- attrition risk --------------------------------------------------------------------------


class RiskFactor(models.Model):
    """One reason an account may leave, and how many of the 100 risk points it weighs.

    The codes are fixed (the scoring service knows what each means); the weights and the
    thresholds are the bank's to tune in the admin.
    """

    class Code(models.TextChoices):
        BALANCE_DECLINE = "balance_decline", "Balance decline"
        CONTRACT_EXPIRY = "contract_expiry", "Contract or maturity within 12 months"
        NO_CONTACT = "no_contact", "No contact for longer than the tier allows"
        OWNER_DEPARTED = "owner_departed", "Owner left or account uncovered"
        LOW_RATINGS = "low_ratings", "Low customer ratings"
        LOST_RENEWAL = "lost_renewal", "A renewal was lost"

    code = models.CharField(max_length=20, choices=Code.choices, unique=True)
    weight = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(100)], help_text="Points this reason adds (0-100)."
    )
    threshold = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The reason's own limit, where it has one (e.g. a 10 % balance decline).",
    )
    active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__lte=100), name="riskfactor_0_100")
        ]

    def __str__(self):
        return self.get_code_display()


class RiskScore(models.Model):
    """An account's attrition risk on a day (0-100) and the reasons behind it."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="risk_scores"
    )
    scored_on = models.DateField()
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    # [{"code": ..., "points": ..., "detail": "..."}], biggest first.
    reasons = models.JSONField(default=list)

    class Meta:
        ordering = ["-scored_on", "-score"]
        constraints = [
            models.UniqueConstraint(fields=["account", "scored_on"], name="riskscore_once_a_day"),
            models.CheckConstraint(condition=Q(score__lte=100), name="riskscore_0_100"),
        ]
        indexes = [models.Index(fields=["scored_on", "-score"], name="riskscore_day_score")]

    def __str__(self):
        return f"{self.account} {self.scored_on}: {self.score}"


class SecondaryContact(models.Model):
    """A second person at the bank who knows a major account (a leader or a specialist):
    accounts held by one person alone are the ones that leave with them."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="secondary_contacts"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="secondary_accounts"
    )
    role = models.CharField(max_length=80, help_text="e.g. team leader, treasury specialist.")
    since = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["account", "person"]
        constraints = [
            models.UniqueConstraint(fields=["account", "person"], name="secondary_contact_once"),
        ]

    def __str__(self):
        return f"{self.person} ({self.role}) for {self.account}"


# --- when an RM leaves -------------------------------------------------------------------------


class DepartureCase(models.Model):
    """An RM's departure, from notice to handover.

    Phases: withdrawal (notice → last day), vacancy (last day → replacement assigned),
    onboarding (replacement assigned → handover complete), closed.
    """

    class Phase(models.TextChoices):
        WITHDRAWAL = "withdrawal", "Withdrawal"
        VACANCY = "vacancy", "Vacancy"
        ONBOARDING = "onboarding", "Onboarding"
        CLOSED = "closed", "Closed"

    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="departure_cases",
        verbose_name="leaving RM",
    )
    notice_on = models.DateField("notice given on")
    last_day = models.DateField()
    replacement = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacement_cases",
    )
    replacement_assigned_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField("handover completed on", null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-last_day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("notice_on")), name="departure_last_day_after_notice"
            ),
            models.CheckConstraint(
                condition=Q(replacement__isnull=True) | ~Q(replacement=F("rm")),
                name="departure_replacement_is_someone_else",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(replacement__isnull=False),
                name="departure_closed_after_replacement",
            ),
            # One open case per RM.
            models.UniqueConstraint(
                fields=["rm"], condition=Q(closed_on__isnull=True), name="departure_one_open"
            ),
        ]

    def __str__(self):
        return f"Departure of {self.rm} (last day {self.last_day})"

    def get_absolute_url(self):
        return reverse("retention:departure", args=[self.pk])

    def phase_on(self, day) -> str:
        if self.closed_on is not None:
            return self.Phase.CLOSED
        if self.replacement_id is not None:
            return self.Phase.ONBOARDING
        if day < self.last_day:
            return self.Phase.WITHDRAWAL
        return self.Phase.VACANCY


class CoverageChange(models.Model):
    """Who covered an account, from when: the coverage part of its ownership history."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="coverage_changes"
    )
    previous_covering = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    new_covering = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        DepartureCase,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coverage_changes",
    )

    class Meta:
        ordering = ["-changed_at"]
        indexes = [models.Index(fields=["account", "-changed_at"], name="coverage_account_when")]

    def __str__(self):
        return f"{self.account}: {self.previous_covering} → {self.new_covering}"


class HandoverReview(models.Model):
    """The replacement has gone through a major account's history."""

    case = models.ForeignKey(DepartureCase, on_delete=models.CASCADE, related_name="reviews")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["case", "account"]
        constraints = [
            models.UniqueConstraint(fields=["case", "account"], name="handover_review_once"),
        ]

    def __str__(self):
        return f"{self.account} reviewed by {self.reviewed_by}"


class EarlyWarning(models.Model):
    """An RM's drift against their own baseline, computed nightly: a prompt to talk.

    Seen only by the RM's own leader and executives (never by the RM or their peers)."""

    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="early_warnings"
    )
    computed_on = models.DateField()
    # [{"code": "activity_falling", "detail": "6 a week against a 12-week baseline of 11"}]
    signals = models.JSONField(default=list)

    class Meta:
        ordering = ["-computed_on", "rm"]
        constraints = [
            models.UniqueConstraint(fields=["rm", "computed_on"], name="early_warning_once_a_day"),
        ]

    def __str__(self):
        return f"Early warning for {self.rm} on {self.computed_on}"


# --- campaigns ---------------------------------------------------------------------------------


class Campaign(models.Model):
    """A sales campaign whose goal is relationships, not one product."""

    class Goal(models.TextChoices):
        NEW_RELATIONSHIPS = "new_relationships", "New relationships"
        CROSS_SELL = "cross_sell", "Cross-sell ratio"
        PRODUCT_FAMILY = "product_family", "A product family"

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    goal = models.CharField(max_length=20, choices=Goal.choices)
    product_family = models.CharField(
        max_length=10,
        blank=True,
        help_text="Only for a product-family goal: the family, never a single product.",
    )
    target_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text="New relationships won, the cross-sell ratio reached, or accounts won to "
        "the family.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="campaign_period_order"
            ),
            models.CheckConstraint(
                condition=(Q(goal="product_family") & ~Q(product_family=""))
                | (~Q(goal="product_family") & Q(product_family="")),
                name="campaign_family_only_for_family_goal",
            ),
            models.CheckConstraint(condition=Q(target_value__gte=0), name="campaign_target_gte_0"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("retention:campaign", args=[self.pk])


class CampaignAccount(models.Model):
    """An account on a campaign's prequalified list; worked by its own RM."""

    class Source(models.TextChoices):
        FILTER = "filter", "Built from a filter"
        IMPORT = "import", "Imported (MCIF / core system)"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="entries")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="campaign_entries"
    )
    reason = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "account"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "account"], name="campaign_account_once"),
        ]

    def __str__(self):
        return f"{self.account} in {self.campaign}"
