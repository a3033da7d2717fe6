"""The book of business: accounts, what they hold month by month, and the work done on them."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

MONEY = {"max_digits": 18, "decimal_places": 2}


class Segment(models.Model):
    """A target market, with its ideal customer profile."""

    name = models.CharField(max_length=100, unique=True)
    ideal_customer_profile = models.TextField(blank=True)
    value_proposition = models.TextField(
        blank=True, help_text="Written in the customer's words: what they get from us."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Tier(models.Model):
    """A priority tier: A "high value / must keep", B "grow", C "maintain"."""

    code = models.CharField(max_length=1, unique=True)
    name = models.CharField(max_length=100)
    criteria = models.TextField(blank=True)
    retention_target_pct = models.DecimalField(
        "retention target %",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    max_days_without_contact = models.PositiveSmallIntegerField(
        default=90,
        help_text="Attrition risk: days an account of this tier may go without an activity.",
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(retention_target_pct__gte=0) & Q(retention_target_pct__lte=100),
                name="tier_retention_target_0_100",
            )
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"


class AccountStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"
    LOST = "lost", "Lost"


class Account(models.Model):
    """A customer relationship of the bank."""

    number = models.CharField("core-banking number", max_length=32, unique=True)
    name = models.CharField(max_length=200, db_index=True)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="accounts")
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="accounts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_accounts"
    )
    covering_rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="covered_accounts",
        help_text="Temporarily looks after this account, e.g. while the owner's seat is vacant.",
    )
    status = models.CharField(
        max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    opened_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    lost_reason = models.CharField(max_length=200, blank=True)
    contract_until = models.DateField(
        "contract or maturity date", null=True, blank=True, db_index=True
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["owner", "status"], name="account_owner_status"),
            models.Index(fields=["covering_rm"], name="account_covering_rm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True)
                | Q(opened_on__isnull=True)
                | Q(closed_on__gte=F("opened_on")),
                name="account_closed_after_opened",
            ),
            models.CheckConstraint(
                condition=~Q(status=AccountStatus.LOST) | ~Q(lost_reason=""),
                name="account_lost_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[AccountStatus.LOST, AccountStatus.CLOSED])
                | Q(closed_on__isnull=False),
                name="account_ended_has_closed_on",
            ),
            models.CheckConstraint(
                condition=Q(covering_rm__isnull=True) | ~Q(covering_rm=F("owner")),
                name="account_covering_rm_not_owner",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.number})"

    def get_absolute_url(self):
        return reverse("accounts:detail", args=[self.pk])


class OwnershipChange(models.Model):
    """One hand-over of an account from one RM to another: the ownership history."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="ownership_changes")
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    new_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-changed_at"]
        indexes = [models.Index(fields=["account", "-changed_at"], name="ownership_account_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(previous_owner__isnull=True) | ~Q(previous_owner=F("new_owner")),
                name="ownership_change_changes_owner",
            )
        ]

    def __str__(self):
        return f"{self.account_id}: {self.previous_owner_id} → {self.new_owner_id}"


class ProductFamily(models.TextChoices):
    LOAN = "loan", "Loan"
    DEPOSIT = "deposit", "Deposit (DDA)"
    TREASURY = "treasury", "Treasury"
    CARD = "card", "Card"
    OTHER = "other", "Other"


