"""Reading target sets: the year's list, one set's page and whether the parts add up.

Every function starts from the access layer (org.access) and reads a fixed number of
queries, whatever the number of sets, lines, revisions or children.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from accounts.models import ProductFamily
from accounts.selectors import balances_by, latest_month
from org.access import (
    sees_whole_bank,
    still_here,
    visible_accounts,
    visible_people,
    visible_target_sets,
    visible_teams,
)
from org.models import Role, Team, User
from salesmgmt import formatting

from ..models import (
    ActivityStandard,
    Comment,
    Metric,
    PlanYear,
    ProductMixStandard,
    Scope,
    SteeringStandard,
    TargetLine,
    TargetSet,
)
from ..services.targets import may_write

Status = TargetSet.Status


def plan_years() -> list[PlanYear]:
    return list(PlanYear.objects.order_by("-year"))


def metric_catalogue() -> list[Metric]:
    """The catalogue in its display order: one query, reused by forms, history, roll-up."""
    return list(Metric.objects.all())


# --- the year's list ------------------------------------------------------------------------


@dataclass
class SubjectRow:
    """One subject (the bank, a team, an RM) and its targets for the year."""

    label: str
    team: Team | None = None
    rm: User | None = None
    current: TargetSet | None = None  # the latest revision
    in_force: TargetSet | None = None  # the approved revision, when the latest is not it
    can_start: bool = False


@dataclass
class TargetSetOverview:
    plan_year: PlanYear
    bank: SubjectRow
    teams: list[SubjectRow]
    rms_by_team: list[tuple[str, list[SubjectRow]]]

    @property
    def can_start_any(self) -> bool:
        rows = [self.bank, *self.teams, *(r for _, rows in self.rms_by_team for r in rows)]
        return any(r.can_start for r in rows)


def _subject_key(ts: TargetSet) -> tuple:
    return (ts.scope, ts.team_id if ts.scope == Scope.TEAM else None, ts.rm_id)


def target_set_overview(user: User, plan_year: PlanYear) -> TargetSetOverview:
    """The bank's, the teams' and the RMs' targets `user` may see for `plan_year`, with the
    subjects they may start a draft for. Four queries, whatever the size of the bank."""
    sets = list(
        visible_target_sets(user)
        .filter(plan_year=plan_year)
        .select_related("team", "rm", "rm__team", "last_edited_by")
        .annotate(line_count=Count("lines"), weight_total=Sum("lines__weight"))
        .order_by("scope", "team__name", "rm__last_name", "-revision")
    )
    latest: dict[tuple, TargetSet] = {}
    approved: dict[tuple, TargetSet] = {}
    for ts in sets:
        key = _subject_key(ts)
        latest.setdefault(key, ts)  # ordered by -revision within a subject
        if ts.status == Status.APPROVED:
            approved[key] = ts
    is_open = plan_year.is_open

    def row(key: tuple, label: str, *, team=None, rm=None) -> SubjectRow:
        current = latest.get(key)
        in_force = approved.get(key)
        return SubjectRow(
            label=label,
            team=team,
            rm=rm,
            current=current,
            in_force=in_force if in_force is not current else None,
            can_start=current is None
            and is_open
            and may_write(user, scope=key[0], team=team, rm=rm),
        )

    bank = row((Scope.BANK, None, None), "Bank")

    teams = {ts.team_id: ts.team for ts in sets if ts.scope == Scope.TEAM}
    # An RM reads their own team's targets; they open no team overview (visible_teams).
    own_team = Team.objects.filter(pk=user.team_id) if user.role == Role.RM else visible_teams(user)
    teams.update({t.pk: t for t in own_team.select_related("leader")})
    team_rows = [
        row((Scope.TEAM, t.pk, None), t.name, team=t)
        for t in sorted(teams.values(), key=lambda t: t.name)
    ]

    rms = {ts.rm_id: ts.rm for ts in sets if ts.scope == Scope.RM}
    rms.update(
        {
            p.pk: p
            # A leaver (departed, whatever is_active says) needs no targets.
            for p in still_here(visible_people(user))
            .filter(role=Role.RM, is_active=True, team__isnull=False)
            .select_related("team")
        }
    )
    grouped: dict[str, list[SubjectRow]] = defaultdict(list)
    for rm in sorted(rms.values(), key=lambda p: (str(p.team or ""), str(p), p.pk)):
        grouped[str(rm.team or "No team")].append(
            row((Scope.RM, None, rm.pk), str(rm), team=rm.team, rm=rm)
        )
    return TargetSetOverview(
        plan_year=plan_year, bank=bank, teams=team_rows, rms_by_team=sorted(grouped.items())
    )


# --- one set's page ---------------------------------------------------------------------------


def target_set_page(user: User) -> QuerySet[TargetSet]:
    """Target sets whose page `user` may open, with what the page shows joined in."""
    return (
        visible_target_sets(user)
        .select_related(
            "plan_year",
            "team__leader",
            "rm__team",
            "created_by",
            "last_edited_by",
            "proposed_by",
            "decided_by",
        )
        .prefetch_related(Prefetch("lines", queryset=TargetLine.objects.select_related("metric")))
    )


def revisions(user: User, ts: TargetSet) -> list[TargetSet]:
    """Every revision of the same subject and year that `user` may see, newest first."""
    return list(
        visible_target_sets(user)
        .filter(plan_year=ts.plan_year_id, scope=ts.scope, team=ts.team_id, rm=ts.rm_id)
        .select_related("decided_by")
        .order_by("-revision")
    )


def thread(ts: TargetSet) -> list[Comment]:
    """The comment and decision thread, oldest first."""
    return list(ts.comments.select_related("author").order_by("created_at", "pk"))


@dataclass(frozen=True)
class CategoryShare:
    category: str
    label: str
    weight: int


@dataclass(frozen=True)
class GrowthRetentionBalance:
    """The lines' growth / retention balance: over the growth and retention lines only;
    steering standards (activity, forecast accuracy) are neither and are left out."""

    growth: int  # weight of the growth lines
    retention: int  # weight of the retention lines
    left_out: int  # weight of the other lines (steering standards)

    @property
    def growth_pct(self) -> int | None:
        both = self.growth + self.retention
        if not both:
            return None
        return int((Decimal(100 * self.growth) / both).quantize(Decimal("1"), ROUND_HALF_UP))

    @property
    def retention_pct(self) -> int | None:
        return None if self.growth_pct is None else 100 - self.growth_pct


def growth_retention_balance(lines: Iterable[TargetLine]) -> GrowthRetentionBalance:
    """The growth share of the growth and retention lines' weight, as the bank's stated
    balance (TargetSet.growth_share_pct) reads it: 60 means 60 % growth, 40 % retention."""
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.metric.category] += line.weight
    growth, retention = totals[Metric.Category.GROWTH], totals[Metric.Category.RETENTION]
    return GrowthRetentionBalance(growth, retention, sum(totals.values()) - growth - retention)


def weight_by_category(lines: Iterable[TargetLine]) -> list[CategoryShare]:
    """How the line weights split between the metric categories: growth, retention and
    steering standards (lines prefetched with their metric: no query)."""
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.metric.category] += line.weight
    return [
        CategoryShare(value, label, totals.get(value, 0))
        for value, label in Metric.Category.choices
    ]


# --- the audit history ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime.datetime
    who: User | None
    what: str
    changes: list[FieldChange] = field(default_factory=list)
    order: int = 0


# Fields of a target set worth reading in its history; the version, timestamps and the
# editor (the "who" of every entry) would only repeat what the entry says.
SET_FIELDS = {
    "status": "status",
    "growth_share_pct": "growth share %",
    "proposed_by": "proposed by",
    "decided_by": "decided by",
    "decision_comment": "decision comment",
}
SET_USER_FIELDS = ("proposed_by", "decided_by")
STATUS_WHAT = {
    Status.DRAFT: "Edited again as a draft",
    Status.PROPOSED: "Proposed",
    Status.APPROVED: "Approved",
    Status.RETURNED: "Returned",
    Status.SUPERSEDED: "Superseded by the next revision",
}
LINE_FIELDS = {"value": "value", "weight": "weight %"}
EMPTY = "—"


def _text(value) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, Decimal):
        return formatting.count(value)
    return str(value)


def history(ts: TargetSet, *, metrics: Sequence[Metric] | None = None) -> list[HistoryEntry]:
    """Who changed what and when on this set and its lines, newest first.

    Three queries (the set's records, its lines' records, the people named in them), plus
    one for the metric catalogue unless `metrics` is given.
    """
    metric_names = {
        m.pk: m.name for m in (metrics if metrics is not None else Metric.objects.all())
    }
    status_labels = dict(Status.choices)
    set_records = list(ts.history.select_related("history_user").order_by("history_id"))
    line_records = list(
        TargetLine.history.filter(target_set_id=ts.pk)
        .select_related("history_user")
        .order_by("id", "history_id")
    )
    user_ids = {getattr(r, f"{name}_id") for r in set_records for name in SET_USER_FIELDS}
    people = User.objects.in_bulk(user_ids - {None}) if user_ids - {None} else {}

    def set_value(name: str, value) -> str:
        if name in SET_USER_FIELDS:
            return _text(people.get(value, value) if value else None)
        if name == "status":
            return status_labels.get(value, value)
        return _text(value)

    entries: list[HistoryEntry] = []
    previous = None
    for record in set_records:
        if previous is None or record.history_type == "+":
            entries.append(
                HistoryEntry(
                    record.history_date,
                    record.history_user,
                    f"Revision {record.revision} created as "
                    f"{status_labels.get(record.status, record.status).lower()}",
                    order=record.history_id,
                )
            )
        else:
            delta = record.diff_against(previous, included_fields=list(SET_FIELDS))
            changes = [
                FieldChange(
                    SET_FIELDS[c.field], set_value(c.field, c.old), set_value(c.field, c.new)
                )
                for c in delta.changes
            ]
            if changes:  # a save that changed only lines is told by the lines' records
                changes.sort(key=lambda c: list(SET_FIELDS.values()).index(c.field))
                moved = record.status != previous.status
                entries.append(
                    HistoryEntry(
                        record.history_date,
                        record.history_user,
                        STATUS_WHAT.get(record.status, "Targets changed")
                        if moved
                        else "Targets changed",
                        changes,
                        order=record.history_id,
                    )
                )
        previous = record

    previous = None
    for record in line_records:
        name = metric_names.get(record.metric_id, f"metric {record.metric_id}")
        same_line = previous is not None and previous.id == record.id
        if record.history_type == "+" or not same_line:
            what = f"Line added: {name}"
            changes = [
                FieldChange(label, EMPTY, _text(getattr(record, f)))
                for f, label in LINE_FIELDS.items()
            ]
        elif record.history_type == "-":
            what = f"Line removed: {name}"
            changes = [
                FieldChange(label, _text(getattr(record, f)), EMPTY)
                for f, label in LINE_FIELDS.items()
            ]
        else:
            what = f"Line changed: {name}"
            delta = record.diff_against(previous, included_fields=list(LINE_FIELDS))
            changes = [
                FieldChange(LINE_FIELDS[c.field], _text(c.old), _text(c.new)) for c in delta.changes
            ]
        if changes:
            entries.append(
                HistoryEntry(
                    record.history_date,
                    record.history_user,
                    what,
                    changes,
                    # After the set's own record of the same moment, in the lines' order.
                    order=record.history_id,
                )
            )
        previous = record
    entries.sort(key=lambda e: (e.when, e.order), reverse=True)
    return entries


# --- do the parts add up? ---------------------------------------------------------------------

ADDITIVE_UNITS = (Metric.Unit.COUNT, Metric.Unit.MONEY)
# Percent metrics whose parts are averaged weighted by the parts' balance in one family.
BALANCE_WEIGHTED = {"loan_growth": ProductFamily.LOAN, "deposit_growth": ProductFamily.DEPOSIT}


class Rule:
    SUM = "sum"
    BALANCE_WEIGHTED = "balance-weighted average"
    AVERAGE = "average"


@dataclass(frozen=True)
class Part:
    """One child's value for a metric, and the balance it was weighted by (if any)."""

    label: str
    target_set: TargetSet
    value: Decimal
    balance: Decimal | None = None


