"""When an RM leaves: the departure case, the coverage board, the replacement, the handover.

Phases (DepartureCase.phase_on): withdrawal (notice → last day), vacancy (last day →
replacement assigned), onboarding (replacement assigned → every major account reviewed),
closed.

Who does what:
    open a case (record the notice)    the leader of the RM's team, or an administrator
    assign cover, assign a replacement the leader of the RM's team, or an administrator
    mark a major account reviewed      the replacement
    everybody else who sees the case   reads it (executives; the leaving RM does not see it)

A case the user may not see is "not found" (404, through org.access); one they see but may
not change is a 403 (PermissionDenied); the wrong phase is a 409 (InvalidTransition).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, AccountStatus, Opportunity, OpportunityStatus, OwnershipChange
from org.access import visible_departure_cases, visible_people
from org.models import Notification, Role, User
from salesmgmt.workflow import InvalidTransition

from ..models import CoverageChange, DepartureCase, HandoverReview

# Major accounts: the tiers that must be covered before the last day and reviewed at handover.
MAJOR_TIERS = ("A", "B")
# The accounts a leaving RM hands on: the live ones (closed and lost stay in their history).
LIVE_STATUSES = (AccountStatus.ACTIVE, AccountStatus.PROSPECT)
# The nightly flag starts this many days before the last day (and runs through the vacancy).
FLAG_DAYS_BEFORE_LAST_DAY = 14
# How many uncovered accounts a notification names (the case page lists them all).
NOTIFICATION_NAMES = 10


def departure_reason(rm: User) -> str:
    return f"departure of {rm}"[:200]


# --- who may act ---------------------------------------------------------------------------------


def can_manage(user: User, case: DepartureCase) -> bool:
    """The leader of the leaving RM's team or an administrator runs the case."""
    return user.is_administrator or user.leads(case.rm)


def _case_for_update(user: User, case_id: int) -> DepartureCase:
    """The case, locked; outside the user's scope it does not exist (404)."""
    visible = visible_departure_cases(user).filter(pk=case_id)
    return (
        DepartureCase.objects.select_for_update(of=("self",))
        .select_related("rm", "rm__team", "replacement")
        .get(pk__in=visible.values("pk"))
    )


def _require_manager(user: User, case: DepartureCase) -> None:
    if not can_manage(user, case):
        raise PermissionDenied("Only the leaving RM's leader or an administrator runs this case.")


# --- the case's accounts -----------------------------------------------------------------------


def case_accounts(case: DepartureCase) -> QuerySet[Account]:
    """The accounts the case is about.

    Before a replacement: the leaving RM's live accounts. After: the accounts that moved
    from the leaving RM to the replacement (their ownership history says so).
    """
    if case.replacement_id is None:
        return Account.objects.filter(owner_id=case.rm_id, status__in=LIVE_STATUSES)
    moved = OwnershipChange.objects.filter(
        previous_owner_id=case.rm_id, new_owner_id=case.replacement_id
    ).values("account")
    return Account.objects.filter(pk__in=moved)


def major(accounts: QuerySet[Account]) -> QuerySet[Account]:
    return accounts.filter(tier__code__in=MAJOR_TIERS)


def covering_candidates(case: DepartureCase) -> QuerySet[User]:
    """Who may cover the leaving RM's accounts: an RM of the same team who is not leaving
    too, or the team's leader. Never the leaving RM."""
    team_id = case.rm.team_id
    staying_rm = Q(
        role=Role.RM,
        team_id=team_id,
        notice_given_on__isnull=True,
        departed_on__isnull=True,
    )
    leader = Q(pk=case.rm.team.leader_id) if team_id and case.rm.team.leader_id else Q(pk=None)
    return (
        User.objects.filter(is_active=True)
        .filter((staying_rm & Q(team_id__isnull=False)) | leader)
        .exclude(pk=case.rm_id)
        .order_by("role", "last_name", "first_name", "username")
    )