class Product(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    family = models.CharField(max_length=10, choices=ProductFamily.choices, db_index=True)

    class Meta:
        ordering = ["family", "code"]

    def __str__(self):
        return f"{self.code} · {self.name}"


class Position(models.Model):
    """Month-end balance and revenue of one account in one product: the actuals."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="positions")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="positions")
    month = models.DateField(help_text="First day of the month the figures close.")
    balance = models.DecimalField(**MONEY, default=Decimal("0"))
    revenue = models.DecimalField(**MONEY, default=Decimal("0"))

    class Meta:
        ordering = ["account", "product", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "product", "month"], name="position_account_product_month"
            ),
            models.CheckConstraint(condition=Q(balance__gte=0), name="position_balance_gte_0"),
            models.CheckConstraint(condition=Q(revenue__gte=0), name="position_revenue_gte_0"),
            models.CheckConstraint(condition=Q(month__day=1), name="position_month_first_day"),
        ]
        indexes = [models.Index(fields=["month", "product"], name="position_month_product")]

    def __str__(self):
        return f"{self.account_id} {self.product_id} {self.month:%Y-%m}: {self.balance}"


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    VISIT = "visit", "Visit"
    MEETING = "meeting", "Meeting"
    REVIEW = "review", "Review"


class ActivityStatus(models.TextChoices):
    """A planned activity is in the diary; a done one happened and counts (docs/metrics.md)."""

    PLANNED = "planned", "Planned"
    DONE = "done", "Done"


class Activity(models.Model):
    """A call, visit, meeting or review with a customer: planned ahead, or done.

    Only done activities count towards activities per week. A leader who went along is a
    participant (a joint call): it counts for the RM who recorded it and shows in the
    leader's field observations. `next_step` with a due date is a follow-up on the RM's
    list until it is marked done.
    """

    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    status = models.CharField(
        max_length=8, choices=ActivityStatus.choices, default=ActivityStatus.DONE, db_index=True
    )
    date = models.DateField()
    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activities")
    # The contact register lives with the survey contacts (coaching) today; a lazy
    # reference keeps accounts free of an import from coaching (docs/decisions.md).
    contact = models.ForeignKey(
        "coaching.CustomerContact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name="customer contact met",
    )
    outcome = models.TextField(blank=True)
    next_step = models.CharField(max_length=200, blank=True)
    next_step_due = models.DateField("next step due", null=True, blank=True)
    next_step_done_on = models.DateField("next step done on", null=True, blank=True)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="joint_activities",
        help_text="Colleagues who went along, e.g. the team leader on a joint visit.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords(m2m_fields=[participants])

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["rm", "date"], name="activity_rm_date"),
            models.Index(fields=["account", "-date"], name="activity_account_date"),
            models.Index(
                fields=["rm", "next_step_due"],
                name="activity_open_follow_up",
                condition=Q(next_step_due__isnull=False, next_step_done_on__isnull=True),
            ),
        ]
        constraints = [
            # A planned activity has no outcome yet: what happened is written when it is done.
            models.CheckConstraint(
                condition=Q(status=ActivityStatus.DONE) | Q(outcome=""),
                name="activity_planned_has_no_outcome",
            ),
            models.CheckConstraint(
                condition=Q(next_step_due__isnull=True) | ~Q(next_step=""),
                name="activity_follow_up_has_next_step",
            ),
            models.CheckConstraint(
                condition=Q(next_step_done_on__isnull=True) | Q(next_step_due__isnull=False),
                name="activity_follow_up_done_has_due",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.date} {self.account_id}"


class OpportunityStage(models.TextChoices):
    LEAD = "lead", "Lead"
    QUALIFIED = "qualified", "Qualified"
    PROPOSAL = "proposal", "Proposal"
    NEGOTIATION = "negotiation", "Negotiation"
    CLOSING = "closing", "Closing"


class OpportunityKind(models.TextChoices):
    NEW_BUSINESS = "new_business", "New business"
    CROSS_SELL = "cross_sell", "Cross-sell"
    RENEWAL = "renewal", "Renewal / retention"


class OpportunityStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class ForecastCategory(models.TextChoices):
    """How sure the RM is of an open deal closing in its month (docs/metrics.md). Closed
    deals are won or lost by their status; omitted leaves an open deal out of the forecast."""

    PIPELINE = "pipeline", "Pipeline"
    BEST_CASE = "best_case", "Best case"
    COMMIT = "commit", "Commit"
    OMITTED = "omitted", "Omitted"


class LostReason(models.Model):
    """Why a deal was lost: a list the administrator keeps, so losses can be counted."""

    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True, help_text="Inactive reasons stay on old deals.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in lists.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Opportunity(models.Model):
    """The pipeline: something an RM expects to sell, renew or keep."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="opportunities")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="opportunities")
    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opportunities"
    )
    amount = models.DecimalField(**MONEY)
    stage = models.CharField(
        max_length=12, choices=OpportunityStage.choices, default=OpportunityStage.LEAD
    )
    probability = models.PositiveSmallIntegerField(
        "probability %", validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    expected_close = models.DateField()
    kind = models.CharField(max_length=12, choices=OpportunityKind.choices)
    status = models.CharField(
        max_length=4, choices=OpportunityStatus.choices, default=OpportunityStatus.OPEN
    )
    forecast_category = models.CharField(
        max_length=10, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    next_step = models.CharField(max_length=200, blank=True)
    lost_reason = models.ForeignKey(
        LostReason, on_delete=models.PROTECT, null=True, blank=True, related_name="opportunities"
    )
    lost_note = models.CharField(max_length=300, blank=True)
    created_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["expected_close", "pk"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["account", "status"], name="opportunity_account_status"),
            models.Index(fields=["rm", "status"], name="opportunity_rm_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=100),
                name="opportunity_probability_0_100",
            ),
            # Open means not closed; won or lost means closed, on or after it was created.
            models.CheckConstraint(
                condition=(Q(status=OpportunityStatus.OPEN) & Q(closed_on__isnull=True))
                | (
                    ~Q(status=OpportunityStatus.OPEN)
                    & Q(closed_on__isnull=False)
                    & Q(closed_on__gte=F("created_on"))
                ),
                name="opportunity_closed_on_matches_status",
            ),
            # A lost deal says why; only a lost deal has a reason.
            models.CheckConstraint(
                condition=(Q(status=OpportunityStatus.LOST) & Q(lost_reason__isnull=False))
                | (~Q(status=OpportunityStatus.LOST) & Q(lost_reason__isnull=True)),
                name="opportunity_lost_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.product_id} {self.amount} ({self.account_id})"


class OpportunityChange(models.Model):
    """One change of an opportunity's stage, amount, close date or outcome: who, when,
    from and to. The pipeline's win rate, days per stage and slipped deals read these;
    the row written when the deal is created has no "from" values."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_stage = models.CharField(max_length=12, choices=OpportunityStage.choices, blank=True)
    to_stage = models.CharField(max_length=12, choices=OpportunityStage.choices, blank=True)
    from_status = models.CharField(max_length=4, choices=OpportunityStatus.choices, blank=True)
    to_status = models.CharField(max_length=4, choices=OpportunityStatus.choices, blank=True)
    from_amount = models.DecimalField(**MONEY, null=True, blank=True)
    to_amount = models.DecimalField(**MONEY, null=True, blank=True)
    from_expected_close = models.DateField(null=True, blank=True)
    to_expected_close = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["opportunity", "changed_at", "pk"]
        indexes = [
            models.Index(fields=["opportunity", "changed_at"], name="opp_change_opp_time"),
            models.Index(fields=["changed_at"], name="opp_change_time"),
        ]

    def __str__(self):
        return (
            f"{self.opportunity_id} {self.changed_at:%Y-%m-%d}: {self.from_stage} → {self.to_stage}"
        )

    @property
    def slipped(self) -> bool:
        """The close date moved out."""
        return bool(
            self.from_expected_close
            and self.to_expected_close
            and self.to_expected_close > self.from_expected_close
        )
