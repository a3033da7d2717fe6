"""The year's targets and the RMs' flight plans.

Two workflows live here, both with four eyes (nobody approves what they proposed, wrote
or last edited) and an optimistic `version` so that no save silently overwrites another:

    TargetSet      draft → proposed → approved (→ superseded by a later revision)
                               ↘ returned → (edited) draft → proposed …
    TerritoryPlan  draft → submitted → endorsed → approved
                               ↘ returned ↙  (returned by the leader or the executive)
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from accounts.models import Account, ProductFamily
from org.models import RmStyle

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


def _pct_check(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 100}), name=name
    )


# --- the plan year and its steering parameters ------------------------------------------


class PlanYear(models.Model):
    """A fiscal year, with the year's compensation weighting between results and RB."""

    year = models.PositiveSmallIntegerField(unique=True, help_text="The fiscal year, e.g. 2027.")
    starts_on = models.DateField()
    ends_on = models.DateField()
    is_open = models.BooleanField(
        default=True, help_text="Plans and targets of a closed year can no longer change."
    )
    product_weight_pct = models.PositiveSmallIntegerField(
        "product results weight %",
        validators=PERCENT,
        help_text="Share of compensation earned by product results.",
    )
    rb_weight_pct = models.PositiveSmallIntegerField(
        "relationship-building weight %",
        validators=PERCENT,
        help_text="Share of compensation earned by relationship-building competency.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(product_weight_pct__lte=100)
                & Q(rb_weight_pct__lte=100)
                & Q(product_weight_pct=100 - F("rb_weight_pct")),
                name="planyear_weights_add_to_100",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="planyear_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"FY {self.year}"


class RelationshipMetric(models.TextChoices):
    """The one relationship measure the bank steers by this year."""

    RETENTION = "retention", "Retention"
    PRODUCTS_PER_RELATIONSHIP = "products_per_relationship", "Products per relationship"
    CUSTOMER_RATING = "customer_rating", "Customer rating"
    REVENUE = "revenue", "Revenue"


class SteeringStandard(models.Model):
    """The year's standards, set by executives, that plans and check-ins are held to."""

    plan_year = models.OneToOneField(PlanYear, on_delete=models.CASCADE, related_name="standard")
    forecast_accuracy_pct = models.DecimalField(
        "forecast accuracy standard %", max_digits=5, decimal_places=2, validators=PERCENT
    )
    relationship_metric = models.CharField(max_length=32, choices=RelationshipMetric.choices)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        constraints = [_pct_check("forecast_accuracy_pct", "standard_forecast_accuracy_0_100")]

    def __str__(self):
        return f"Standards {self.plan_year}"


class ActivityStandard(models.Model):
    """Expected activity per week for an RM style (finders call more, minders review more)."""

    plan_year = models.ForeignKey(
        PlanYear, on_delete=models.CASCADE, related_name="activity_standards"
    )
    rm_style = models.CharField("RM style", max_length=8, choices=RmStyle.choices)
    calls_per_week = models.DecimalField(max_digits=5, decimal_places=1)
    visits_per_week = models.DecimalField(max_digits=5, decimal_places=1)
    reviews_per_week = models.DecimalField(max_digits=5, decimal_places=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_year", "rm_style"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan_year", "rm_style"], name="activity_standard_per_style"
            ),
            models.CheckConstraint(
                condition=Q(calls_per_week__gte=0)
                & Q(visits_per_week__gte=0)
                & Q(reviews_per_week__gte=0),
                name="activity_standard_gte_0",
            ),
        ]

    def __str__(self):
        return f"{self.plan_year} {self.get_rm_style_display()}"

    @property
    def total_per_week(self) -> Decimal:
        return self.calls_per_week + self.visits_per_week + self.reviews_per_week


class ProductMixStandard(models.Model):
    """Target share of a product family in the year's new business."""

    plan_year = models.ForeignKey(
        PlanYear, on_delete=models.CASCADE, related_name="product_mix_standards"
    )
    family = models.CharField(max_length=10, choices=ProductFamily.choices)
    target_share_pct = models.DecimalField(
        "target share %", max_digits=5, decimal_places=2, validators=PERCENT
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_year", "family"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "family"], name="product_mix_per_family"),
            _pct_check("target_share_pct", "product_mix_share_0_100"),
        ]

    def __str__(self):
        return f"{self.plan_year} {self.get_family_display()} {self.target_share_pct} %"