def replacement_candidates(case: DepartureCase, by: User) -> QuerySet[User]:
    """A replacement is an RM of the leaving RM's team who is staying (an administrator puts
    a new hire into the team first); a leader picks among the people they see."""
    return (
        visible_people(by)
        .filter(
            role=Role.RM,
            is_active=True,
            team_id=case.rm.team_id,
            notice_given_on__isnull=True,
            departed_on__isnull=True,
        )
        .exclude(pk=case.rm_id)
        .order_by("last_name", "first_name", "username")
    )


# --- opening the case ---------------------------------------------------------------------------


@transaction.atomic
def departure_open(
    *, rm_id: int, by: User, notice_on: datetime.date, last_day: datetime.date
) -> DepartureCase:
    """Record an RM's notice and open their departure case."""
    if not (by.is_administrator or by.role == Role.LEADER):
        raise PermissionDenied("Only the RM's leader or an administrator records a notice.")
    rm = (
        User.objects.select_for_update(of=("self",))
        .select_related("team")
        .get(pk__in=visible_people(by).filter(pk=rm_id, role=Role.RM).values("pk"))
    )
    if not by.is_administrator and not by.leads(rm):
        raise PermissionDenied("Only the RM's own leader records their notice.")
    if last_day < notice_on:
        raise ValidationError("The last day cannot be before the notice was given.")
    if rm.departed_on is not None:
        raise InvalidTransition(f"{rm} has already left.")
    if DepartureCase.objects.filter(rm=rm, closed_on__isnull=True).exists():
        raise InvalidTransition(f"{rm} already has an open departure case.")
    if rm.hired_on and notice_on < rm.hired_on:
        raise ValidationError("The notice cannot be given before the RM was hired.")
    rm.notice_given_on = notice_on
    rm.save(update_fields=["notice_given_on"])
    case = DepartureCase(rm=rm, notice_on=notice_on, last_day=last_day, opened_by=by)
    case.full_clean()
    case.save()
    return case


# --- the coverage board -------------------------------------------------------------------------


@transaction.atomic
def coverage_assign(
    *, case_id: int, by: User, assignments: dict[int, int | None]
) -> list[CoverageChange]:
    """Set the covering RM of one or many of the leaving RM's accounts (None: no cover).

    Only the accounts whose cover changes get a CoverageChange row; all rows of one call
    share its time. Raises ValidationError naming the accounts or people refused.
    """
    case = _case_for_update(by, case_id)
    _require_manager(by, case)
    if case.closed_on is not None or case.replacement_id is not None:
        raise InvalidTransition(
            "The replacement owns these accounts now: cover is no longer assigned here."
        )
    account_ids = {int(pk) for pk in assignments}
    accounts = {
        a.pk: a
        for a in Account.objects.select_for_update(of=("self",))
        .filter(pk__in=account_ids)
        .filter(pk__in=case_accounts(case).values("pk"))
        .order_by("pk")
    }
    unknown = account_ids - set(accounts)
    if unknown:
        raise ValidationError(
            f"Not an account of {case.rm}'s case: {', '.join(map(str, sorted(unknown)))}."
        )
    wanted = {int(v) for v in assignments.values() if v not in (None, "")}
    allowed = set(covering_candidates(case).filter(pk__in=wanted).values_list("pk", flat=True))
    refused = wanted - allowed
    if refused:
        if case.rm_id in refused:
            raise ValidationError("The leaving RM cannot cover their own accounts.")
        raise ValidationError(
            "Cover is given by an RM of the same team who is staying, or by the leader."
        )
    now = timezone.now()
    changes = []
    for account_id, covering in sorted(assignments.items(), key=lambda kv: int(kv[0])):
        account = accounts[int(account_id)]
        new_id = int(covering) if covering not in (None, "") else None
        if account.covering_rm_id == new_id:
            continue
        changes.append(
            CoverageChange(
                account=account,
                previous_covering_id=account.covering_rm_id,
                new_covering_id=new_id,
                changed_at=now,
                changed_by=by,
                case=case,
            )
        )
        account.covering_rm_id = new_id
        account.save(update_fields=["covering_rm"])
    _pass_open_deals(
        case, {c.account_id: c.new_covering_id for c in changes if c.new_covering_id}, by
    )
    return CoverageChange.objects.bulk_create(changes)