@dataclass
class RollUpLine:
    """One metric of a team or bank set against what its parts (RMs or teams) ask for."""

    metric: Metric
    asked: Decimal | None  # this set's value; None if the set has no line for the metric
    sum_of_parts: Decimal | None  # None if no part carries the metric
    parts_count: int  # parts whose targets carry the metric
    parts_expected: int  # parts there are (active RMs of the team; teams of the bank)
    missing_parts: list[str]  # parts with no targets, or none for this metric
    rule: str  # Rule.SUM, Rule.BALANCE_WEIGHTED or Rule.AVERAGE
    sentence: str
    parts: list[Part] = field(default_factory=list)
    weighted_by: str = ""  # "loan balance", for a balance-weighted average

    @property
    def gap(self) -> Decimal | None:
        """Parts minus asked: negative means the parts fall short of a higher-is-better ask."""
        if self.asked is None or self.sum_of_parts is None:
            return None
        return self.sum_of_parts - self.asked

    @property
    def complete(self) -> bool:
        """Every part has a target for the metric."""
        return not self.missing_parts

    @property
    def adds_up(self) -> bool | None:
        """Yes only when every part has a target for the metric and they cover what the set
        asks, in the metric's direction (higher is better: at least the ask). A part without
        one is a no (`missing_parts` names it), whatever the others come to. None where the
        set asks nothing for the metric."""
        if self.asked is None:
            return None
        if not self.complete:
            return False
        if self.gap is None:
            return None
        gap = self.gap.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return gap >= 0 if self.metric.direction == Metric.Direction.HIGHER else gap <= 0

    @property
    def parts_meet_the_ask(self) -> bool | None:
        """Whether the parts that have a target already cover the ask (missing ones aside)."""
        if self.gap is None:
            return None
        gap = self.gap.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return gap >= 0 if self.metric.direction == Metric.Direction.HIGHER else gap <= 0