# --- the metric catalogue ---------------------------------------------------------------


class Metric(models.Model):
    """What a target line measures. Reference data; meanings in docs/metrics.md."""

    class Unit(models.TextChoices):
        PERCENT = "percent", "%"
        COUNT = "count", "count"
        MONEY = "money", "money"
        RATIO = "ratio", "ratio"

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class Category(models.TextChoices):
        GROWTH = "growth", "Growth"
        RETENTION = "retention", "Retention"
        # How the work is done (activity, forecasting), neither growing nor keeping: left out
        # of the growth / retention balance (docs/metrics.md).
        STEERING = "steering", "Steering standard"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=8, choices=Unit.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    category = models.CharField(max_length=10, choices=Category.choices)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in lists.")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


# --- targets ------------------------------------------------------------------------------


class Scope(models.TextChoices):
    BANK = "bank", "Bank"
    TEAM = "team", "Team"
    RM = "rm", "RM"


class TargetSet(models.Model):
    """The targets of the bank, a team or an RM for a year: one revision of them."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROPOSED = "proposed", "Proposed"
        RETURNED = "returned", "Returned"
        APPROVED = "approved", "Approved"
        SUPERSEDED = "superseded", "Superseded"

    EDITABLE = (Status.DRAFT, Status.RETURNED)
    OPEN = (Status.DRAFT, Status.PROPOSED, Status.RETURNED)

    plan_year = models.ForeignKey(PlanYear, on_delete=models.PROTECT, related_name="target_sets")
    scope = models.CharField(max_length=4, choices=Scope.choices)
    team = models.ForeignKey(
        "org.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="target_sets"
    )
    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="target_sets",
        verbose_name="RM",
    )
    revision = models.PositiveSmallIntegerField(default=1)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_revision"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    growth_share_pct = models.PositiveSmallIntegerField(
        "growth share %",
        null=True,
        blank=True,
        validators=PERCENT,
        help_text="Bank set only: the balance between growth and retention, e.g. 60 (60/40).",
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
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who approved or returned it.",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    # Optimistic lock: every save compares and increments it.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_year", "scope", "team", "rm", "-revision"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="bank") & Q(team__isnull=True) & Q(rm__isnull=True))
                | (Q(scope="team") & Q(team__isnull=False) & Q(rm__isnull=True))
                | (Q(scope="rm") & Q(rm__isnull=False)),
                name="targetset_scope_matches_subject",
            ),
            # Four eyes, held by the database too: whoever decides neither proposed nor
            # last edited the set.
            models.CheckConstraint(
                condition=~Q(status="approved")
                | (
                    Q(decided_by__isnull=False)
                    & ~Q(decided_by=F("proposed_by"))
                    & ~Q(decided_by=F("last_edited_by"))
                ),
                name="targetset_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(growth_share_pct__isnull=True) | Q(growth_share_pct__lte=100),
                name="targetset_growth_share_0_100",
            ),
            models.UniqueConstraint(
                fields=["plan_year", "revision"],
                condition=Q(scope="bank"),
                name="targetset_bank_revision",
            ),
            models.UniqueConstraint(
                fields=["plan_year", "team", "revision"],
                condition=Q(scope="team"),
                name="targetset_team_revision",
            ),
            models.UniqueConstraint(
                fields=["plan_year", "rm", "revision"],
                condition=Q(scope="rm"),
                name="targetset_rm_revision",
            ),
        ]
        indexes = [models.Index(fields=["status", "scope"], name="targetset_status_scope")]

    def __str__(self):
        return f"{self.subject_label} targets {self.plan_year} r{self.revision}"

    def get_absolute_url(self):
        return reverse("planning:target_set", args=[self.pk])

    @property
    def subject_label(self) -> str:
        if self.scope == Scope.BANK:
            return "Bank"
        if self.scope == Scope.TEAM:
            return str(self.team)
        return str(self.rm)

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def retention_share_pct(self) -> int | None:
        return None if self.growth_share_pct is None else 100 - self.growth_share_pct


class TargetLine(models.Model):
    target_set = models.ForeignKey(TargetSet, on_delete=models.CASCADE, related_name="lines")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=16, decimal_places=2)
    weight = models.PositiveSmallIntegerField("weight %", validators=PERCENT)

    history = HistoricalRecords()

    class Meta:
        ordering = ["metric__position", "metric__name"]
        constraints = [
            models.UniqueConstraint(fields=["target_set", "metric"], name="targetline_per_metric"),
            models.CheckConstraint(condition=Q(weight__lte=100), name="targetline_weight_0_100"),
        ]

    def __str__(self):
        return f"{self.metric}: {self.value} ({self.weight} %)"


# --- flight plans -------------------------------------------------------------------------


class TerritoryPlan(models.Model):
    """An RM's annual flight plan for their territory."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        ENDORSED = "endorsed", "Endorsed by leader"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned"

    EDITABLE = (Status.DRAFT, Status.RETURNED)

    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="territory_plans",
        verbose_name="RM",
    )
    plan_year = models.ForeignKey(
        PlanYear, on_delete=models.PROTECT, related_name="territory_plans"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)

    # Goals
    goals_personal = models.TextField("goals for myself", blank=True)
    goals_business = models.TextField("goals for my business", blank=True)
    goals_compensation = models.TextField("goals for my compensation", blank=True)
    goals_market = models.TextField("goals for my market", blank=True)
    # Strategies and measures
    strategies = models.TextField(blank=True)
    measures = models.TextField(
        blank=True, help_text="How you will know you are on course, by target line."
    )
    measured_lines = models.ManyToManyField(
        TargetLine, blank=True, related_name="+", verbose_name="target lines measured"
    )
    # Planned activity levels per week
    planned_calls_per_week = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True
    )
    planned_visits_per_week = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True
    )
    planned_reviews_per_week = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True
    )
    top_accounts = models.ManyToManyField(Account, blank=True, related_name="+")
    resources_needed = models.TextField(blank=True)
    risks = models.TextField("risks and expected surprises", blank=True)

    submitted_at = models.DateTimeField(null=True, blank=True)
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    endorsed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[measured_lines, top_accounts])

    class Meta:
        ordering = ["plan_year", "rm"]
        constraints = [
            models.UniqueConstraint(fields=["rm", "plan_year"], name="territoryplan_per_rm_year"),
            # Four eyes: the RM neither endorses nor approves their own plan, and the
            # executive who approves did not endorse it.
            models.CheckConstraint(
                condition=(Q(endorsed_by__isnull=True) | ~Q(endorsed_by=F("rm")))
                & (
                    Q(approved_by__isnull=True)
                    | (~Q(approved_by=F("rm")) & ~Q(approved_by=F("endorsed_by")))
                ),
                name="territoryplan_four_eyes",
            ),
        ]
        indexes = [models.Index(fields=["plan_year", "status"], name="territoryplan_year_status")]

    def __str__(self):
        return f"Territory plan {self.plan_year} · {self.rm}"

    def get_absolute_url(self):
        return reverse("planning:territory_plan", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class Comment(models.Model):
    """A remark on a territory plan or a target set, including each decision's reason."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        SUBMITTED = "submitted", "Submitted"
        PROPOSED = "proposed", "Proposed"
        ENDORSED = "endorsed", "Endorsed"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned"

    territory_plan = models.ForeignKey(
        TerritoryPlan, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    target_set = models.ForeignKey(
        TargetSet, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMMENT)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(territory_plan__isnull=True) ^ Q(target_set__isnull=True),
                name="comment_on_exactly_one_thing",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.author_id}"


class RelationshipPlan(models.Model):
    """The plan for one "must keep" or "must grow" account in a year."""

    class Intent(models.TextChoices):
        MUST_KEEP = "must_keep", "Must keep"
        MUST_GROW = "must_grow", "Must grow"

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="relationship_plans"
    )
    plan_year = models.ForeignKey(
        PlanYear, on_delete=models.PROTECT, related_name="relationship_plans"
    )
    intent = models.CharField(max_length=10, choices=Intent.choices)
    objectives = models.TextField(blank=True)
    expected_results = models.TextField(
        blank=True, help_text="Balances or products you expect by the review date."
    )
    expected_balance = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    resources = models.TextField(blank=True)
    review_on = models.DateField("review date", null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_year", "account__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "plan_year"], name="relationshipplan_per_account_year"
            ),
            models.CheckConstraint(
                condition=Q(expected_balance__isnull=True) | Q(expected_balance__gte=0),
                name="relationshipplan_expected_balance_gte_0",
            ),
        ]

    def __str__(self):
        return f"Relationship plan {self.plan_year} · {self.account}"

    def get_absolute_url(self):
        return reverse("planning:relationship_plan", args=[self.pk])


class PlannedAction(models.Model):
    relationship_plan = models.ForeignKey(
        RelationshipPlan, on_delete=models.CASCADE, related_name="actions"
    )
    description = models.CharField(max_length=300)
    due_on = models.DateField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    done = models.BooleanField(default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self):
        return self.description


class DevelopmentPlan(models.Model):
    """The skills an RM will build this year, tied to the results asked of them."""

    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="development_plans",
        verbose_name="RM",
    )
    plan_year = models.ForeignKey(
        PlanYear, on_delete=models.PROTECT, related_name="development_plans"
    )
    support_needed = models.TextField(blank=True)
    review_on = models.DateField("review date", null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_year", "rm"]
        constraints = [
            models.UniqueConstraint(fields=["rm", "plan_year"], name="developmentplan_per_rm_year")
        ]

    def __str__(self):
        return f"Development plan {self.plan_year} · {self.rm}"

    def get_absolute_url(self):
        return reverse("planning:development_plan", args=[self.pk])


class DevelopmentGoal(models.Model):
    """One skill or behaviour to improve, tied to a target line or an RB behaviour."""

    development_plan = models.ForeignKey(
        DevelopmentPlan, on_delete=models.CASCADE, related_name="goals"
    )
    skill = models.CharField("skill or behaviour", max_length=200)
    target_line = models.ForeignKey(
        TargetLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # RB behaviours become a model of their own with the coaching issue; until then the
    # behaviour is named here.
    behaviour = models.CharField("RB behaviour", max_length=100, blank=True)
    actions = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_line__isnull=False) | ~Q(behaviour=""),
                name="developmentgoal_tied_to_line_or_behaviour",
            )
        ]

    def __str__(self):
        return self.skill


# --- computed: plan versus actual ----------------------------------------------------------


class PeriodKind(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter to date"
    YTD = "ytd", "Year to date"


class Variance(models.Model):
    """Plan versus actual of one scope, metric and period, as the nightly job computed it
    (docs/metrics.md). Rows are replaced as a whole on every run."""

    plan_year = models.ForeignKey(PlanYear, on_delete=models.CASCADE, related_name="variances")
    scope = models.CharField(max_length=4, choices=Scope.choices)
    team = models.ForeignKey(
        "org.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="variances"
    )
    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="variances",
        verbose_name="RM",
    )
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    planned = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    actual = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    difference = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    percent = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    note = models.CharField(max_length=120, blank=True)
    as_of = models.DateField(help_text="The closed month the figures run to (its first day).")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["plan_year", "scope", "team", "rm", "metric__position", "period_start"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="bank") & Q(team__isnull=True) & Q(rm__isnull=True))
                | (Q(scope="team") & Q(team__isnull=False) & Q(rm__isnull=True))
                | (Q(scope="rm") & Q(rm__isnull=False) & Q(team__isnull=True)),
                name="variance_scope_matches_subject",
            ),
            models.UniqueConstraint(
                fields=["plan_year", "metric", "period", "period_start"],
                condition=Q(scope="bank"),
                name="variance_bank_key",
            ),
            models.UniqueConstraint(
                fields=["plan_year", "team", "metric", "period", "period_start"],
                condition=Q(scope="team"),
                name="variance_team_key",
            ),
            models.UniqueConstraint(
                fields=["plan_year", "rm", "metric", "period", "period_start"],
                condition=Q(scope="rm"),
                name="variance_rm_key",
            ),
        ]
        indexes = [
            models.Index(fields=["rm", "plan_year", "period"], name="variance_rm_period"),
            models.Index(fields=["team", "plan_year", "period"], name="variance_team_period"),
        ]

    def __str__(self):
        return f"{self.metric} {self.period} {self.period_start}: {self.actual} vs {self.planned}"


class ForecastSnapshot(models.Model):
    """An RM's forecast for a month, frozen when the month begins (forecast accuracy needs
    what was forecast, not what the pipeline says afterwards; docs/metrics.md).

    `amount` is the RM's submitted number where they submitted one (else the weighted
    pipeline); `adjusted_amount` the leader's number where the leader changed it."""

    class Source(models.TextChoices):
        PIPELINE = "pipeline", "Weighted pipeline (nothing submitted)"
        SUBMITTED = "submitted", "Submitted by the RM"

    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forecast_snapshots"
    )
    month = models.DateField()
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    adjusted_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PIPELINE)
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["-month", "rm"]
        constraints = [
            models.UniqueConstraint(fields=["rm", "month"], name="forecast_once_per_rm_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="forecast_month_is_first"),
        ]

    def __str__(self):
        return f"Forecast of {self.rm} for {self.month:%b %Y}: {self.amount}"


class ForecastPeriod(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class ForecastSubmission(models.Model):
    """What an RM says they will win in a month or a quarter, and the leader's view of it.

    The system proposes the commit total (`proposed_amount`, kept as it was when the RM
    submitted); the RM's `amount` may differ, with a note. The leader may adjust it
    (`adjusted_amount`, with a note): the RM's own number stays beside it. Frozen into the
    month's ForecastSnapshot when the month begins."""

    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forecast_submissions"
    )
    period = models.CharField(max_length=8, choices=ForecastPeriod.choices)
    period_start = models.DateField(help_text="First day of the month or quarter.")
    proposed_amount = models.DecimalField(max_digits=18, decimal_places=2)
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    note = models.TextField(blank=True)
    submitted_at = models.DateTimeField()
    adjusted_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    adjustment_note = models.TextField(blank=True)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    adjusted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-period_start", "rm"]
        constraints = [
            models.UniqueConstraint(
                fields=["rm", "period", "period_start"], name="forecast_submission_once"
            ),
            models.CheckConstraint(
                condition=Q(period_start__day=1), name="forecast_submission_first_day"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0)
                & Q(proposed_amount__gte=0)
                & (Q(adjusted_amount__isnull=True) | Q(adjusted_amount__gte=0)),
                name="forecast_submission_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(adjusted_amount__isnull=True) | Q(adjusted_by__isnull=False),
                name="forecast_submission_adjusted_by",
            ),
            models.CheckConstraint(
                condition=Q(adjusted_by__isnull=True) | ~Q(adjusted_by=F("rm")),
                name="forecast_submission_not_self_adjusted",
            ),
        ]

    def __str__(self):
        return f"{self.rm} {self.period} {self.period_start:%Y-%m}: {self.amount}"

    @property
    def effective_amount(self):
        """The number the team's forecast counts: the leader's where they adjusted it."""
        return self.amount if self.adjusted_amount is None else self.adjusted_amount


class TeamForecastSubmission(models.Model):
    """The leader's forecast for the team for a month or a quarter: the sum of the RMs'
    numbers as the leader left them, with a note."""

    team = models.ForeignKey(
        "org.Team", on_delete=models.CASCADE, related_name="forecast_submissions"
    )
    period = models.CharField(max_length=8, choices=ForecastPeriod.choices)
    period_start = models.DateField()
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    note = models.TextField(blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-period_start", "team"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "period", "period_start"], name="team_forecast_once"
            ),
            models.CheckConstraint(
                condition=Q(period_start__day=1), name="team_forecast_first_day"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="team_forecast_gte_0"),
        ]

    def __str__(self):
        return f"{self.team} {self.period} {self.period_start:%Y-%m}: {self.amount}"