def _pass_open_deals(case: DepartureCase, to: dict[int, int], by: User) -> int:
    """The leaving RM's open deals on each account go to `to[account pk]` (the covering RM
    or the replacement), so no open deal waits on someone who has left. The deal's stage
    history (OpportunityChange) records stage, amount and close only: the new RM is
    recorded in the deal's audit history with the reason (docs/departures.md)."""
    deals = Opportunity.objects.select_for_update(of=("self",)).filter(
        account_id__in=list(to), rm_id=case.rm_id, status=OpportunityStatus.OPEN
    )
    moved = 0
    for deal in deals.order_by("pk"):
        deal.rm_id = to[deal.account_id]
        deal.version += 1
        deal._change_reason = f"{departure_reason(case.rm)}: passed on by {by}"
        deal.save(update_fields=["rm", "version"])
        moved += 1
    return moved


# --- the replacement ----------------------------------------------------------------------------


@transaction.atomic
def replacement_assign(
    *, case_id: int, by: User, replacement_id: int, on: datetime.date
) -> DepartureCase:
    """Give the leaving RM's live accounts to the replacement and start onboarding.

    Each account gets an OwnershipChange ("departure of …"); temporary cover ends (a
    CoverageChange to nobody). A case without major accounts is handed over at once.
    """
    case = _case_for_update(by, case_id)
    _require_manager(by, case)
    if case.closed_on is not None:
        raise InvalidTransition("This case is closed.")
    if case.replacement_id is not None:
        raise InvalidTransition(f"{case.replacement} already replaces {case.rm}.")
    replacement = replacement_candidates(case, by).filter(pk=replacement_id).first()
    if replacement is None:
        raise ValidationError(
            "The replacement is an RM of the same team who is staying (not the leaving RM)."
        )
    if on < case.notice_on:
        raise ValidationError("The replacement cannot start before the notice was given.")
    now = timezone.now()
    reason = departure_reason(case.rm)
    accounts = list(
        Account.objects.select_for_update(of=("self",))
        .filter(pk__in=case_accounts(case).values("pk"))
        .order_by("pk")
    )
    moves, covers = [], []
    for account in accounts:
        if account.covering_rm_id is not None:
            covers.append(
                CoverageChange(
                    account=account,
                    previous_covering_id=account.covering_rm_id,
                    new_covering=None,
                    changed_at=now,
                    changed_by=by,
                    case=case,
                )
            )
        moves.append(
            OwnershipChange(
                account=account,
                previous_owner_id=case.rm_id,
                new_owner=replacement,
                changed_at=now,
                changed_by=by,
                reason=reason,
            )
        )
        account.owner, account.covering_rm = replacement, None
        account.save(update_fields=["owner", "covering_rm"])
    CoverageChange.objects.bulk_create(covers)
    OwnershipChange.objects.bulk_create(moves)
    # The leaver's open deals still with them go to the replacement; those already passed to
    # a covering RM stay with whoever has been working them (docs/departures.md).
    _pass_open_deals(case, {a.pk: replacement.pk for a in accounts}, by)
    case.replacement, case.replacement_assigned_on = replacement, on
    case.version += 1
    if not any(a.tier.code in MAJOR_TIERS for a in accounts):
        case.closed_on = on
    case.full_clean()
    case.save()
    return case


# --- handover -------------------------------------------------------------------------------------


def _close_if_handed_over(case: DepartureCase, today: datetime.date) -> bool:
    left = (
        major(case_accounts(case))
        .exclude(pk__in=HandoverReview.objects.filter(case=case).values("account"))
        .exists()
    )
    if left:
        return False
    case.closed_on, case.version = today, case.version + 1
    case.save(update_fields=["closed_on", "version"])
    return True


@transaction.atomic
def handover_review(
    *, case_id: int, by: User, account_id: int, note: str = "", today: datetime.date | None = None
) -> HandoverReview:
    """The replacement has gone through a major account; the last one closes the case."""
    case = _case_for_update(by, case_id)
    if by.pk != case.replacement_id:
        raise PermissionDenied("Only the replacement marks the accounts as reviewed.")
    if case.closed_on is not None:
        raise InvalidTransition("This case is closed: every major account was handed over.")
    account = major(case_accounts(case)).filter(pk=account_id).first()
    if account is None:
        raise ValidationError("Only the case's major accounts (tier A and B) are reviewed.")
    if HandoverReview.objects.filter(case=case, account=account).exists():
        raise InvalidTransition(f"{account.name} has already been reviewed.")
    review = HandoverReview.objects.create(
        case=case, account=account, reviewed_by=by, reviewed_at=timezone.now(), note=note
    )
    _close_if_handed_over(case, today or timezone.localdate())
    return review


