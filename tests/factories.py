"""factory-boy factories for every model. Defaults make a valid, unremarkable record."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import (
    Account,
    AccountStatus,
    Activity,
    ActivityKind,
    LostReason,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    OwnershipChange,
    Position,
    Product,
    ProductFamily,
    Segment,
    Tier,
)
from org.models import Market, RmStyle, Role, Team, User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@bank.example")
    role = Role.RM
    hired_on = datetime.date(2020, 1, 6)
    password = factory.django.Password(PASSWORD)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    market = Market.COMMERCIAL
    leader = factory.SubFactory(UserFactory, role=Role.LEADER)


class RmFactory(UserFactory):
    role = Role.RM
    rm_style = RmStyle.BOTH
    team = factory.SubFactory(TeamFactory)


class LeaderFactory(UserFactory):
    role = Role.LEADER


class ExecutiveFactory(UserFactory):
    role = Role.EXECUTIVE


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True
    is_superuser = True


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Segment {n}")
    ideal_customer_profile = "Owner-managed firms with 2-20 M turnover."
    value_proposition = "My banker knows my business and answers the same day."


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ("code",)

    code = "B"
    name = factory.LazyAttribute(
        lambda t: {"A": "High value / must keep", "B": "Grow", "C": "Maintain"}.get(t.code, t.code)
    )
    retention_target_pct = Decimal("90")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"P{n}")
    name = factory.LazyAttribute(lambda p: f"Product {p.code}")
    family = ProductFamily.DEPOSIT


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    number = factory.Sequence(lambda n: f"CB{n:08d}")
    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    segment = factory.SubFactory(SegmentFactory)
    tier = factory.SubFactory(TierFactory)
    owner = factory.SubFactory(RmFactory)
    status = AccountStatus.ACTIVE
    opened_on = datetime.date(2019, 3, 1)


class OwnershipChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OwnershipChange

    account = factory.SubFactory(AccountFactory)
    previous_owner = factory.SubFactory(RmFactory)
    new_owner = factory.LazyAttribute(lambda c: c.account.owner)
    changed_at = factory.LazyFunction(timezone.now)
    reason = "Portfolio rebalancing"


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position

    account = factory.SubFactory(AccountFactory)
    product = factory.SubFactory(ProductFactory)
    month = datetime.date(2026, 10, 1)
    balance = Decimal("100000.00")
    revenue = Decimal("250.00")


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    kind = ActivityKind.VISIT
    date = factory.LazyFunction(timezone.localdate)
    account = factory.SubFactory(AccountFactory)
    rm = factory.LazyAttribute(lambda a: a.account.owner)
    outcome = "Discussed the renewal of the credit line."


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    account = factory.SubFactory(AccountFactory)
    product = factory.SubFactory(ProductFactory, family=ProductFamily.LOAN)
    rm = factory.LazyAttribute(lambda o: o.account.owner)
    amount = Decimal("250000.00")
    probability = 40
    expected_close = datetime.date(2027, 3, 31)
    kind = OpportunityKind.CROSS_SELL
    status = OpportunityStatus.OPEN
    created_on = datetime.date(2026, 9, 1)
    lost_reason = factory.Maybe(
        factory.LazyAttribute(lambda o: o.status == OpportunityStatus.LOST),
        yes_declaration=factory.SubFactory("tests.factories.LostReasonFactory"),
        no_declaration=None,
    )


class LostReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LostReason
        django_get_or_create = ("name",)

    name = "Lost to a competitor"


# --- planning ------------------------------------------------------------------------------


class PlanYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "planning.PlanYear"
        django_get_or_create = ("year",)

    year = 2027
    starts_on = factory.LazyAttribute(lambda y: datetime.date(y.year, 1, 1))
    ends_on = factory.LazyAttribute(lambda y: datetime.date(y.year, 12, 31))
    is_open = True
    product_weight_pct = 80
    rb_weight_pct = 20


def metric(code: str):
    """A metric of the catalogue (created by migration planning 0002)."""
    from planning.models import Metric

    return Metric.objects.get(code=code)


class TargetSetFactory(factory.django.DjangoModelFactory):
    """A team's draft targets, written by the team's leader."""

    class Meta:
        model = "planning.TargetSet"

    plan_year = factory.SubFactory(PlanYearFactory)
    scope = "team"
    team = factory.SubFactory(TeamFactory)
    created_by = factory.LazyAttribute(lambda ts: ts.team.leader if ts.team else None)
    last_edited_by = factory.LazyAttribute(lambda ts: ts.created_by)


class TargetLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "planning.TargetLine"

    target_set = factory.SubFactory(TargetSetFactory)
    metric = factory.LazyFunction(lambda: metric("loan_growth"))
    value = Decimal("10.00")
    weight = 100


class TerritoryPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "planning.TerritoryPlan"

    rm = factory.SubFactory(RmFactory)
    plan_year = factory.SubFactory(PlanYearFactory)


class CompleteTerritoryPlanFactory(TerritoryPlanFactory):
    """A draft with every section filled in: ready to submit."""

    class Meta:
        skip_postgeneration_save = True

    goals_personal = "Become the go-to banker for family-owned manufacturers."
    goals_business = "Grow loans 10 % and keep every tier-A relationship."
    goals_compensation = "Earn the full product bonus and an RB rating of good."
    goals_market = "Win three new relationships in the harbour district."
    strategies = "Quarterly reviews with every tier-A owner; referrals from accountants."
    measures = "Loan growth by quarter; tier-A retention; new relationships won."
    planned_calls_per_week = Decimal("10")
    planned_visits_per_week = Decimal("4")
    planned_reviews_per_week = Decimal("2")
    resources_needed = "A treasury specialist for two joint visits a month."
    risks = "Two term loans mature in spring; a competitor is courting Harbor Logistics."

    @factory.post_generation
    def top_accounts(self, create, extracted, **kwargs):
        if create:
            self.top_accounts.set(extracted or [AccountFactory(owner=self.rm)])


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "planning.Comment"

    territory_plan = factory.SubFactory(TerritoryPlanFactory)
    author = factory.LazyAttribute(lambda c: c.territory_plan.rm)
    text = "Looks solid; add the harbour prospects."


class RelationshipPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "planning.RelationshipPlan"

    account = factory.SubFactory(AccountFactory, tier=factory.SubFactory(TierFactory, code="A"))
    plan_year = factory.SubFactory(PlanYearFactory)
    intent = "must_keep"
    objectives = "Renew the credit line and add cash management."
    author = factory.LazyAttribute(lambda p: p.account.owner)


class PlannedActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "planning.PlannedAction"

    relationship_plan = factory.SubFactory(RelationshipPlanFactory)
    description = "Review meeting with the owner and the CFO"
    due_on = datetime.date(2027, 3, 15)
    owner = factory.LazyAttribute(lambda a: a.relationship_plan.account.owner)


class DevelopmentPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "planning.DevelopmentPlan"

    rm = factory.SubFactory(RmFactory)
    plan_year = factory.SubFactory(PlanYearFactory)
    support_needed = "Two joint visits a month with the team leader."


class DevelopmentGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "planning.DevelopmentGoal"

    development_plan = factory.SubFactory(DevelopmentPlanFactory)
    skill = "Consultative questioning"
    behaviour = "Listening"
    actions = "Prepare five open questions before every review."


# --- coaching ------------------------------------------------------------------------------


class CadenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coaching.Cadence"
        django_get_or_create = ("team",)

    team = factory.SubFactory(TeamFactory)


class CheckInFactory(factory.django.DjangoModelFactory):
    """A weekly check-in of an RM with their team's leader, scheduled for Monday 9:00."""

    class Meta:
        model = "coaching.CheckIn"

    rm = factory.SubFactory(RmFactory)
    leader = factory.LazyAttribute(lambda c: c.rm.team.leader)
    kind = "weekly"
    period_start = datetime.date(2027, 3, 8)
    period_end = factory.LazyAttribute(lambda c: c.period_start + datetime.timedelta(days=6))
    scheduled_at = factory.LazyAttribute(
        lambda c: timezone.make_aware(
            datetime.datetime.combine(c.period_start, datetime.time(9, 0))
        )
    )


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coaching.Commitment"

    checkin = factory.SubFactory(CheckInFactory)
    rm = factory.LazyAttribute(lambda c: c.checkin.rm)
    owner = factory.LazyAttribute(lambda c: c.checkin.rm)
    text = factory.Sequence(lambda n: f"Call the CFO of customer {n} about the renewal")
    due_on = datetime.date(2027, 3, 19)
    created_by = factory.LazyAttribute(lambda c: c.checkin.leader)


class BehaviourSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coaching.BehaviourSet"
        django_get_or_create = ("plan_year",)

    plan_year = factory.SubFactory(PlanYearFactory)
    created_by = factory.SubFactory(ExecutiveFactory)
    last_edited_by = factory.LazyAttribute(lambda s: s.created_by)


class BehaviourFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coaching.Behaviour"

    behaviour_set = factory.SubFactory(BehaviourSetFactory)
    name = factory.Sequence(lambda n: f"Behaviour {n}")
    description = "Asks before telling; repeats back what the customer needs."
    weight = 50
    objective_pct = 80


class CustomerContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coaching.CustomerContact"

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")


class CustomerRatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coaching.CustomerRating"

    account = factory.SubFactory(AccountFactory)
    rm = factory.LazyAttribute(lambda r: r.account.owner)
    behaviour = factory.SubFactory(BehaviourFactory)
    month = datetime.date(2027, 3, 1)
    rating = 4
    comment = ""
    source = "admin"


class ImprovementPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coaching.ImprovementPlan"

    rm = factory.SubFactory(RmFactory)
    behaviour = factory.SubFactory(BehaviourFactory)
    actions = "Send a written summary within a day of every review."
    support = "Leader joins two reviews a month."
    review_on = datetime.date(2027, 6, 30)


