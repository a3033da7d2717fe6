"""Customers rate their RM through a survey link: signed, unguessable, expiring, used once.

Each month every enabled contact of an active account is invited once (`SurveyInvitation`)
to rate the account owner on the year's approved behaviours. The link carries a token
signed with the secret key (salt "coaching.survey") whose payload names the invitation,
its month and its random nonce; all three must match the stored invitation. It expires at
the start of the second month after the month rated (a March survey can be answered until
30 April, midnight in the bank's time zone) and is claimed once, by a conditional UPDATE,
however many submissions race for it. See docs/surveys.md.
"""

from __future__ import annotations

import datetime
import re
import secrets

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import AccountStatus
from accounts.selectors import add_months, month_start
from planning.models import PlanYear
from salesmgmt import formatting

from ..models import Behaviour, BehaviourSet, CustomerContact, CustomerRating, SurveyInvitation

SALT = "coaching.survey"
MAX_COMMENT = 2000
# A token is a few dozen characters; anything much longer is not ours and is not decoded.
MAX_TOKEN = 400
BATCH = 1000


# --- months --------------------------------------------------------------------------------


def expiry_of(month: datetime.date) -> datetime.datetime:
    """When a survey of `month` stops working: the start of the second month after it,
    in the bank's time zone (the whole of the following month to answer)."""
    return timezone.make_aware(datetime.datetime.combine(add_months(month, 2), datetime.time()))


def parse_month(text: str) -> datetime.date:
    """'2027-03' → 1 March 2027; anything else is a ValueError."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match:
        raise ValueError("use YYYY-MM, e.g. 2027-03")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError("the month must be 01 to 12")
    return datetime.date(year, month, 1)


def approved_set_for(month: datetime.date) -> BehaviourSet | None:
    """The approved behaviours of the plan year `month` falls in, if there are any."""
    return (
        BehaviourSet.objects.filter(
            status=BehaviourSet.Status.APPROVED,
            plan_year__starts_on__lte=month,
            plan_year__ends_on__gte=month,
        )
        .select_related("plan_year")
        .first()
    )


def plan_year_of(month: datetime.date) -> PlanYear | None:
    return PlanYear.objects.filter(starts_on__lte=month, ends_on__gte=month).first()


# --- invitations ---------------------------------------------------------------------------


def _check_month(month: datetime.date, today: datetime.date) -> None:
    if month > month_start(today):
        raise ValidationError(f"{month:%B %Y} has not begun: customers cannot rate it yet.")
    if add_months(month, 2) <= today:
        raise ValidationError(
            f"Links for {month:%B %Y} would already have expired (they work until the end "
            "of the following month)."
        )


def _create_invitations(month: datetime.date, today: datetime.date | None) -> list[int]:
    """Invite every enabled contact of an active account not yet invited for `month`;
    returns the contacts invited now. Runs inside the caller's transaction."""
    month = month_start(month)
    _check_month(month, today or timezone.localdate())
    found = approved_set_for(month)
    if found is None:
        return []
    # Two runs at once for the same year queue here, so the second sees the first's rows.
    BehaviourSet.objects.select_for_update(of=("self",)).filter(pk=found.pk).first()
    contacts = (
        CustomerContact.objects.filter(surveys_enabled=True, account__status=AccountStatus.ACTIVE)
        .exclude(invitations__month=month)
        .order_by("pk")
        .values_list("pk", "account__owner_id")
    )
    expires_at = expiry_of(month)
    invited: list[int] = []
    batch: list[SurveyInvitation] = []
    for contact_id, owner_id in contacts.iterator(chunk_size=BATCH):
        batch.append(
            SurveyInvitation(
                contact_id=contact_id, rm_id=owner_id, month=month, expires_at=expires_at
            )
        )
        invited.append(contact_id)
        if len(batch) == BATCH:
            SurveyInvitation.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        SurveyInvitation.objects.bulk_create(batch, ignore_conflicts=True)
    return invited


@transaction.atomic
def invitations_create(month: datetime.date, *, today: datetime.date | None = None) -> int:
    """One invitation per enabled contact of an active account for `month`, if the month's
    plan year has approved behaviours. Contacts already invited for the month are left as
    they are, so running it twice creates nothing twice. The RM rated is the account's
    owner now; the link expires at the start of the second month after `month`.

    Returns how many invitations were created. A month that has not begun, or whose links
    would already have expired, is refused (ValidationError)."""
    return len(_create_invitations(month, today))


# --- the link ------------------------------------------------------------------------------


def survey_token(invitation: SurveyInvitation) -> str:
    """The signed token of the link: the same every time for the same invitation (no
    timestamp; the expiry is the invitation's)."""
    payload = {"i": invitation.pk, "m": f"{invitation.month:%Y-%m}", "n": invitation.nonce}
    return signing.Signer(salt=SALT).sign_object(payload)