# --- nightly: uncovered major accounts ------------------------------------------------------------


def record_departures(*, today: datetime.date) -> int:
    """An RM whose case's last day has come has left: departed_on = the last day (one
    UPDATE; an RM who already has a departure date keeps it)."""
    cases = DepartureCase.objects.filter(last_day__lte=today)
    last_day = cases.filter(rm=OuterRef("pk")).order_by("-last_day").values("last_day")[:1]
    return User.objects.filter(departed_on__isnull=True, pk__in=cases.values("rm")).update(
        departed_on=Subquery(last_day)
    )


def flagged_cases(*, today: datetime.date) -> QuerySet[DepartureCase]:
    """Open cases without a replacement whose last day is near or past."""
    return DepartureCase.objects.filter(
        closed_on__isnull=True,
        replacement__isnull=True,
        last_day__lte=today + datetime.timedelta(days=FLAG_DAYS_BEFORE_LAST_DAY),
    )


def uncovered_major(case_rm_ids) -> QuerySet[Account]:
    return Account.objects.filter(
        owner_id__in=case_rm_ids,
        status__in=LIVE_STATUSES,
        tier__code__in=MAJOR_TIERS,
        covering_rm__isnull=True,
    )


@transaction.atomic
def uncovered_flag(*, today: datetime.date | None = None) -> int:
    """Nightly: tell the leader and the executives which major accounts are still uncovered.

    For each open case without a replacement from FLAG_DAYS_BEFORE_LAST_DAY days before the
    last day, every uncovered live major account of the leaving RM is named in a
    Notification to the RM's leader and every executive, once a day (key
    `uncovered:<case>:<date>`; the unique key makes a second run a no-op). Also records
    departed_on for RMs whose last day has come. Returns the number of uncovered accounts
    flagged by notifications written in this run (0 on a second run the same day).
    """
    today = today or timezone.localdate()
    record_departures(today=today)
    cases = list(flagged_cases(today=today).select_related("rm", "rm__team"))
    if not cases:
        return 0
    uncovered: dict[int, list[Account]] = {}
    for account in uncovered_major([c.rm_id for c in cases]).order_by("tier__code", "name"):
        uncovered.setdefault(account.owner_id, []).append(account)
    cases = [c for c in cases if uncovered.get(c.rm_id)]
    if not cases:
        return 0
    keys = {c.pk: f"uncovered:{c.pk}:{today.isoformat()}" for c in cases}
    already = set(Notification.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    executives = list(User.objects.filter(role=Role.EXECUTIVE, is_active=True).only("pk"))
    notes, flagged = [], 0
    for case in cases:
        key = keys[case.pk]
        if key in already:
            continue
        accounts = uncovered[case.rm_id]
        flagged += len(accounts)
        names = ", ".join(a.name for a in accounts[:NOTIFICATION_NAMES])
        more = len(accounts) - NOTIFICATION_NAMES
        body = (
            f"{len(accounts)} major account{'s' if len(accounts) != 1 else ''} of {case.rm} "
            f"(last day {case.last_day:%d %b %Y}) have no covering RM: {names}"
            + (f" and {more} more." if more > 0 else ".")
        )
        subject = (
            f"{len(accounts)} major account{'s' if len(accounts) != 1 else ''} of "
            f"{case.rm} uncovered"
        )[:200]
        readers = [e.pk for e in executives]
        if case.rm.team_id and case.rm.team.leader_id:
            readers.append(case.rm.team.leader_id)
        url = reverse("retention:departure", args=[case.pk])
        notes += [
            Notification(user_id=pk, key=key, subject=subject, body=body, url=url)
            for pk in dict.fromkeys(readers)
        ]
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    return flagged
