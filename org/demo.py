"""The demo bank: a deterministic business-banking sales force to look at and to demo with.

`seed_demo(as_of=..., seed=...)` builds the same bank every time for the same seed and the
same `as_of`: people and teams, reference data (segments, tiers, products), a book of
accounts per RM with 36 months of positions, a year of activities and a pipeline. Every
date is relative to `as_of`, and all randomness comes from `random.Random` seeded from
`seed` (no Faker, no clock), so a demo script or a test can rely on what it will find.

Scale 1 is a bank of 3 teams, 30 RMs and about 1,500 accounts; `scale=N` multiplies teams,
leaders, RMs and accounts by N. Two executives (exec1 and exec2: four eyes needs a second
one to approve what the first proposed), an administrator and a leader per team.

The plan year that contains `as_of` comes on top (planning.demo): standards, approved bank
targets, team and RM targets waiting for sign-off, and territory, relationship and
development plans in every state.

The story the data tells, so that every screen has something to show:

* books grow or shrink: each account and product has its own trend, the season of its
  segment (farms hold cash after the harvest and draw their lines in spring) and noise;
* some active accounts are quietly leaving (deposits falling over the last months) and
  lost ones declined before they went, then show zero balances;
* loans have contract or maturity dates spread over the next 24 months (renewals);
* two RMs per three teams have given notice; the "must keep" and part of the "grow"
  accounts of each are covered by a teammate, the rest is still uncovered, and the
  leaving RMs' activity has fallen (the early-warning signal);
* minders review and visit their book, finders call prospects and bring new business;
* every RM still at the bank has a diary of planned activities for this week and next;
  done ones leave follow-ups (rm1, weak at follow-up, has a few overdue), and each team's
  leader went along on a handful of visits in the last six weeks (joint visits);
* every RM has open deals in every stage, each with a forecast category and a next step,
  and every deal has its stage history (OpportunityChange): created, moved through the
  stages, an amount changed now and then, close dates moved out (slipped), won or lost.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import (
    Account,
    AccountStatus,
    Activity,
    ActivityKind,
    ActivityStatus,
    ForecastCategory,
    LostReason,
    Opportunity,
    OpportunityChange,
    OpportunityKind,
    OpportunityStage,
    OpportunityStatus,
    OwnershipChange,
    Position,
    Product,
    ProductFamily,
    Segment,
    Tier,
)
from coaching.demo import seed_coaching
from org.models import Market, RmStyle, Role, Team, TeamMembership, User
from planning.demo import seed_planning
from retention.demo import NOTICE_DAYS, seed_retention

DEMO_PASSWORD = "flightpath"
MONTHS_OF_POSITIONS = 36
RMS_PER_TEAM = 10
TEAMS_PER_SCALE = 3
BATCH_SIZE = 5_000

# Reset wipes the whole sales-force world: these apps' tables (with their history and
# many-to-many tables) and every table that refers to them.
DEMO_APPS = ("org", "accounts", "planning", "coaching", "retention")
# ...except reference data that a migration creates rather than the demo: the metric
# catalogue is the same in every bank, and nothing in it refers to the demo's rows.
KEPT_BY_RESET = ("planning.Metric", "retention.RiskFactor")


class DemoBankExists(Exception):
    """The database already holds people or accounts; seeding would mix two banks."""


@dataclasses.dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    team: str


@dataclasses.dataclass(frozen=True)
class DemoSummary:
    scale: int
    seed: int
    as_of: dt.date
    users: int
    teams: int
    segments: int
    tiers: int
    products: int
    accounts: int
    ownership_changes: int
    positions: int
    activities: int
    opportunities: int
    elapsed_seconds: float
    plan_year: int | None = None
    target_sets: int = 0
    territory_plans: int = 0
    relationship_plans: int = 0
    development_plans: int = 0
    checkins: int = 0
    commitments: int = 0
    customer_ratings: int = 0
    departure_cases: int = 0
    campaigns: int = 0
    risk_scores: int = 0
    variances: int = 0
    planned_activities: int = 0
    joint_activities: int = 0
    opportunity_changes: int = 0
    forecast_submissions: int = 0
    forecast_snapshots: int = 0
    logins: tuple[DemoLogin, ...] = ()

    def counts(self) -> dict[str, int]:
        return {
            "users": self.users,
            "teams": self.teams,
            "segments": self.segments,
            "tiers": self.tiers,
            "products": self.products,
            "accounts": self.accounts,
            "ownership changes": self.ownership_changes,
            "positions": self.positions,
            "activities": self.activities,
            "planned activities": self.planned_activities,
            "joint activities": self.joint_activities,
            "opportunities": self.opportunities,
            "deal changes": self.opportunity_changes,
            "target sets": self.target_sets,
            "territory plans": self.territory_plans,
            "relationship plans": self.relationship_plans,
            "development plans": self.development_plans,
            "forecasts": self.forecast_submissions,
            "frozen forecasts": self.forecast_snapshots,
            "check-ins": self.checkins,
            "commitments": self.commitments,
            "customer ratings": self.customer_ratings,
            "departure cases": self.departure_cases,
            "campaigns": self.campaigns,
            "risk scores": self.risk_scores,
            "variances": self.variances,
        }


def seed_demo(*, scale: int = 1, as_of: dt.date, seed: int = 1, reset: bool = False) -> DemoSummary:
    """Build the demo bank as it stands on `as_of`, in one transaction."""
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
        raise ValueError(f"scale must be a whole number of at least 1, not {scale!r}")
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise ValueError(f"as_of must be a date, not {as_of!r}")
    started = time.perf_counter()
    with transaction.atomic():
        if reset:
            wipe_demo_bank()
        elif User.objects.exists() or Account.objects.exists():
            raise DemoBankExists(
                "The database already has users or accounts. Seed the demo bank only into "
                "an empty database, or reset it (seed_demo --reset), which deletes them."
            )
        summary = _DemoBankBuilder(scale=scale, as_of=as_of, seed=seed).build()
    refresh_planner_statistics()
    return dataclasses.replace(summary, elapsed_seconds=time.perf_counter() - started)


def refresh_planner_statistics() -> None:
    """Let PostgreSQL's planner know the tables just grew from nothing to millions of rows.

    Until autovacuum gets round to it, the planner believes the tables are nearly empty and
    picks plans that are 100 times slower (My book at scale 10: 84 ms instead of 0.7 ms for
    its balance query). SQLite's planner, too, chooses better with statistics.
    """
    with connection.cursor() as cursor:
        coaching = [apps.get_model("coaching", m) for m in ("CheckIn", "CustomerRating")]
        for model in (Account, Position, Activity, Opportunity, *coaching):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def wipe_demo_bank() -> None:
    """Delete people, teams, reference data and the whole book, with one flush.

    Everything of the planning, coaching and retention apps goes with them: plans and
    check-ins hang off the people and accounts, and a demo bank is not mixed with another.
    Only the reference data that migrations create (the metric catalogue) stays.

    A flush (TRUNCATE on PostgreSQL, DELETE per table on SQLite) instead of the ORM's
    delete: the ORM would load every account to send signals and write a history row for
    each. Sequences restart so that the same seed gives the same ids. Sessions go too:
    every demo user has the same password hash, so an old session cookie would otherwise
    log its holder in as whoever gets that user id in the new bank.
    """
    existing = set(connection.introspection.table_names())
    tables = {
        model._meta.db_table
        for label in DEMO_APPS
        if label in apps.app_configs
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and model._meta.label not in KEPT_BY_RESET
    } & existing
    if connection.vendor == "postgresql":
        # TRUNCATE refuses tables with deferred foreign-key checks still pending, which a
        # second seed in the same transaction (a test) would leave: run them now.
        connection.check_constraints()
    statements = connection.ops.sql_flush(
        no_style(), sorted(tables), reset_sequences=True, allow_cascade=True
    )
    connection.ops.execute_sql_flush(statements)
    if apps.is_installed("django.contrib.sessions"):
        from django.contrib.sessions.models import Session

        if Session._meta.db_table in existing:
            Session.objects.all().delete()


# --------------------------------------------------------------------------------------
# Fixed word lists: the bank's vocabulary. Changing them changes the bank, on purpose only.

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Mason", "Isabella", "Lucas",
    "Mia", "Logan", "Charlotte", "James", "Amelia", "Benjamin", "Harper", "Elijah", "Evelyn",
    "Alexander", "Abigail", "Daniel", "Emily", "Henry", "Ella", "Jackson", "Grace", "Samuel",
    "Chloe", "Sebastian", "Victoria", "David", "Riley", "Joseph", "Aria", "Carter", "Lily",
    "Owen", "Hannah", "Wyatt", "Nora", "John", "Zoe", "Jack", "Leah", "Luke", "Hazel",
    "Gabriel", "Aurora", "Anthony", "Savannah", "Isaac", "Audrey", "Dylan", "Claire", "Leo",
    "Priya", "Raj", "Mei", "Wei", "Fatima", "Omar", "Sofia", "Mateo", "Aisha", "Kwame",
    "Ingrid", "Lars", "Chiara", "Marco",
)  # fmt: skip

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Chen", "Kim", "Okafor",
    "Schmidt", "Rossi", "Novak", "Larsen", "Dubois", "Murphy", "O'Brien", "Kowalski",
    "Fischer", "Haddad", "Singh", "Tanaka", "Costa", "Meyer", "Bennett", "Foster",
)  # fmt: skip

REGIONS = (
    "Northgate", "Riverside", "Harbour", "Westfield", "Eastbrook", "Southbank", "Hillcrest",
    "Lakeside", "Midtown", "Oakridge", "Pinecrest", "Bayview",
)  # fmt: skip

# Three teams per scale step: a small-business team and two commercial-banking teams, the
# third of which serves the corporate end of the market.
TEAM_MARKETS = (Market.SMALL_BUSINESS, Market.COMMERCIAL, Market.CORPORATE)
MARKET_TEAM_NAMES = {
    Market.SMALL_BUSINESS: "Small Business",
    Market.COMMERCIAL: "Commercial",
    Market.CORPORATE: "Corporate",
}

SEGMENTS = (
    {
        "key": "professional",
        "name": "Professional services",
        "ideal_customer_profile": (
            "Law firms, accounting practices, consultancies and architects with 5-200 staff "
            "and 1-50 million in fees; partnership or owner-managed; steady fee income "
            "with work-in-progress and receivables to finance; partners who also bank "
            "privately with us."
        ),
        "value_proposition": (
            "\"Our partners get paid on time and our client money is kept apart and "
            "reconciled every day - and our banker understands how a partnership draws "
            "capital.\""
        ),
        "nouns": ("Law Partners", "Accountants", "Advisory", "Consulting", "Architects",
                  "Engineering", "Legal", "Tax & Audit"),
        # Deposits peak in December when the year's fees are collected.
        "season": (0.08, 12),
    },
    {
        "key": "manufacturing",
        "name": "Manufacturing and distribution",
        "ideal_customer_profile": (
            "Manufacturers, wholesalers and logistics firms with 5-250 million in sales; "
            "inventory and receivables that swing with the order book; capital expenditure "
            "on machines and vehicles; importing or exporting."
        ),
        "value_proposition": (
            "\"We can buy the machine when the order comes in, our line grows with our "
            "stock, and our suppliers abroad are paid without us chasing anyone.\""
        ),
        "nouns": ("Manufacturing", "Fabrication", "Tool & Die", "Plastics", "Logistics",
                  "Distribution", "Metalworks", "Packaging", "Industries"),
        "season": (0.10, 9),
    },
    {
        "key": "real_estate",
        "name": "Commercial real estate",
        "ideal_customer_profile": (
            "Owners, investors and developers of offices, retail, industrial and multi-family "
            "property; stabilised rental income with a debt-service cover of 1.25 or more; "
            "portfolios of 2-100 million."
        ),
        "value_proposition": (
            "\"When a building comes up we get a straight answer fast, and our rents land in "
            "one place where we can see every property.\""
        ),
        "nouns": ("Properties", "Realty Holdings", "Development", "Estates", "Property Group",
                  "Land Company", "Investments"),
        "season": (0.03, 6),
    },
    {
        "key": "healthcare",
        "name": "Healthcare practices",
        "ideal_customer_profile": (
            "Dental, medical, veterinary and therapy practices and clinics with 2-40 "
            "practitioners; insurer receivables; equipment and fit-out financing; practice "
            "acquisitions and succession."
        ),
        "value_proposition": (
            "\"Buying into the practice and replacing the chairs was one conversation, and "
            "insurer payments reconcile without our office manager staying late.\""
        ),
        "nouns": ("Dental Group", "Family Medicine", "Veterinary Clinic", "Physical Therapy",
                  "Eye Care", "Medical Center", "Orthodontics", "Pharmacy"),
        "season": (0.05, 1),
    },
    {
        "key": "agribusiness",
        "name": "Agribusiness",
        "ideal_customer_profile": (
            "Family farms, growers, dairies and food processors with 1-60 million in "
            "sales; strongly seasonal cash flow; land, machinery and crop finance; "
            "succession to the next generation."
        ),
        "value_proposition": (
            "\"Our line is there for seed and fertiliser in spring and our cash earns "
            "something after harvest - and our banker has stood in the field.\""
        ),
        "nouns": ("Farms", "Orchards", "Dairy", "Growers", "Grain Co-op", "Vineyards",
                  "Produce", "Feed & Seed"),
        # Cash comes in after the harvest; lines are drawn in spring (opposite phase).
        "season": (0.25, 11),
    },
)  # fmt: skip

# How each market spreads over the segments (weights in SEGMENTS order).
MARKET_SEGMENT_WEIGHTS = {
    Market.SMALL_BUSINESS: (35, 10, 10, 35, 10),
    Market.COMMERCIAL: (20, 30, 20, 15, 15),
    Market.CORPORATE: (10, 40, 35, 5, 10),
}

TIERS = (
    {
        "code": "A",
        "name": "High value / must keep",
        "retention_target_pct": Decimal("100.00"),
        "max_days_without_contact": 30,
        "criteria": (
            "Top relationships by revenue (roughly the top 15 % of the book): annual revenue "
            "above the segment's 85th percentile, or total balances above 2 million, or "
            "three or more product families. Each has a relationship plan and a review at "
            "least every quarter; none may be left uncovered."
        ),
    },
    {
        "code": "B",
        "name": "Grow",
        "retention_target_pct": Decimal("90.00"),
        "max_days_without_contact": 60,
        "criteria": (
            "Relationships with room to grow (about a third of the book): fit the segment's "
            "ideal customer profile but hold fewer than three product families, or bank "
            "part of their business elsewhere. Each has a cross-sell or deepening goal."
        ),
    },
    {
        "code": "C",
        "name": "Maintain",
        "retention_target_pct": Decimal("80.00"),
        "max_days_without_contact": 90,
        "criteria": (
            "Everything else: served efficiently, contacted at least twice a year, "
            "reviewed for moving up when their business grows."
        ),
    },
)

# Tier shares of the book and how much bigger a tier's relationships are than average.
TIER_SHARES = (("A", 0.15), ("B", 0.35), ("C", 0.50))
TIER_SIZE = {"A": 4.0, "B": 1.5, "C": 0.6}

# code, name, family; then per product: balance as a multiple of the account's size, and
# monthly revenue as a share of balance (interest margin or its worth as funding), or a
# fee when the product carries no balance.
PRODUCTS = (
    ("TL", "Term loan", ProductFamily.LOAN),
    ("RCL", "Revolving credit line", ProductFamily.LOAN),
    ("CRE", "Commercial mortgage", ProductFamily.LOAN),
    ("DDA", "Operating account (DDA)", ProductFamily.DEPOSIT),
    ("MMA", "Money market account", ProductFamily.DEPOSIT),
    ("TD", "Time deposit", ProductFamily.DEPOSIT),
    ("CASH", "Cash management", ProductFamily.TREASURY),
    ("CARD", "Corporate card", ProductFamily.CARD),
    ("MERCH", "Merchant services", ProductFamily.OTHER),
)
BALANCE_MULTIPLE = {
    "TL": 2.5, "RCL": 1.2, "CRE": 4.0, "DDA": 1.0, "MMA": 1.5, "TD": 1.2,
    "CASH": 0.0, "CARD": 0.08, "MERCH": 0.0,
}  # fmt: skip
MONTHLY_MARGIN = {
    "TL": 0.024 / 12, "RCL": 0.030 / 12, "CRE": 0.020 / 12, "DDA": 0.020 / 12,
    "MMA": 0.012 / 12, "TD": 0.006 / 12, "CARD": 0.016,
}  # fmt: skip
# Fee products: monthly fee = share of the account's size + a fixed part.
MONTHLY_FEE = {"CASH": (0.002, 150.0), "MERCH": (0.0025, 50.0)}
LOANS = ("TL", "RCL", "CRE")

# Typical operating-account balance of a relationship in each market (in the bank's currency).
MARKET_SIZE = {
    Market.SMALL_BUSINESS: 60_000.0,
    Market.COMMERCIAL: 500_000.0,
    Market.CORPORATE: 2_500_000.0,
}

NAME_FIRST = (
    "Maple", "Cedar", "Summit", "Bluewater", "Granite", "Harbor", "Ironwood", "Juniper",
    "Keystone", "Lakeshore", "Meridian", "Northstar", "Oakfield", "Pinnacle", "Quarry",
    "Redwood", "Silverline", "Tidewater", "Upland", "Valley", "Willow", "Aspen", "Beacon",
    "Copper", "Driftwood", "Evergreen", "Foxglove", "Golden Gate", "Highland", "Indigo",
    "Jasper", "Kingsley", "Lindenwood", "Millbrook", "Newport", "Orchard Hill", "Prairie",
    "Ridgeline", "Stonebridge", "Thornbury", "Union", "Vantage", "Westbrook", "Yardley",
    "Alder", "Birchwood", "Crescent", "Dunmore", "Elmstead", "Fairview",
)  # fmt: skip
LEGAL_FORMS = ("LLC", "Inc.", "Ltd", "& Co.", "Group", "", "", "")

LOST_REASONS = (
    "Moved to a competitor offering a lower loan rate",
    "Followed their former relationship manager to another bank",
    "Business sold; the buyer banks elsewhere",
    "Pricing of the renewal was not competitive",
    "Repeated service problems with cash management",
    "Consolidated all banking with the lender of their new parent",
)
OWNERSHIP_REASONS = (
    "Books rebalanced across the team",
    "Customer asked for a new relationship manager",
    "Moved to the RM who covers their industry",
    "Handed over after a team reorganisation",
)

# What each style of RM does in a working week and how it divides its time.
WEEKLY_ACTIVITIES = {RmStyle.FINDER: 9.0, RmStyle.MINDER: 7.0, RmStyle.BOTH: 8.0}
ACTIVITY_MIX = {
    RmStyle.FINDER: ((ActivityKind.CALL, 55), (ActivityKind.MEETING, 20),
                     (ActivityKind.VISIT, 15), (ActivityKind.REVIEW, 10)),
    RmStyle.MINDER: ((ActivityKind.CALL, 25), (ActivityKind.MEETING, 15),
                     (ActivityKind.VISIT, 30), (ActivityKind.REVIEW, 30)),
    RmStyle.BOTH: ((ActivityKind.CALL, 40), (ActivityKind.MEETING, 15),
                   (ActivityKind.VISIT, 25), (ActivityKind.REVIEW, 20)),
}  # fmt: skip
# Share of a finder's outreach that goes to prospects rather than the book.
PROSPECTING_SHARE = {RmStyle.FINDER: 0.5, RmStyle.BOTH: 0.25, RmStyle.MINDER: 0.08}
ACTIVITY_OUTCOMES = {
    ActivityKind.CALL: (
        "Checked in; no needs this quarter.",
        "Asked about the renewal timetable; sending terms next week.",
        "Left a message with the CFO's assistant.",
        "Introduced the card programme; they will think about it.",
        "Agreed a visit for next month.",
        "Customer mentioned a competitor's rate offer.",
    ),
    ActivityKind.VISIT: (
        "Toured the site; expansion planned next year, will need equipment finance.",
        "Met the owner and the new finance manager.",
        "Walked through cash flow for the season; line headroom is enough.",
        "Discussed succession: the daughter takes over in two years.",
    ),
    ActivityKind.MEETING: (
        "Presented the cash management proposal to the CFO.",
        "Joint meeting with the treasury specialist; pilot agreed.",
        "Negotiated covenants on the renewal.",
        "Introduced our private banking colleague to the partners.",
    ),
    ActivityKind.REVIEW: (
        "Annual review done; financials in line, rating unchanged.",
        "Quarterly review: deposits down, asked why - moving payroll elsewhere?",
        "Reviewed the relationship plan with the customer; two actions agreed.",
        "Covenant check passed; no exceptions.",
    ),
}

# What a conversation leads to: a next step with a due date, a follow-up on the RM's list.
NEXT_STEPS = {
    ActivityKind.CALL: (
        "Send the renewal terms",
        "Call back with the deposit rate",
        "Email the card programme details",
        "Book a visit with the owner",
    ),
    ActivityKind.VISIT: (
        "Send the equipment-finance quote",
        "Introduce the treasury specialist",
        "Write up the visit for credit",
    ),
    ActivityKind.MEETING: (
        "Send the revised proposal",
        "Get credit's answer on the covenants",
        "Draft the pilot agreement",
    ),
    ActivityKind.REVIEW: (
        "Update the relationship plan",
        "Ask for the year's financials",
        "Book the next quarterly review",
    ),
}
FOLLOW_UP_SHARE = 0.15
# What a leader who went along saw: the joint visits of the weekly check-ins.
JOINT_OUTCOMES = (
    "Joint visit with {leader}: the owner walked us through next year's expansion.",
    "{leader} came along; we agreed to put the renewal terms in writing by Friday.",
    "Visited with {leader}: strong questions on cash flow, pricing left for credit.",
    "With {leader}: the CFO asked for a treasury proposal before the year-end.",
)
# Joint visits by a team's leader over the last six weeks, and over the rest of the year.
JOINT_RECENT, JOINT_EARLIER, JOINT_PLANNED = (5, 8), (8, 12), (1, 2)

# Stages of an open opportunity, how often one sits in each, and its typical probability.
DEMO_LOST_REASONS = (
    "Price or rate",
    "Lost to a competitor",
    "Customer's plans changed",
    "Credit declined",
    "No decision",
)
OPEN_STAGES = (
    (OpportunityStage.LEAD, 30, 10),
    (OpportunityStage.QUALIFIED, 25, 25),
    (OpportunityStage.PROPOSAL, 20, 50),
    (OpportunityStage.NEGOTIATION, 15, 70),
    (OpportunityStage.CLOSING, 10, 90),
)
# Open, won (last 12 months) and lost (last 12 months) opportunities per RM.
PIPELINE_SIZE = {
    RmStyle.FINDER: (12, 8, 7),
    RmStyle.BOTH: (10, 7, 5),
    RmStyle.MINDER: (8, 6, 4),
}
# Kinds of an RM's opportunities: new business, cross-sell, renewal.
KIND_WEIGHTS = {
    RmStyle.FINDER: (60, 30, 10),
    RmStyle.BOTH: (35, 40, 25),
    RmStyle.MINDER: (15, 45, 40),
}
# The RM's next step on an open deal, by stage.
DEAL_NEXT_STEPS = {
    OpportunityStage.LEAD: (
        "Call the owner to find out what they need",
        "Ask the accountant for an introduction",
    ),
    OpportunityStage.QUALIFIED: (
        "Collect the last three years' financials",
        "Book a meeting with the finance director",
    ),
    OpportunityStage.PROPOSAL: (
        "Present the proposal to the CFO",
        "Send the indicative terms",
    ),
    OpportunityStage.NEGOTIATION: (
        "Agree the covenant package with credit",
        "Answer the competitor's rate offer",
    ),
    OpportunityStage.CLOSING: (
        "Sign the facility letter",
        "Open the accounts and set up the first drawdown",
    ),
}
LOST_NOTES = (
    "",
    "Their current bank matched our rate at the last minute.",
    "The owner put the expansion off until next year.",
    "Credit would not go above 60 % loan-to-value.",
)


# --------------------------------------------------------------------------------------
# Plain data while building; written to the database in bulk.


@dataclasses.dataclass
class _Person:
    username: str
    role: str
    first_name: str
    last_name: str
    hired_on: dt.date
    style: str = ""
    team_index: int | None = None
    notice_given_on: dt.date | None = None
    pk: int | None = None


@dataclasses.dataclass
class _Book:
    """One account while building: what it is, what it holds and how its balances move."""

    number: str
    name: str
    segment_index: int
    tier: str
    owner: _Person
    status: str
    size: float
    opened_on: dt.date | None
    closed_on: dt.date | None = None
    lost_reason: str = ""
    contract_until: dt.date | None = None
    covering: _Person | None = None
    products: tuple[str, ...] = ()
    leaving_from: int | None = None  # month index where an active account starts to leave
    pk: int | None = None


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(month: dt.date) -> dt.date:
    return _month_start(_month_index(month) + 1) - dt.timedelta(days=1)


def _cents_to_decimal(cents: int) -> Decimal:
    # Exact: the money columns never see a float.
    return Decimal(cents).scaleb(-2)


def _cents_to_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _moment(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A time of day in the bank's zone (what make_aware does with a zoneinfo zone, without
    its checks: twelve thousand activities are stamped)."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def _weighted(rng: random.Random, pairs):
    """Pick the first item of one of `pairs` (item, weight, ...) by weight."""
    total = sum(p[1] for p in pairs)
    x = rng.random() * total
    for p in pairs:
        x -= p[1]
        if x < 0:
            return p
    return pairs[-1]


class _DemoBankBuilder:
    def __init__(self, *, scale: int, as_of: dt.date, seed: int):
        self.scale = scale
        self.as_of = as_of
        self.seed = seed
        # The last complete month before as_of closes the positions.
        self.last_month = _month_index(as_of) - 1
        self.first_month = self.last_month - MONTHS_OF_POSITIONS + 1
        self.months = [_month_start(i) for i in range(self.first_month, self.last_month + 1)]
        self.people: list[_Person] = []
        self.rms: list[_Person] = []
        self.leaders: list[_Person] = []
        self.books: list[_Book] = []
        self.team_pks: list[int] = []
        self.team_names: list[str] = []
        self.planned_activities = self.joint_activities = self.opportunity_changes = 0

    def rng(self, part: str) -> random.Random:
        # One stream per part, so that a change to how activities are drawn does not
        # reshuffle the accounts.
        return random.Random(f"flightpath-demo:{self.seed}:{part}")

    # ---------------------------------------------------------------------------------
    def build(self) -> DemoSummary:
        segments, tiers, products = self._reference_data()
        self._people()
        self._books()
        accounts = self._write_accounts(segments, tiers)
        ownership_changes = self._ownership_changes()
        positions = self._write_positions(products)
        activities = self._activities()
        opportunities = self._opportunities(products)
        planning = seed_planning(as_of=self.as_of, seed=self.seed)
        coaching = seed_coaching(as_of=self.as_of, seed=self.seed)
        retention = seed_retention(as_of=self.as_of, seed=self.seed)
        return DemoSummary(
            scale=self.scale,
            seed=self.seed,
            as_of=self.as_of,
            users=len(self.people),
            teams=len(self.team_names),
            segments=len(segments),
            tiers=len(tiers),
            products=len(products),
            accounts=accounts,
            ownership_changes=ownership_changes,
            positions=positions,
            activities=activities,
            opportunities=opportunities,
            elapsed_seconds=0.0,
            plan_year=planning.plan_year,
            target_sets=planning.target_sets,
            territory_plans=planning.territory_plans,
            relationship_plans=planning.relationship_plans,
            development_plans=planning.development_plans,
            checkins=coaching.checkins,
            commitments=coaching.commitments,
            customer_ratings=coaching.ratings,
            departure_cases=retention.departure_cases,
            campaigns=retention.campaigns,
            risk_scores=retention.risk_scores,
            variances=retention.variances,
            planned_activities=self.planned_activities,
            joint_activities=self.joint_activities,
            opportunity_changes=self.opportunity_changes,
            forecast_submissions=planning.forecast_submissions,
            forecast_snapshots=planning.forecast_snapshots,
            logins=self._logins(),
        )

    # ---------------------------------------------------------------------------------
    def _reference_data(self) -> tuple[list[int], dict[str, int], dict[str, int]]:
        """Segments, tiers and products; returns their pks by position, code and code."""
        Segment.objects.bulk_create(
            Segment(
                name=s["name"],
                ideal_customer_profile=s["ideal_customer_profile"],
                value_proposition=s["value_proposition"],
            )
            for s in SEGMENTS
        )
        Tier.objects.bulk_create(
            Tier(
                code=t["code"],
                name=t["name"],
                criteria=t["criteria"],
                retention_target_pct=t["retention_target_pct"],
                max_days_without_contact=t["max_days_without_contact"],
            )
            for t in TIERS
        )
        Product.objects.bulk_create(
            Product(code=code, name=name, family=family) for code, name, family in PRODUCTS
        )
        segment_pk = dict(Segment.objects.values_list("name", "pk"))
        return (
            [segment_pk[s["name"]] for s in SEGMENTS],
            dict(Tier.objects.values_list("code", "pk")),
            dict(Product.objects.values_list("code", "pk")),
        )

    # ---------------------------------------------------------------------------------
    def _people(self) -> None:
        rng = self.rng("people")
        as_of = self.as_of
        n_teams = TEAMS_PER_SCALE * self.scale
        n_rms = RMS_PER_TEAM * n_teams
        names = self._names(rng, 2 + n_teams + n_rms)

        def hired(min_years: int, max_years: int) -> dt.date:
            return as_of - dt.timedelta(days=rng.randint(min_years * 365, max_years * 365))

        admin = _Person("admin", Role.ADMIN, *names.pop(0), hired_on=hired(3, 12))
        executive = _Person("exec1", Role.EXECUTIVE, *names.pop(0), hired_on=hired(10, 25))
        self.leaders = [
            _Person(f"leader{i + 1}", Role.LEADER, *names.pop(0), hired_on=hired(6, 22))
            for i in range(n_teams)
        ]
        for t in range(n_teams):
            market = TEAM_MARKETS[t % 3]
            region = REGIONS[t % len(REGIONS)]
            lap = t // len(REGIONS)
            suffix = f" {lap + 1}" if lap else ""
            self.team_names.append(f"{region}{suffix} {MARKET_TEAM_NAMES[market]}")

            # Every team mixes the styles: three finders, four minders, three of both.
            styles = [RmStyle.FINDER] * 3 + [RmStyle.MINDER] * 4 + [RmStyle.BOTH] * 3
            rng.shuffle(styles)
            for k in range(RMS_PER_TEAM):
                number = t * RMS_PER_TEAM + k + 1
                self.rms.append(
                    _Person(
                        f"rm{number}",
                        Role.RM,
                        *names.pop(0),
                        hired_on=hired(1, 20),
                        style=styles[k],
                        team_index=t,
                    )
                )

        # Someone is leaving: in every group of three teams, the 4th RM of the second team
        # gave notice 18 days ago and the 7th RM of the third team 45 days ago (rm14 and
        # rm27 at scale 1). Their hire dates are long before either.
        for block in range(self.scale):
            for offset, days_ago in ((13, 18), (26, 45)):
                rm = self.rms[block * 30 + offset]
                rm.notice_given_on = as_of - dt.timedelta(days=days_ago)
                rm.hired_on = min(rm.hired_on, as_of - dt.timedelta(days=days_ago + 365))

        # The second executive comes from a stream of its own, so that adding them left
        # every other name and date of the bank as it was.
        exec2 = self._second_executive([admin, executive, *self.leaders, *self.rms])
        self.people = [admin, executive, exec2, *self.leaders, *self.rms]
        self._write_people()

    def _second_executive(self, people: list[_Person]) -> _Person:
        rng = self.rng("people:exec2")
        taken = {(p.first_name, p.last_name) for p in people}
        free = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES if (f, last) not in taken]
        first, last = rng.choice(free)
        hired_on = self.as_of - dt.timedelta(days=rng.randint(8 * 365, 20 * 365))
        return _Person("exec2", Role.EXECUTIVE, first, last, hired_on=hired_on)

    @staticmethod
    def _names(rng: random.Random, count: int) -> list[tuple[str, str]]:
        pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
        if count <= len(pairs):
            return rng.sample(pairs, count)
        return [rng.choice(pairs) for _ in range(count)]  # very large scales repeat names

    def _write_people(self) -> None:
        # Hash once: the same salted hash serves every demo user (PBKDF2 per user would
        # cost half a second each at scale 10).
        password = make_password(DEMO_PASSWORD)
        utc = dt.UTC

        def user(p: _Person, team_pk: int | None = None) -> User:
            return User(
                username=p.username,
                email=f"{p.username}@demobank.example",
                first_name=p.first_name,
                last_name=p.last_name,
                password=password,
                role=p.role,
                rm_style=p.style,
                team_id=team_pk,
                is_staff=p.role == Role.ADMIN,
                is_superuser=p.role == Role.ADMIN,
                hired_on=p.hired_on,
                notice_given_on=p.notice_given_on,
                date_joined=dt.datetime.combine(p.hired_on, dt.time(9, 0), tzinfo=utc),
            )

        # Leaders first (teams need them), then the teams, then the RMs who belong to them.
        heads = [p for p in self.people if p.role != Role.RM]
        User.objects.bulk_create([user(p) for p in heads], batch_size=BATCH_SIZE)
        self._remember_pks(heads)
        Team.objects.bulk_create(
            [
                Team(name=name, market=TEAM_MARKETS[t % 3], leader_id=self.leaders[t].pk)
                for t, name in enumerate(self.team_names)
            ],
            batch_size=BATCH_SIZE,
        )
        team_pk = dict(Team.objects.values_list("name", "pk"))
        self.team_pks = [team_pk[name] for name in self.team_names]
        User.objects.bulk_create(
            [user(p, self.team_pks[p.team_index]) for p in self.rms], batch_size=BATCH_SIZE
        )
        self._remember_pks(self.rms)
        self._write_memberships()

    def _write_memberships(self) -> None:
        """One open membership per RM from their hiring date; the first RM of the second team
        moved there from the first team on 1 June this year (team figures before June count
        them in the first team: docs/metrics.md "Team membership over time")."""
        moved_on = dt.date(self.as_of.year, 6, 1)
        mover = next(
            (p for p in self.rms if p.team_index == 1 and p.hired_on < moved_on < self.as_of),
            None,
        )
        rows = []
        for p in self.rms:
            team = self.team_pks[p.team_index]
            if p is mover and len(self.team_pks) > 1:
                rows.append(
                    TeamMembership(
                        user_id=p.pk,
                        team_id=self.team_pks[0],
                        started_on=p.hired_on,
                        ended_on=moved_on - dt.timedelta(days=1),
                    )
                )
                rows.append(TeamMembership(user_id=p.pk, team_id=team, started_on=moved_on))
            else:
                rows.append(TeamMembership(user_id=p.pk, team_id=team, started_on=p.hired_on))
        TeamMembership.objects.bulk_create(rows, batch_size=BATCH_SIZE)

    @staticmethod
    def _remember_pks(people: list[_Person]) -> None:
        pks = dict(User.objects.values_list("username", "pk"))
        for p in people:
            p.pk = pks[p.username]

    # ---------------------------------------------------------------------------------
    def _books(self) -> None:
        rng = self.rng("accounts")
        as_of = self.as_of
        books_per_style = {
            RmStyle.FINDER: (40, 50),
            RmStyle.BOTH: (45, 55),
            RmStyle.MINDER: (50, 60),
        }
        prospect_share = {RmStyle.FINDER: 0.14, RmStyle.BOTH: 0.08, RmStyle.MINDER: 0.04}
        sizes = [rng.randint(*books_per_style[rm.style]) for rm in self.rms]
        # Unique core-banking numbers, drawn without repetition.
        numbers = rng.sample(range(10_000_000, 100_000_000), sum(sizes))
        used_names: set[str] = set()

        for rm, size in zip(self.rms, sizes, strict=True):
            market = TEAM_MARKETS[rm.team_index % 3]
            for _ in range(size):
                segment_index = _weighted(
                    rng,
                    list(zip(range(len(SEGMENTS)), MARKET_SEGMENT_WEIGHTS[market], strict=True)),
                )[0]
                tier = _weighted(rng, TIER_SHARES)[0]
                account_size = MARKET_SIZE[market] * TIER_SIZE[tier] * rng.lognormvariate(0, 0.5)

                x = rng.random()
                p_prospect = prospect_share[rm.style]
                if x < p_prospect:
                    status = AccountStatus.PROSPECT
                elif x < p_prospect + 0.05:
                    status = AccountStatus.LOST
                elif x < p_prospect + 0.08:
                    status = AccountStatus.CLOSED
                else:
                    status = AccountStatus.ACTIVE

                book = _Book(
                    number=f"CB{numbers.pop():08d}",
                    name=self._company_name(rng, segment_index, used_names),
                    segment_index=segment_index,
                    tier=tier,
                    owner=rm,
                    status=status,
                    size=account_size,
                    opened_on=None,
                )
                if status != AccountStatus.PROSPECT:
                    # Most relationships are older than the three years of positions;
                    # finders brought in more of the new ones.
                    new_share = 0.30 if rm.style == RmStyle.FINDER else 0.15
                    if rng.random() < new_share:
                        book.opened_on = as_of - dt.timedelta(days=rng.randint(20, 3 * 365))
                    else:
                        book.opened_on = as_of - dt.timedelta(
                            days=rng.randint(3 * 365 + 40, 25 * 365)
                        )
                if status in (AccountStatus.CLOSED, AccountStatus.LOST):
                    book.closed_on = as_of - dt.timedelta(days=rng.randint(15, 700))
                    if book.opened_on > book.closed_on - dt.timedelta(days=180):
                        book.opened_on = book.closed_on - dt.timedelta(days=rng.randint(180, 3000))
                    if status == AccountStatus.LOST:
                        book.lost_reason = rng.choice(LOST_REASONS)
                if status != AccountStatus.PROSPECT:
                    book.products = self._products_held(rng, book, market)
                if status == AccountStatus.ACTIVE:
                    if any(p in LOANS for p in book.products):
                        book.contract_until = as_of + dt.timedelta(days=rng.randint(10, 730))
                    elif "TD" in book.products:
                        book.contract_until = as_of + dt.timedelta(days=rng.randint(10, 365))
                    # About one in sixteen active relationships is quietly leaving.
                    if rng.random() < 0.06:
                        book.leaving_from = self.last_month - rng.randint(3, 8)
                self.books.append(book)

        self._cover_leaving_rms(rng)

    @staticmethod
    def _company_name(rng: random.Random, segment_index: int, used: set[str]) -> str:
        nouns = SEGMENTS[segment_index]["nouns"]
        for attempt in range(50):
            first = rng.choice(NAME_FIRST)
            if rng.random() < 0.3:
                first = f"{rng.choice(LAST_NAMES)} & {rng.choice(LAST_NAMES)}"
            elif rng.random() < 0.3:
                first = rng.choice(LAST_NAMES)
            noun, form = rng.choice(nouns), rng.choice(LEGAL_FORMS)
            if form == "Group" and noun.endswith("Group"):
                form = ""
            name = f"{first} {noun} {form}".strip()
            if attempt > 20:
                name = f"{name} {rng.choice(REGIONS)}"
            if name not in used:
                used.add(name)
                return name
        used.add(name)
        return name  # a rare duplicate name, as real banks have

    @staticmethod
    def _products_held(rng: random.Random, book: _Book, market: str) -> tuple[str, ...]:
        """Every relationship has an operating account; many have a loan; at most four."""
        segment = SEGMENTS[book.segment_index]["key"]
        held = ["DDA"]
        if rng.random() < 0.6:
            if segment == "real_estate":
                held.append("CRE" if rng.random() < 0.8 else "TL")
            elif segment == "agribusiness":
                held.append("RCL" if rng.random() < 0.6 else "TL")
            else:
                held.append(rng.choice(("TL", "RCL", "RCL", "CRE")))
        extras = [
            ("MMA", 0.30),
            ("CASH", 0.20 if market == Market.SMALL_BUSINESS else 0.45),
            ("CARD", 0.30),
            ("TD", 0.15),
            ("MERCH", 0.25 if market == Market.SMALL_BUSINESS else 0.05),
        ]
        rng.shuffle(extras)
        for code, p in extras:
            if len(held) < 4 and rng.random() < p:
                held.append(code)
        return tuple(held)

    def _cover_leaving_rms(self, rng: random.Random) -> None:
        """A teammate covers every "must keep" and half of the "grow" accounts of a leaver.

        The rest is still uncovered: the leader has work to do (retention flags it).
        """
        by_team: dict[int, list[_Person]] = {}
        for rm in self.rms:
            by_team.setdefault(rm.team_index, []).append(rm)
        for book in self.books:
            rm = book.owner
            if rm.notice_given_on is None or book.status != AccountStatus.ACTIVE:
                continue
            if book.tier == "A" or (book.tier == "B" and rng.random() < 0.5):
                mates = [
                    m for m in by_team[rm.team_index] if m is not rm and m.notice_given_on is None
                ]
                book.covering = rng.choice(mates[:2])

    # ---------------------------------------------------------------------------------
    def _write_accounts(self, segments, tiers) -> int:
        Account.objects.bulk_create(
            (
                Account(
                    number=b.number,
                    name=b.name,
                    segment_id=segments[b.segment_index],
                    tier_id=tiers[b.tier],
                    owner_id=b.owner.pk,
                    covering_rm_id=b.covering.pk if b.covering else None,
                    status=b.status,
                    opened_on=b.opened_on,
                    closed_on=b.closed_on,
                    lost_reason=b.lost_reason,
                    contract_until=b.contract_until,
                )
                for b in self.books
            ),
            batch_size=BATCH_SIZE,
        )
        pks = dict(Account.objects.values_list("number", "pk"))
        for b in self.books:
            b.pk = pks[b.number]
        return len(pks)

    def _ownership_changes(self) -> int:
        """A few hand-overs in the last two years, recorded by the team's leader."""
        rng = self.rng("ownership")
        team_rms: dict[int, list[_Person]] = {}
        for rm in self.rms:
            team_rms.setdefault(rm.team_index, []).append(rm)
        rows = []
        for b in self.books:
            if b.status != AccountStatus.ACTIVE or b.owner.notice_given_on or rng.random() >= 0.03:
                continue
            previous = rng.choice([m for m in team_rms[b.owner.team_index] if m is not b.owner])
            day = self.as_of - dt.timedelta(days=rng.randint(30, 700))
            if b.opened_on and day <= b.opened_on:
                continue
            rows.append(
                OwnershipChange(
                    account_id=b.pk,
                    previous_owner_id=previous.pk,
                    new_owner_id=b.owner.pk,
                    changed_at=dt.datetime.combine(
                        day, dt.time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), tzinfo=dt.UTC
                    ),
                    changed_by_id=self.leaders[b.owner.team_index].pk,
                    reason=rng.choice(OWNERSHIP_REASONS),
                )
            )
        OwnershipChange.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        return len(rows)

    # ---------------------------------------------------------------------------------
    def _position_rows(self, products: dict[str, int]) -> Iterator[tuple]:
        """(account pk, product pk, month, balance cents, revenue cents), account by account."""
        rng = self.rng("positions")
        first, last = self.first_month, self.last_month
        months = self.months
        two_pi = 2 * math.pi
        for b in self.books:
            if not b.products:
                continue
            start = max(first, _month_index(b.opened_on))
            closed = _month_index(b.closed_on) if b.closed_on else None
            # Lost and closed relationships wind down over the months before they go.
            fade_from = (closed - rng.randint(3, 9)) if closed is not None else b.leaving_from
            amp, peak = SEGMENTS[b.segment_index]["season"]
            for code in b.products:
                product_pk = products[code]
                level = b.size * BALANCE_MULTIPLE[code] * rng.lognormvariate(0, 0.3)
                if code == "TL":
                    growth = rng.gauss(-0.10, 0.05)  # term loans amortise
                elif code == "CRE":
                    growth = rng.gauss(-0.04, 0.02)
                else:
                    growth = rng.gauss(0.04, 0.10)
                monthly_growth = (1 + max(growth, -0.6)) ** (1 / 12)
                # Lines are drawn when the cash is low: opposite season to the deposits.
                phase = peak + 6 if code == "RCL" else peak
                seasonal = amp if code in ("DDA", "MMA", "RCL", "CARD") else 0.0
                noise = 0.06 if code in ("DDA", "CARD") else 0.02
                # Some products were cross-sold inside the window: they start later.
                product_start = start
                if code != "DDA" and rng.random() < 0.12:
                    # An account opened after the last month-end has no month yet to start in.
                    latest = last if closed is None else closed - 1
                    product_start = rng.randint(start, max(start, latest))
                margin = MONTHLY_MARGIN.get(code)
                fee_share, fee_fixed = MONTHLY_FEE.get(code, (0.0, 0.0))
                fee = b.size * fee_share + fee_fixed
                for i in range(product_start, last + 1):
                    month = months[i - first]
                    if closed is not None and i >= closed:
                        yield (b.pk, product_pk, month, 0, 0)
                        continue
                    factor = monthly_growth ** (i - last)
                    if seasonal:
                        factor *= 1 + seasonal * math.cos(two_pi * ((i % 12) + 1 - phase) / 12)
                    if fade_from is not None and i > fade_from:
                        factor *= 0.8 ** (i - fade_from)
                    factor *= 1 + rng.gauss(0, noise)
                    balance = max(0, round(level * factor * 100))
                    if margin is not None:
                        revenue = round(balance * margin)
                    else:
                        revenue = round(fee * (1 + rng.gauss(0, 0.1)) * 100)
                    yield (b.pk, product_pk, month, balance, max(0, revenue))

    def _write_positions(self, products: dict[str, int]) -> int:
        rows = self._position_rows(products)
        if connection.vendor == "postgresql":
            return self._copy_positions(rows)
        count = 0
        batch: list[Position] = []
        for account_pk, product_pk, month, balance, revenue in rows:
            # Positional arguments in field order (id first): twice as fast as keywords
            # for a hundred thousand positions.
            batch.append(
                Position(
                    None,
                    account_pk,
                    product_pk,
                    month,
                    _cents_to_decimal(balance),
                    _cents_to_decimal(revenue),
                )
            )
            if len(batch) >= BATCH_SIZE:
                Position.objects.bulk_create(batch)
                count += len(batch)
                batch = []
        Position.objects.bulk_create(batch)
        return count + len(batch)

    @staticmethod
    def _copy_positions(rows: Iterable[tuple]) -> int:
        """COPY is several times faster than INSERT for a million positions on PostgreSQL.

        Money goes as exact decimal text built from integer cents.
        """
        meta = Position._meta
        columns = ", ".join(
            connection.ops.quote_name(meta.get_field(f).column)
            for f in ("account", "product", "month", "balance", "revenue")
        )
        table = connection.ops.quote_name(meta.db_table)
        count = 0
        sql = f"COPY {table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for account_pk, product_pk, month, balance, revenue in rows:
                copy.write_row(
                    (
                        account_pk,
                        product_pk,
                        month,
                        _cents_to_text(balance),
                        _cents_to_text(revenue),
                    )
                )
                count += 1
        return count

    # ---------------------------------------------------------------------------------
    def _activities(self) -> int:
        """A year of calls, visits, meetings and reviews per RM, on working days up to as_of."""
        rng = self.rng("activities")
        as_of = self.as_of
        year_ago = as_of - dt.timedelta(days=364)
        working_days = [
            year_ago + dt.timedelta(days=d)
            for d in range(365)
            if (year_ago + dt.timedelta(days=d)).weekday() < 5
        ]
        tier_weight = {"A": 5, "B": 2, "C": 1}
        books_of: dict[int, list[_Book]] = {}
        for b in self.books:
            books_of.setdefault(id(b.owner), []).append(b)

        rows: list[Activity] = []
        for rm in self.rms:
            book = books_of.get(id(rm), [])
            customers = [b for b in book if b.status != AccountStatus.PROSPECT]
            prospects = [b for b in book if b.status == AccountStatus.PROSPECT]
            if not customers:
                continue
            weights = [tier_weight[b.tier] for b in customers]
            mix = ACTIVITY_MIX[rm.style]
            per_day = WEEKLY_ACTIVITIES[rm.style] / 5
            # A leaver's activity falls from a month before notice: the early-warning signal.
            slowing_from = (
                rm.notice_given_on - dt.timedelta(days=30) if rm.notice_given_on else None
            )
            for day in working_days:
                rate = per_day * (0.3 if slowing_from and day >= slowing_from else 1.0)
                count = int(rate) + (rng.random() < rate - int(rate))
                for _ in range(count):
                    kind = _weighted(rng, mix)[0]
                    if (
                        prospects
                        and kind != ActivityKind.REVIEW
                        and (rng.random() < PROSPECTING_SHARE[rm.style])
                    ):
                        account = rng.choice(prospects)
                    else:
                        account = rng.choices(customers, weights)[0]
                        if (account.opened_on and day < account.opened_on) or (
                            account.closed_on and day >= account.closed_on
                        ):
                            continue  # not a customer that day
                    rows.append(
                        Activity(
                            kind=kind,
                            date=day,
                            rm_id=rm.pk,
                            account_id=account.pk,
                            outcome=rng.choice(ACTIVITY_OUTCOMES[kind]),
                        )
                    )
        # The covering RM has been to see each "must keep" account since the notice.
        for b in self.books:
            if b.covering and b.tier == "A":
                notice = b.owner.notice_given_on
                day = notice + dt.timedelta(days=rng.randint(1, (as_of - notice).days))
                rows.append(
                    Activity(
                        kind=ActivityKind.VISIT,
                        date=min(day, as_of),
                        rm_id=b.covering.pk,
                        account_id=b.pk,
                        outcome=(
                            f"Introduced myself as cover while {b.owner.first_name} hands over."
                        ),
                    )
                )
        self._follow_ups(rows)
        joint = self._joint_visits(rows)
        planned = self._planned_activities(books_of)
        joint += self._joint_visits_planned(planned)
        rows += planned
        Activity.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        # bulk_create stamps updated_at with the clock; the demo's activities were last
        # changed when they were logged (and the edit lock counts from created_at).
        Activity.objects.update(updated_at=F("created_at"))
        Activity.participants.through.objects.bulk_create(
            [
                Activity.participants.through(activity_id=a.pk, user_id=leader)
                for a, leader in joint
            ],
            batch_size=BATCH_SIZE,
        )
        self.planned_activities = len(planned)
        self.joint_activities = len(joint)
        return len(rows)

    def _follow_ups(self, rows: list[Activity]) -> None:
        """When each done activity was logged, and the next steps it left.

        Older follow-ups were all done; some of the last month's are still open. rm1, whose
        customers rate follow-up low (coaching.demo), has a few overdue ones to show.
        """
        rng = self.rng("activities:follow-ups")
        as_of = self.as_of
        for a in rows:
            a.created_at = _moment(a.date, rng.randint(9, 18), rng.choice((0, 15, 30, 45)))
            if rng.random() >= FOLLOW_UP_SHARE:
                continue
            a.next_step = rng.choice(NEXT_STEPS[a.kind])
            a.next_step_due = a.date + dt.timedelta(days=rng.choice((2, 3, 5, 7, 10, 14, 21)))
            # What was due more than a month ago has been done (or the list would be
            # stale); of the last month's, a fifth is still open.
            month_ago = as_of - dt.timedelta(days=30)
            if a.next_step_due < month_ago or (a.next_step_due < as_of and rng.random() < 0.8):
                done = a.next_step_due + dt.timedelta(days=rng.randint(-3, 2))
                a.next_step_done_on = min(as_of, max(a.date, done))
        rm1 = next((rm for rm in self.rms if rm.username == "rm1"), None)
        if rm1 is None:
            return
        recent = [
            a
            for a in rows
            if a.rm_id == rm1.pk
            and as_of - dt.timedelta(days=21) <= a.date < as_of - dt.timedelta(days=3)
        ]
        for a in rng.sample(recent, min(3, len(recent))):
            a.next_step = a.next_step or rng.choice(NEXT_STEPS[a.kind])
            a.next_step_due = max(
                a.date + dt.timedelta(days=1), as_of - dt.timedelta(days=rng.randint(1, 6))
            )
            a.next_step_done_on = None

    def _planned_activities(self, books_of: dict[int, list[_Book]]) -> list[Activity]:
        """The diary: a few calls, visits, meetings and reviews a day from as_of to the end
        of next week, on the RM's own accounts, with no outcome yet. Some RMs have one left
        earlier this week that they have not marked done."""
        rng = self.rng("activities:planned")
        as_of = self.as_of
        monday = as_of - dt.timedelta(days=as_of.weekday())
        next_monday = monday + dt.timedelta(days=7)
        days = [monday + dt.timedelta(days=d) for d in range(12)]
        days = [d for d in days if d.weekday() < 5]
        tier_weight = {"A": 5, "B": 2, "C": 1}
        rows: list[Activity] = []
        for rm in self.rms:
            leaves_on = (
                rm.notice_given_on + dt.timedelta(days=NOTICE_DAYS) if rm.notice_given_on else None
            )
            if leaves_on and leaves_on < as_of:
                continue  # gone: nothing in the diary
            book = books_of.get(id(rm), [])
            customers = [b for b in book if b.status == AccountStatus.ACTIVE]
            prospects = [b for b in book if b.status == AccountStatus.PROSPECT]
            if not customers:
                continue
            weights = [tier_weight[b.tier] for b in customers]
            mix = ACTIVITY_MIX[rm.style]
            rate = WEEKLY_ACTIVITIES[rm.style] / 5 * (0.4 if leaves_on else 1.0)
            ahead = [d for d in days if d >= as_of and not (leaves_on and d > leaves_on)]
            behind = [d for d in days if d < as_of and d >= monday]
            chosen = [
                day for day in ahead for _ in range(int(rate) + (rng.random() < rate - int(rate)))
            ]
            if behind and (rng.random() < 0.3 or not any(d < next_monday for d in ahead)):
                chosen.append(rng.choice(behind[-2:]))
            # Every week in the diary has something in it, this one and the next.
            for week in (
                [d for d in (*behind, *ahead) if d < next_monday],
                [d for d in ahead if d >= next_monday],
            ):
                if week and not any(d in week for d in chosen):
                    chosen.append(rng.choice(week))
            for day in sorted(chosen):
                kind = _weighted(rng, mix)[0]
                if (
                    prospects
                    and kind != ActivityKind.REVIEW
                    and rng.random() < PROSPECTING_SHARE[rm.style]
                ):
                    account = rng.choice(prospects)
                else:
                    account = rng.choices(customers, weights)[0]
                booked = min(day, as_of) - dt.timedelta(days=rng.randint(1, 10))
                rows.append(
                    Activity(
                        kind=kind,
                        status=ActivityStatus.PLANNED,
                        date=day,
                        rm_id=rm.pk,
                        account_id=account.pk,
                        created_at=_moment(booked, rng.randint(8, 17), rng.choice((0, 30))),
                    )
                )
        return rows

    def _joint_visits(self, rows: list[Activity]) -> list[tuple[Activity, int]]:
        """Visits, meetings and reviews the team's leader went along to: a handful per team
        in the last six weeks (the weekly check-ins' field observations), fewer before.
        rm1 had their leader along in the last fortnight."""
        rng = self.rng("activities:joint")
        as_of = self.as_of
        six_weeks_ago = as_of - dt.timedelta(weeks=6)
        team_of = {rm.pk: rm.team_index for rm in self.rms}
        kinds = (ActivityKind.VISIT, ActivityKind.MEETING, ActivityKind.REVIEW)
        recent: dict[int, list[Activity]] = {}
        earlier: dict[int, list[Activity]] = {}
        for a in rows:
            if a.kind not in kinds or a.rm_id not in team_of:
                continue
            (recent if a.date > six_weeks_ago else earlier).setdefault(team_of[a.rm_id], []).append(
                a
            )
        picked: list[Activity] = []
        for team in range(len(self.team_names)):
            for pool, (low, high) in ((recent, JOINT_RECENT), (earlier, JOINT_EARLIER)):
                candidates = pool.get(team, [])
                picked += rng.sample(candidates, min(rng.randint(low, high), len(candidates)))
        rm1 = next((rm for rm in self.rms if rm.username == "rm1"), None)
        if rm1 is not None and not any(
            a.rm_id == rm1.pk and a.date >= as_of - dt.timedelta(days=14) for a in picked
        ):
            fortnight = [
                a
                for a in recent.get(rm1.team_index, [])
                if a.rm_id == rm1.pk and a.date >= as_of - dt.timedelta(days=14)
            ]
            if fortnight:
                picked.append(rng.choice(fortnight))
        joint = []
        for a in picked:
            leader = self.leaders[team_of[a.rm_id]]
            a.outcome = rng.choice(JOINT_OUTCOMES).format(leader=leader.first_name)
            joint.append((a, leader.pk))
        return joint

    def _joint_visits_planned(self, planned: list[Activity]) -> list[tuple[Activity, int]]:
        """A visit or two per team that the leader will join next week."""
        rng = self.rng("activities:joint planned")
        team_of = {rm.pk: rm.team_index for rm in self.rms}
        joint = []
        for team in range(len(self.team_names)):
            visits = [a for a in planned if team_of.get(a.rm_id) == team and a.date > self.as_of]
            for a in rng.sample(visits, min(rng.randint(*JOINT_PLANNED), len(visits))):
                a.kind = ActivityKind.VISIT
                joint.append((a, self.leaders[team].pk))
        return joint

    # ---------------------------------------------------------------------------------
    def _opportunities(self, products: dict[str, int]) -> int:
        """The pipeline: open deals ahead, won and lost ones over the last year."""
        rng = self.rng("opportunities")
        as_of = self.as_of
        year_ago = as_of - dt.timedelta(days=365)
        books_of: dict[int, list[_Book]] = {}
        for b in self.books:
            books_of.setdefault(id(b.owner), []).append(b)
        all_codes = [code for code, _, _ in PRODUCTS]
        kinds = (OpportunityKind.NEW_BUSINESS, OpportunityKind.CROSS_SELL, OpportunityKind.RENEWAL)

        # The administrator's list of reasons (the migration creates it; a flushed test
        # database has none).
        self.lost_reasons = [
            LostReason.objects.get_or_create(name=name, defaults={"position": i})[0].pk
            for i, name in enumerate(DEMO_LOST_REASONS)
        ]
        rows: list[Opportunity] = []
        for rm in self.rms:
            book = books_of.get(id(rm), [])
            active = [b for b in book if b.status == AccountStatus.ACTIVE]
            prospects = [b for b in book if b.status == AccountStatus.PROSPECT]
            renewals = [
                b
                for b in active
                if b.contract_until
                and b.contract_until <= as_of + dt.timedelta(days=365)
                and any(p in LOANS for p in b.products)
            ]
            newly_won = [b for b in active if b.opened_on and b.opened_on > year_ago]
            n_open, n_won, n_lost = PIPELINE_SIZE[rm.style]
            plan = (
                [OpportunityStatus.OPEN] * max(0, n_open + rng.randint(-3, 3))
                + [OpportunityStatus.WON] * max(0, n_won + rng.randint(-2, 2))
                + [OpportunityStatus.LOST] * max(0, n_lost + rng.randint(-2, 2))
            )
            for status in plan:
                kind = rng.choices(kinds, KIND_WEIGHTS[rm.style])[0]
                account, code = None, None
                if kind == OpportunityKind.NEW_BUSINESS:
                    # New business that was won is a relationship opened this year.
                    pool = newly_won if status == OpportunityStatus.WON else prospects
                    if pool:
                        account = rng.choice(pool)
                        code = rng.choice(("TL", "RCL", "DDA", "CASH", "CRE"))
                elif kind == OpportunityKind.RENEWAL and renewals:
                    account = rng.choice(renewals)
                    code = next(p for p in account.products if p in LOANS)
                if account is None and active:
                    kind = OpportunityKind.CROSS_SELL
                    account = rng.choice(active)
                    missing = [c for c in all_codes if c not in account.products]
                    code = rng.choice(missing or all_codes)
                if account is None:
                    continue
                rows.append(self._opportunity(rng, rm, account, code, kind, status, products))
        self._pipeline_story(rows)
        Opportunity.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        history = self.rng("opportunities:history")
        changes = [c for o in rows for c in self._stage_history(history, o)]
        OpportunityChange.objects.bulk_create(changes, batch_size=BATCH_SIZE)
        self.opportunity_changes = len(changes)
        return len(rows)

    def _pipeline_story(self, rows: list[Opportunity]) -> None:
        """What the RM knows about each deal: every RM has open deals in every stage; the
        late stages close soon and are mostly committed; a next step on each open deal.

        From a stream of its own, after the deals are drawn, so the deals stay as they were.
        """
        rng = self.rng("opportunities:story")
        as_of = self.as_of
        next_month_end = _month_end(_month_start(_month_index(as_of) + 1))
        stages = {stage: probability for stage, _, probability in OPEN_STAGES}
        open_of: dict[int, list[Opportunity]] = {}
        for o in rows:
            if o.status == OpportunityStatus.OPEN:
                open_of.setdefault(o.rm_id, []).append(o)
        for deals in open_of.values():
            count = Counter(o.stage for o in deals)
            for stage in stages:
                if count[stage]:
                    continue
                crowded = max(stages, key=lambda s: (count[s], s))
                if count[crowded] < 2:
                    break  # too few deals to fill every stage
                deal = rng.choice([o for o in deals if o.stage == crowded])
                count[crowded] -= 1
                count[stage] += 1
                deal.stage = stage
                deal.probability = min(100, max(0, stages[stage] + rng.randint(-5, 5)))
        for o in rows:
            if o.status == OpportunityStatus.WON:
                o.forecast_category = ForecastCategory.COMMIT
                continue
            late = o.stage in (OpportunityStage.NEGOTIATION, OpportunityStage.CLOSING)
            if o.status == OpportunityStatus.LOST:
                o.forecast_category = (
                    rng.choice((ForecastCategory.COMMIT, ForecastCategory.BEST_CASE))
                    if late
                    else ForecastCategory.PIPELINE
                )
                o.lost_note = rng.choice(LOST_NOTES)
                continue
            if late and o.kind != OpportunityKind.RENEWAL:
                soon, late_by = (3, 50) if o.stage == OpportunityStage.CLOSING else (10, 90)
                o.expected_close = as_of + dt.timedelta(days=rng.randint(soon, late_by))
            if o.stage == OpportunityStage.CLOSING and o.expected_close <= next_month_end:
                pairs = ((ForecastCategory.COMMIT, 80), (ForecastCategory.BEST_CASE, 20))
            elif late and o.expected_close <= next_month_end:
                pairs = (
                    (ForecastCategory.COMMIT, 55),
                    (ForecastCategory.BEST_CASE, 35),
                    (ForecastCategory.PIPELINE, 10),
                )
            elif late:
                pairs = (
                    (ForecastCategory.BEST_CASE, 55),
                    (ForecastCategory.COMMIT, 20),
                    (ForecastCategory.PIPELINE, 25),
                )
            elif o.stage == OpportunityStage.PROPOSAL:
                pairs = (
                    (ForecastCategory.BEST_CASE, 35),
                    (ForecastCategory.PIPELINE, 60),
                    (ForecastCategory.OMITTED, 5),
                )
            else:
                pairs = ((ForecastCategory.PIPELINE, 88), (ForecastCategory.OMITTED, 12))
            o.forecast_category = _weighted(rng, pairs)[0]
            o.next_step = rng.choice(DEAL_NEXT_STEPS[o.stage])

    def _stage_history(self, rng: random.Random, o: Opportunity) -> list[OpportunityChange]:
        """The deal's changes from the day it was created: the creation row, one row per
        stage it moved through, an amount changed now and then, close dates moved out
        (slipped deals), and the outcome of a closed one. Each row's "from" is the
        previous row's "to"."""
        order = [stage for stage, _, _ in OPEN_STAGES]
        last = order.index(o.stage)
        first = 0 if o.kind == OpportunityKind.NEW_BUSINESS or rng.random() < 0.6 else 1
        path = order[min(first, last) : last + 1]
        closed = o.status != OpportunityStatus.OPEN
        end = o.closed_on if closed else self.as_of
        span = (end - o.created_on).days
        p_slip = {OpportunityStatus.OPEN: 0.25, OpportunityStatus.WON: 0.25}.get(o.status, 0.3)
        slips = (rng.random() < p_slip) + (rng.random() < 0.15)
        amount_changed = rng.random() < 0.25
        events = ["stage"] * (len(path) - 1) + ["slip"] * slips + ["amount"] * amount_changed
        stage_moves = events[: len(path) - 1]
        rest = events[len(path) - 1 :]
        rng.shuffle(rest)
        # Stage moves keep their order; slips and amount changes fall anywhere between.
        for event in rest:
            stage_moves.insert(rng.randint(0, len(stage_moves)), event)
        events = stage_moves
        # Middle events fall strictly between creation and the close (or the day before
        # as_of); a deal created yesterday has them on its first day.
        latest = max(1, span - (0 if closed else 1))
        offsets = sorted(rng.randint(1, latest) if span > 1 else 0 for _ in events)
        slip_days = [
            o.created_on + dt.timedelta(days=d)
            for d, e in zip(offsets, events, strict=True)
            if e == "slip"
        ]
        # Close dates before each slip, built backwards from the one the deal has now.
        closes = [o.expected_close]
        for day in reversed(slip_days):
            before = min(
                day + dt.timedelta(days=rng.randint(-5, 20)), closes[0] - dt.timedelta(days=7)
            )
            if before <= o.created_on:
                before = closes[0] - dt.timedelta(days=1)
            if before <= o.created_on:
                break
            closes.insert(0, before)
        # Fewer close dates than slips drawn: the earliest slips, which did not fit after
        # the deal was created, are dropped.
        while events.count("slip") > len(closes) - 1:
            i = events.index("slip")
            del events[i], offsets[i]
        amount = o.amount
        if amount_changed:
            amount = max(Decimal(5_000), round(o.amount * Decimal(rng.uniform(0.7, 1.3)), -3))
            amount = _cents_to_decimal(int(amount) * 100)

        def at(offset: int, i: int) -> dt.datetime:
            # 17 minutes apart per event: later events are later even on the same day.
            day = o.created_on + dt.timedelta(days=offset)
            return _moment(day, 9) + dt.timedelta(minutes=17 * i)

        rows = [
            OpportunityChange(
                opportunity_id=o.pk,
                changed_at=at(0, 0),
                changed_by_id=o.rm_id,
                to_stage=path[0],
                to_status=OpportunityStatus.OPEN,
                to_amount=amount,
                to_expected_close=closes[0],
            )
        ]
        stage, close = 0, 0
        for i, (offset, event) in enumerate(zip(offsets, events, strict=True), start=1):
            row = OpportunityChange(
                opportunity_id=o.pk, changed_at=at(offset, i), changed_by_id=o.rm_id
            )
            if event == "stage":
                row.from_stage, row.to_stage = path[stage], path[stage + 1]
                stage += 1
            elif event == "slip":
                row.from_expected_close, row.to_expected_close = closes[close], closes[close + 1]
                close += 1
            else:
                row.from_amount, row.to_amount = amount, o.amount
            rows.append(row)
        if closed:
            rows.append(
                OpportunityChange(
                    opportunity_id=o.pk,
                    changed_at=at(span, len(rows)),
                    changed_by_id=o.rm_id,
                    from_status=OpportunityStatus.OPEN,
                    to_status=o.status,
                )
            )
        return rows

    def _opportunity(self, rng, rm, account, code, kind, status, products) -> Opportunity:
        as_of = self.as_of
        multiple = BALANCE_MULTIPLE[code] or 0.25  # fee products: the year's fees
        amount = max(5_000, round(account.size * multiple * rng.uniform(0.5, 1.5), -3))
        if status == OpportunityStatus.OPEN:
            stage, _, probability = _weighted(rng, OPEN_STAGES)
            probability = min(100, max(0, probability + rng.randint(-5, 5)))
            if kind == OpportunityKind.RENEWAL and account.contract_until:
                expected = account.contract_until - dt.timedelta(days=rng.randint(0, 30))
                expected = max(expected, as_of + dt.timedelta(days=7))
            else:
                expected = as_of + dt.timedelta(days=rng.randint(7, 180))
            created = as_of - dt.timedelta(days=rng.randint(5, 150))
            closed = None
        else:
            if kind == OpportunityKind.NEW_BUSINESS and status == OpportunityStatus.WON:
                closed = account.opened_on
            else:
                closed = as_of - dt.timedelta(days=rng.randint(1, 365))
            if status == OpportunityStatus.WON:
                stage, probability = OpportunityStage.CLOSING, 100
            else:
                stage, probability = _weighted(rng, OPEN_STAGES)[0], 0
            expected = closed + dt.timedelta(days=rng.randint(-20, 30))
            created = closed - dt.timedelta(days=rng.randint(20, 150))
        return Opportunity(
            account_id=account.pk,
            product_id=products[code],
            rm_id=rm.pk,
            amount=_cents_to_decimal(int(amount) * 100),
            stage=stage,
            probability=probability,
            expected_close=expected,
            kind=kind,
            status=status,
            lost_reason_id=(
                rng.choice(self.lost_reasons) if status == OpportunityStatus.LOST else None
            ),
            created_on=created,
            closed_on=closed,
        )

    # ---------------------------------------------------------------------------------
    def _logins(self) -> tuple[DemoLogin, ...]:
        led = {self.leaders[t].username: name for t, name in enumerate(self.team_names)}
        return tuple(
            DemoLogin(
                p.username,
                Role(p.role).label,
                self.team_names[p.team_index]
                if p.team_index is not None
                else led.get(p.username, ""),
            )
            for p in self.people
        )