def survey_link(invitation: SurveyInvitation) -> str:
    """The path of the invitation's survey page."""
    return reverse("survey:form", args=[survey_token(invitation)])


def survey_url(invitation: SurveyInvitation) -> str:
    """The absolute link e-mailed to the contact."""
    return settings.FLIGHTPATH_BASE_URL + survey_link(invitation)


class SurveyLinkError(Exception):
    """A survey link that does not open its form; the message is for the customer."""

    status_code = 404
    title = "This link does not work"
    default_message = (
        "We could not find a survey for this link. Please use the link exactly as it came in "
        "our e-mail, or ask your relationship manager for a new one."
    )

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)


class SurveyLinkInvalid(SurveyLinkError):
    """Tampered with, unknown, revoked (nonce rotated) or naming another month: 404."""


class SurveyLinkExpired(SurveyLinkError):
    status_code = 410
    title = "This survey has closed"
    default_message = (
        "The time to answer this survey has passed. Thank you all the same: we will ask you "
        "again next month."
    )


class SurveyAlreadyAnswered(SurveyLinkError):
    """Answered once already: 409, the state of the survey conflicts with a second answer."""

    status_code = 409
    title = "You have already answered this survey"
    default_message = (
        "Thank you: we have your answers for this month. Each survey can be answered once."
    )


def find_invitation(token: str) -> SurveyInvitation:
    """The invitation the token names, if the token is genuine and still current: signed by
    us, naming an invitation that exists, with its nonce and month. Whether it is still
    open is for `open_survey` to say."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        raise SurveyLinkInvalid()
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
    except signing.BadSignature:
        raise SurveyLinkInvalid() from None
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("i"), int)
        and isinstance(payload.get("m"), str)
        and isinstance(payload.get("n"), str)
    ):
        raise SurveyLinkInvalid()
    invitation = (
        SurveyInvitation.objects.select_related("contact__account", "rm")
        .filter(pk=payload["i"])
        .first()
    )
    if invitation is None:
        raise SurveyLinkInvalid()
    if not secrets.compare_digest(invitation.nonce.encode(), payload["n"].encode()):
        raise SurveyLinkInvalid()
    if f"{invitation.month:%Y-%m}" != payload["m"]:
        raise SurveyLinkInvalid()
    return invitation


def open_survey(token: str, *, now: datetime.datetime | None = None) -> SurveyInvitation:
    """The invitation behind a survey link that may be answered now.

    Raises SurveyLinkInvalid (tampered, unknown, nonce rotated, wrong month, the contact no
    longer surveyed), SurveyAlreadyAnswered (used) or SurveyLinkExpired (past expires_at).
    An answered link says so even after it expired: that is the more useful answer."""
    invitation = find_invitation(token)
    if invitation.used_at is not None:
        raise SurveyAlreadyAnswered()
    if (now or timezone.now()) >= invitation.expires_at:
        raise SurveyLinkExpired()
    if not invitation.contact.surveys_enabled:
        raise SurveyLinkInvalid()
    return invitation


def last_day(invitation: SurveyInvitation) -> datetime.date:
    """The last day the survey can be answered, in the bank's time zone."""
    return timezone.localtime(invitation.expires_at - datetime.timedelta(microseconds=1)).date()


def survey_behaviours(invitation: SurveyInvitation) -> list[Behaviour]:
    """The behaviours the customer is asked about: the approved set of the month's year."""
    found = approved_set_for(invitation.month)
    behaviours = list(found.behaviours.all()) if found else []
    if not behaviours:
        raise SurveyLinkInvalid()
    return behaviours


# --- answering -----------------------------------------------------------------------------


