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
    Opportunity,
    OpportunityKind,
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
    created_on = datetime.date(2026, 9, 1)