def _amount(metric: Metric, value: Decimal) -> str:
    """A target in its metric's unit, printed as every page prints it (salesmgmt.formatting)."""
    return formatting.figure(value, metric.unit)


def _noun(metric: Metric) -> str:
    name = metric.name.removesuffix("%").strip()
    return name[:1].lower() + name[1:]


def _sentence(line: RollUpLine, parts_word: str, whole_word: str) -> str:
    metric = line.metric
    asks = (
        f"{whole_word} asks {_amount(metric, line.asked)}"
        if line.asked is not None
        else f"{whole_word} sets no target for it"
    )
    if line.sum_of_parts is None:
        return f"No {parts_word} targets for {_noun(metric)} yet; {asks}."
    how = f" (weighted by {line.weighted_by})" if line.weighted_by else ""
    if line.rule == Rule.AVERAGE:
        how = " (plain average)"
    missing = (
        f" {len(line.missing_parts)} of {line.parts_expected} without one."
        if line.missing_parts
        else ""
    )
    parts = f"{parts_word[:1].upper()}{parts_word[1:]} targets"
    return (
        f"{parts} sum to {_amount(metric, line.sum_of_parts)} {_noun(metric)}{how}, "
        f"{asks}.{missing}"
    )


def _chosen(sets: Iterable[TargetSet]) -> dict[tuple, TargetSet]:
    """Per subject and year, the approved revision, else the latest one."""
    chosen: dict[tuple, TargetSet] = {}
    for ts in sets:
        key = (ts.plan_year_id, *_subject_key(ts))
        held = chosen.get(key)
        replaces = held is None or (
            held.status != Status.APPROVED
            and (ts.status == Status.APPROVED or ts.revision > held.revision)
        )
        if replaces:
            chosen[key] = ts
    return chosen


