"""Multiple connections: a second person at the bank for each major account.

Only the leader of the account owner's team, or an administrator, adds or removes a
secondary contact; the account must be an active tier A or B account the user can see
(outside scope is "not found", raised by the lookup through the access layer).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, AccountStatus
from org.access import visible_accounts
from org.models import Role, User
from retention.models import SecondaryContact

MAJOR_TIERS = ("A", "B")


def may_manage_contacts(user: User, account: Account) -> bool:
    """The leader of the owner's team, or an administrator."""
    if user.is_administrator:
        return True
    team = account.owner.team
    return user.role == Role.LEADER and team is not None and team.leader_id == user.pk


def _account_for(user: User, account_id: int) -> Account:
    account = (
        visible_accounts(user)
        .select_for_update(of=("self",))
        .select_related("owner__team", "tier")
        .get(pk=account_id)
    )
    if not may_manage_contacts(user, account):
        raise PermissionDenied(
            "Only the leader of the owner's team or an administrator may do this."
        )
    return account


@transaction.atomic
def secondary_contact_add(
    *, account_id: int, person_id: int, role: str, by: User, today: datetime.date | None = None
) -> SecondaryContact:
    account = _account_for(by, account_id)
    if account.tier.code not in MAJOR_TIERS:
        raise ValidationError("Secondary contacts are for major accounts (tier A and B).")
    if account.status != AccountStatus.ACTIVE:
        raise ValidationError("The account is not active.")
    today = today or timezone.localdate()
    person = (
        User.objects.filter(role__in=(Role.LEADER, Role.RM), is_active=True)
        .filter(Q(departed_on__isnull=True) | Q(departed_on__gt=today))
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise ValidationError("Choose a team leader or an RM who works at the bank.")
    if person.pk == account.owner_id:
        raise ValidationError(f"{person} owns this account already.")
    role = role.strip()
    if not role:
        raise ValidationError("Say what the person's role is for this customer.")
    if SecondaryContact.objects.filter(account=account, person=person).exists():
        raise ValidationError(f"{person} is already a contact for this account.")
    contact = SecondaryContact(account=account, person=person, role=role, since=today)
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def secondary_contact_remove(*, contact_id: int, by: User) -> None:
    contact = SecondaryContact.objects.filter(account__in=visible_accounts(by).values("pk")).get(
        pk=contact_id
    )
    _account_for(by, contact.account_id)
    contact.delete()