# --- jobs and retention --------------------------------------------------------------------


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "org.Notification"

    user = factory.SubFactory(RmFactory)
    key = factory.Sequence(lambda n: f"test:{n}")
    subject = "Check-in with your leader tomorrow at 09:00"


class RiskScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "retention.RiskScore"

    account = factory.SubFactory(AccountFactory)
    scored_on = datetime.date(2027, 3, 10)
    score = 40
    reasons = factory.LazyFunction(
        lambda: [{"code": "no_contact", "points": 20, "detail": "No contact for 45 days"}]
    )


class SecondaryContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "retention.SecondaryContact"

    account = factory.SubFactory(AccountFactory)
    person = factory.LazyAttribute(lambda s: s.account.owner.team.leader)
    role = "Team leader"


class DepartureCaseFactory(factory.django.DjangoModelFactory):
    """An RM who gave notice on 1 March 2027, last day 31 March; opened by their leader."""

    class Meta:
        model = "retention.DepartureCase"

    rm = factory.SubFactory(RmFactory)
    notice_on = datetime.date(2027, 3, 1)
    last_day = datetime.date(2027, 3, 31)
    opened_by = factory.LazyAttribute(lambda c: c.rm.team.leader)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "retention.Campaign"

    name = factory.Sequence(lambda n: f"Spring cash management {n}")
    starts_on = datetime.date(2027, 3, 1)
    ends_on = datetime.date(2027, 5, 31)
    goal = "cross_sell"
    target_value = Decimal("2.50")
    created_by = factory.SubFactory(ExecutiveFactory)


class CampaignAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "retention.CampaignAccount"

    campaign = factory.SubFactory(CampaignFactory)
    account = factory.SubFactory(AccountFactory)
    reason = "Holds a deposit account but no cash management"
    source = "filter"