def shows_roll_up(user: User, ts: TargetSet) -> bool:
    """Whether `user` sees every part of `ts`: an executive for the bank's and the teams'
    sets, a leader for their own team's. Others would see a partial sum."""
    if ts.scope == Scope.BANK:
        return sees_whole_bank(user)
    if ts.scope == Scope.TEAM:
        return sees_whole_bank(user) or (ts.team is not None and ts.team.leader_id == user.pk)
    return False


def roll_up(target_set: TargetSet, *, viewer: User) -> list[RollUpLine]:
    """Whether the parts add up: for a team set, its RMs' targets; for the bank set, the
    teams'. One line per metric of the set (then metrics only the parts carry).

    Parts are the RMs' (or teams') approved revision for the year, else their latest one.
    Counts and money add up; loan and deposit growth % are averaged weighted by each
    part's current loan or deposit balance; other percentages and ratios are a plain
    average. An RM's set has no parts: []. See docs/targets.md.
    """
    return roll_ups([target_set], viewer=viewer)[target_set.pk]


def roll_ups(target_sets: Sequence[TargetSet], *, viewer: User) -> dict[int, list[RollUpLine]]:
    """`roll_up` for many sets at once (the sign-off queue): at most six queries, whatever
    the number of sets, parts and lines."""
    result: dict[int, list[RollUpLine]] = {ts.pk: [] for ts in target_sets}
    parents = [ts for ts in target_sets if ts.scope in (Scope.TEAM, Scope.BANK)]
    if not parents:
        return result
    years = {ts.plan_year_id for ts in parents}
    team_ids = {ts.team_id for ts in parents if ts.scope == Scope.TEAM}
    has_bank = any(ts.scope == Scope.BANK for ts in parents)

    # The parts: the active RMs of each team, and the teams of the bank.
    rms_of: dict[int, list[User]] = defaultdict(list)
    if team_ids:
        for rm in (
            visible_people(viewer)
            .filter(role=Role.RM, is_active=True, team_id__in=team_ids)
            .order_by("last_name", "first_name", "username")
        ):
            rms_of[rm.team_id].append(rm)
    teams = list(visible_teams(viewer).order_by("name")) if has_bank else []

    child_filter = Q()
    if team_ids:
        child_filter |= Q(scope=Scope.RM, rm__in=[rm.pk for rms in rms_of.values() for rm in rms])
    if has_bank:
        child_filter |= Q(scope=Scope.TEAM, team__in=[t.pk for t in teams])
    children = _chosen(
        visible_target_sets(viewer)
        .filter(child_filter, plan_year_id__in=years)
        .exclude(status=Status.SUPERSEDED)
        .order_by()
    )

    lines_of: dict[int, dict[int, TargetLine]] = defaultdict(dict)
    metrics: dict[int, Metric] = {}
    for line in TargetLine.objects.filter(
        target_set_id__in=[ts.pk for ts in parents] + [ts.pk for ts in children.values()]
    ).select_related("metric"):
        lines_of[line.target_set_id][line.metric_id] = line
        metrics[line.metric_id] = line.metric

    # Balances, only when a balance-weighted metric is there to weigh.
    weighted_codes = {m.code for m in metrics.values()} & set(BALANCE_WEIGHTED)
    by_rm, by_team = {}, {}
    if weighted_codes:
        month = latest_month()
        accounts = visible_accounts(viewer)
        if team_ids:
            by_rm = balances_by(
                accounts.filter(owner__team__in=team_ids), group_by="owner", month=month
            )
        if has_bank:
            by_team = balances_by(accounts, group_by="owner__team", month=month)

    for parent in parents:
        if parent.scope == Scope.TEAM:
            subjects = [
                (
                    str(rm),
                    children.get((parent.plan_year_id, Scope.RM, None, rm.pk)),
                    by_rm.get(rm.pk),
                )
                for rm in rms_of.get(parent.team_id, [])
            ]
            parts_word, whole_word = "RM", "team"
        else:
            subjects = [
                (
                    t.name,
                    children.get((parent.plan_year_id, Scope.TEAM, t.pk, None)),
                    by_team.get(t.pk),
                )
                for t in teams
            ]
            parts_word, whole_word = "team", "bank"
        own = lines_of.get(parent.pk, {})
        metric_ids = list(own) + sorted(
            {m for _, child, _ in subjects if child for m in lines_of.get(child.pk, {})} - set(own),
            key=lambda pk: (metrics[pk].position, metrics[pk].name),
        )
        for metric_id in metric_ids:
            metric = metrics[metric_id]
            family = BALANCE_WEIGHTED.get(metric.code)
            parts, missing = [], []
            for label, child, balances in subjects:
                line = lines_of.get(child.pk, {}).get(metric_id) if child else None
                if line is None:
                    missing.append(label)
                    continue
                balance = getattr(balances, family) if (family and balances) else None
                parts.append(Part(label, child, line.value, balance))
            total, rule, weighted_by = _combine(metric, parts, family)
            roll = RollUpLine(
                metric=metric,
                asked=own[metric_id].value if metric_id in own else None,
                sum_of_parts=total,
                parts_count=len(parts),
                parts_expected=len(subjects),
                missing_parts=missing,
                rule=rule,
                sentence="",
                parts=parts,
                weighted_by=weighted_by,
            )
            roll.sentence = _sentence(roll, parts_word, whole_word)
            result[parent.pk].append(roll)
    return result


