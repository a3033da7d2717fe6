"""State changes on people and teams.

    team_move(*, user, team, on, by=None) -> TeamMembership | None
    team_join(*, user, on=None) -> TeamMembership | None   the first membership
    team_history(user_ids=None) -> {user pk: [(started_on, ended_on, team pk)]}
    team_on(history, user_pk, day, default) -> team pk | None

A team's figures for a month count the RMs who were in it at the month's end, so every
change of `User.team` goes through `team_move`, which keeps the membership history
(docs/metrics.md "Team membership over time").
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from .models import Team, TeamMembership, User


@transaction.atomic
def team_move(
    *, user: User, team: Team | None, on: datetime.date | None = None, by: User | None = None
) -> TeamMembership | None:
    """Move `user` to `team` from the day `on` (today by default): closes the open membership
    the day before, opens the next one, sets `User.team`. `team=None` takes them out of any
    team. Returns the new membership (None when out of a team)."""
    on = on or timezone.localdate()
    locked = User.objects.select_for_update().get(pk=user.pk)
    current = TeamMembership.objects.filter(user=locked, ended_on__isnull=True).first()
    if current is None and locked.team_id is not None:
        # Someone whose team was set before the history existed: their past is that team.
        current = TeamMembership(user=locked, team_id=locked.team_id, started_on=on)
        if locked.hired_on and locked.hired_on < on:
            current.started_on = locked.hired_on
        current.full_clean()
        current.save()
    new_team_id = team.pk if team is not None else None
    if current is not None and current.team_id == new_team_id:
        return current
    if current is not None:
        if current.started_on >= on:
            # A move on (or before) the day the membership began replaces it.
            current.delete()
        else:
            current.ended_on = on - datetime.timedelta(days=1)
            current.full_clean()
            current.save(update_fields=["ended_on"])
    membership = None
    if team is not None:
        membership = TeamMembership(user=locked, team=team, started_on=on)
        membership.full_clean()
        membership.save()
    locked.team = team
    if by is not None:
        locked._change_reason = f"Team move by {by}"
    locked.save(update_fields=["team"])
    user.team = team
    return membership


def team_join(*, user: User, on: datetime.date | None = None) -> TeamMembership | None:
    """Open the first membership of someone just created in a team (from `on`, their
    hiring date, or today)."""
    if user.team_id is None or TeamMembership.objects.filter(user=user).exists():
        return None
    membership = TeamMembership(
        user=user, team_id=user.team_id, started_on=on or timezone.localdate()
    )
    membership.full_clean()
    membership.save()
    return membership


def team_history(user_ids=None) -> dict[int, list[tuple]]:
    """{user pk: [(started_on, ended_on, team pk), ...] by start}. One query."""
    rows = TeamMembership.objects.order_by("user_id", "started_on")
    if user_ids is not None:
        rows = rows.filter(user_id__in=list(user_ids))
    history: dict[int, list[tuple]] = defaultdict(list)
    for user, team, start, end in rows.values_list("user_id", "team_id", "started_on", "ended_on"):
        history[user].append((start, end, team))
    return history


def team_on(history: dict[int, list[tuple]], user: int, day: datetime.date, default):
    """The team `user` was in on `day`. Before their first membership: the first one's team
    (the base month before someone was hired counts where they started); after a membership
    closed with no next one: no team. Someone without any history: `default` (User.team)."""
    spans = history.get(user)
    if not spans:
        return default
    if day < spans[0][0]:
        return spans[0][2]
    for start, end, team in spans:
        if start <= day and (end is None or day <= end):
            return team
    return None