def _rating(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 1 <= value <= 5:
        return value
    return None


def _checked(
    behaviours: list[Behaviour], answers: dict, comments: dict, comment: str
) -> tuple[dict[int, int], dict[int, str], str]:
    """Ratings and comments by behaviour id and the survey's general comment, or a
    ValidationError naming every problem: keys `rating_<behaviour id>`, `comment` and
    `__all__` (answers for behaviours not asked)."""
    errors: dict[str, str] = {}
    asked = {b.pk for b in behaviours}
    answers = {int(k): v for k, v in answers.items()}
    comments = {int(k): (v or "").strip() for k, v in comments.items()}
    if set(answers) - asked or set(comments) - asked:
        errors["__all__"] = "The answers name behaviours this survey does not ask about."
    ratings = {}
    for b in behaviours:
        value = _rating(answers.get(b.pk))
        if value is None:
            errors[f"rating_{b.pk}"] = f"Please rate “{b.name}”: choose one of the five answers."
        else:
            ratings[b.pk] = value
    # The general comment box is the survey's comment, kept on the invitation: it is about
    # the RM, not about the first behaviour (docs/surveys.md).
    comment = (comment or "").strip()
    if any(len(text) > MAX_COMMENT for text in [*comments.values(), comment]):
        errors["comment"] = f"Please keep the comment under {MAX_COMMENT} characters."
    if errors:
        raise ValidationError(errors)
    return ratings, comments, comment


def survey_submit(
    token: str,
    answers: dict[int, int],
    *,
    comments: dict[int, str] | None = None,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> list[CustomerRating]:
    """Save a customer's answers: one rating per behaviour of the approved set.

    Every behaviour must be rated 1-5; otherwise a ValidationError names each missing one
    and nothing is saved. The invitation is claimed with a conditional UPDATE, so of two
    submissions at once exactly one saves and the other gets SurveyAlreadyAnswered."""
    now = now or timezone.now()
    invitation = open_survey(token, now=now)
    behaviours = survey_behaviours(invitation)
    ratings, texts, comment = _checked(behaviours, answers, comments or {}, comment)
    with transaction.atomic():
        claimed = SurveyInvitation.objects.filter(
            pk=invitation.pk, nonce=invitation.nonce, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now, comment=comment)
        if not claimed:
            invitation.refresh_from_db(fields=["used_at", "expires_at", "nonce"])
            if invitation.used_at is not None:
                raise SurveyAlreadyAnswered()
            if now >= invitation.expires_at:
                raise SurveyLinkExpired()
            raise SurveyLinkInvalid()
        rows = [
            CustomerRating(
                account_id=invitation.contact.account_id,
                rm_id=invitation.rm_id,
                behaviour=b,
                month=invitation.month,
                rating=ratings[b.pk],
                comment=texts.get(b.pk, ""),
                contact_id=invitation.contact_id,
                source=CustomerRating.Source.SURVEY,
            )
            for b in behaviours
        ]
        return bulk_create_with_history(
            rows, CustomerRating, default_change_reason="Customer survey"
        )


def answers_of(invitation: SurveyInvitation) -> list[CustomerRating]:
    """What the contact answered for the invitation's month (the thank-you page)."""
    return list(
        CustomerRating.objects.filter(contact_id=invitation.contact_id, month=invitation.month)
        .select_related("behaviour")
        .order_by("behaviour__position", "behaviour__name")
    )


# --- sending -------------------------------------------------------------------------------


def _message(invitation: SurveyInvitation, connection) -> EmailMessage:
    rm = invitation.rm.get_full_name() or invitation.rm.username
    body = (
        f"Dear {invitation.contact.name},\n\n"
        f"how did {rm} look after {invitation.contact.account.name} in "
        f"{invitation.month:%B %Y}? Please tell us in a minute or two:\n\n"
        f"{survey_url(invitation)}\n\n"
        "The link is yours alone and works once. It is open until "
        f"{formatting.date(last_day(invitation))}.\n\n"
        "Thank you.\n"
    )
    return EmailMessage(
        subject=f"How was your relationship manager in {invitation.month:%B %Y}?",
        body=body,
        to=[invitation.contact.email],
        connection=connection,
    )


def _open_invitations(month: datetime.date, invited: list[int] | None):
    """The month's invitations to e-mail, in batches: those of `invited` contacts, or (None)
    every one still open."""
    base = SurveyInvitation.objects.filter(
        month=month, contact__surveys_enabled=True
    ).select_related("contact__account", "rm")
    if invited is None:
        yield from base.filter(used_at__isnull=True, expires_at__gt=timezone.now()).iterator(
            chunk_size=BATCH
        )
        return
    for start in range(0, len(invited), BATCH):
        yield from base.filter(contact_id__in=invited[start : start + BATCH])


def send_survey_emails(
    month: datetime.date, *, today: datetime.date | None = None, resend: bool = False
) -> int:
    """Create the month's invitations and e-mail each newly invited contact their link.

    Returns how many e-mails were sent. Contacts invited before are not e-mailed again, so
    running it twice sends nothing twice; `resend=True` e-mails every invitation of the
    month that is still open (not answered, not expired), e.g. after the mail server failed
    half-way. The invitations are committed before the first e-mail goes out."""
    month = month_start(month)
    with transaction.atomic():
        invited = _create_invitations(month, today)
    sent = 0
    with get_connection() as connection:
        batch = []
        for invitation in _open_invitations(month, None if resend else invited):
            batch.append(_message(invitation, connection))
            if len(batch) == BATCH:
                sent += connection.send_messages(batch) or 0
                batch = []
        if batch:
            sent += connection.send_messages(batch) or 0
    return sent