def _combine(metric: Metric, parts: list[Part], family: str | None) -> tuple:
    """(value of the parts, rule used, what it was weighted by)."""
    if metric.unit in ADDITIVE_UNITS:
        return (sum((p.value for p in parts), Decimal(0)) if parts else None), Rule.SUM, ""
    if not parts:
        return None, Rule.BALANCE_WEIGHTED if family else Rule.AVERAGE, ""
    if family:
        total_balance = sum((p.balance or Decimal(0) for p in parts), Decimal(0))
        if total_balance > 0:
            weighted = sum(p.value * (p.balance or 0) for p in parts) / total_balance
            label = dict(ProductFamily.choices)[family].split(" (")[0].lower()
            return (
                weighted.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
                Rule.BALANCE_WEIGHTED,
                f"{label} balance",
            )
        # No balances to weigh by (no positions loaded yet): every part counts the same.
    average = sum((p.value for p in parts), Decimal(0)) / len(parts)
    return average.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), Rule.AVERAGE, ""


# --- steering standards -----------------------------------------------------------------------


@dataclass
class YearStandards:
    plan_year: PlanYear
    steering: SteeringStandard | None
    activity: dict[str, ActivityStandard]
    product_mix: dict[str, ProductMixStandard]
    last_change: object | None  # the latest historical record of the steering standard


def year_standards(plan_year: PlanYear) -> YearStandards:
    """The year's standards, read by everyone (four queries)."""
    last_change = (
        SteeringStandard.history.filter(plan_year_id=plan_year.pk)
        .select_related("history_user")
        .order_by("-history_id")
        .first()
    )
    return YearStandards(
        plan_year=plan_year,
        steering=SteeringStandard.objects.filter(plan_year=plan_year).first(),
        activity={row.rm_style: row for row in plan_year.activity_standards.all()},
        product_mix={row.family: row for row in plan_year.product_mix_standards.all()},
        last_change=last_change,
    )
