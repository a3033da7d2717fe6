"""The customer's survey link: signed, unguessable, expiring, usable once; it opens nothing
but its own form, and every way it can fail is a clear page, never a 500."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountStatus
from coaching.models import CustomerRating, SurveyInvitation
from coaching.services import surveys
from coaching.services.surveys import (
    SurveyAlreadyAnswered,
    SurveyLinkExpired,
    SurveyLinkInvalid,
)
from tests.factories import AccountFactory, CustomerContactFactory

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2027, 3, 1)
EARLY_APRIL = datetime.date(2027, 4, 2)
DURING_APRIL = timezone.make_aware(datetime.datetime(2027, 4, 15, 12, 0))


@pytest.fixture
def contact(account):
    return CustomerContactFactory(account=account, name="Ada Buyer", email="ada@harbour.example")


@pytest.fixture
def invitation(behaviours, contact):
    surveys.invitations_create(MARCH, today=EARLY_APRIL)
    return SurveyInvitation.objects.get(contact=contact, month=MARCH)


@pytest.fixture
def token(invitation):
    return surveys.survey_token(invitation)


def all_good(behaviours, rating=4):
    return {b.pk: rating for b in behaviours}


def form_data(behaviours, rating="4", comment=""):
    data = {f"rating_{b.pk}": rating for b in behaviours}
    data["comment"] = comment
    return data


# --- invitations ---------------------------------------------------------------------------


def test_invitations_are_created_once_per_contact_and_month(behaviours, contact):
    assert surveys.invitations_create(MARCH, today=EARLY_APRIL) == 1
    assert surveys.invitations_create(MARCH, today=EARLY_APRIL) == 0
    assert SurveyInvitation.objects.filter(contact=contact, month=MARCH).count() == 1


def test_invitation_rates_the_account_owner_and_expires_when_the_next_month_ends(invitation, rm):
    assert invitation.rm == rm
    assert invitation.expires_at == timezone.make_aware(datetime.datetime(2027, 5, 1))


def test_only_enabled_contacts_of_active_accounts_are_invited(behaviours, rm, contact):
    CustomerContactFactory(account=contact.account, surveys_enabled=False)
    closed = AccountFactory(
        owner=rm, status=AccountStatus.CLOSED, closed_on=datetime.date(2026, 12, 31)
    )
    CustomerContactFactory(account=closed)
    surveys.invitations_create(MARCH, today=EARLY_APRIL)
    assert list(SurveyInvitation.objects.values_list("contact", flat=True)) == [contact.pk]


def test_no_invitations_while_the_years_behaviours_are_not_approved(behaviours, contact):
    behaviours[0].behaviour_set.__class__.objects.update(status="proposed")
    assert surveys.invitations_create(MARCH, today=EARLY_APRIL) == 0
    assert not SurveyInvitation.objects.exists()


def test_invitations_for_a_month_not_yet_begun_are_refused(behaviours, contact):
    with pytest.raises(ValidationError, match="has not begun"):
        surveys.invitations_create(MARCH, today=datetime.date(2027, 2, 28))


def test_invitations_are_created_with_a_bounded_number_of_queries(
    behaviours, rm, django_assert_max_num_queries
):
    CustomerContactFactory.create_batch(30, account=AccountFactory(owner=rm))
    with django_assert_max_num_queries(8):
        assert surveys.invitations_create(MARCH, today=EARLY_APRIL) == 30


# --- the link ------------------------------------------------------------------------------


def test_a_valid_link_opens_its_invitation(invitation, token):
    assert surveys.open_survey(token, now=DURING_APRIL) == invitation


def test_a_tampered_signature_is_invalid(token):
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(SurveyLinkInvalid):
        surveys.open_survey(tampered, now=DURING_APRIL)


def test_a_token_signed_for_another_purpose_is_invalid(invitation):
    forged = signing.Signer(salt="something.else").sign_object(
        {"i": invitation.pk, "m": "2027-03", "n": invitation.nonce}
    )
    with pytest.raises(SurveyLinkInvalid):
        surveys.open_survey(forged, now=DURING_APRIL)


def test_a_link_to_an_unknown_invitation_is_invalid(invitation, token):
    invitation.delete()
    with pytest.raises(SurveyLinkInvalid):
        surveys.open_survey(token, now=DURING_APRIL)


def test_a_link_naming_another_month_is_invalid(invitation):
    other_month = signing.Signer(salt=surveys.SALT).sign_object(
        {"i": invitation.pk, "m": "2027-04", "n": invitation.nonce}
    )
    with pytest.raises(SurveyLinkInvalid):
        surveys.open_survey(other_month, now=DURING_APRIL)


def test_a_revoked_link_is_invalid_once_the_nonce_is_rotated(invitation, token):
    SurveyInvitation.objects.filter(pk=invitation.pk).update(nonce="rotated")
    with pytest.raises(SurveyLinkInvalid):
        surveys.open_survey(token, now=DURING_APRIL)


def test_a_link_expires_at_the_start_of_the_second_month_after(token):
    surveys.open_survey(token, now=timezone.make_aware(datetime.datetime(2027, 4, 30, 23, 59)))
    with pytest.raises(SurveyLinkExpired):
        surveys.open_survey(token, now=timezone.make_aware(datetime.datetime(2027, 5, 1)))


def test_a_contact_who_opted_out_can_no_longer_use_the_link(contact, token):
    contact.surveys_enabled = False
    contact.save()
    with pytest.raises(SurveyLinkInvalid):
        surveys.open_survey(token, now=DURING_APRIL)


def test_links_of_two_invitations_differ_and_are_not_guessable(behaviours, account, invitation):
    other = SurveyInvitation.objects.create(
        contact=CustomerContactFactory(account=account),
        rm=invitation.rm,
        month=MARCH,
        expires_at=invitation.expires_at,
    )
    assert other.nonce != invitation.nonce
    assert len(invitation.nonce) >= 32
    assert surveys.survey_token(other) != surveys.survey_token(invitation)


# --- answering -----------------------------------------------------------------------------


def test_submitting_saves_one_survey_rating_per_behaviour_for_the_account_and_rm(
    behaviours, invitation, token, rm, account, contact
):
    saved = surveys.survey_submit(
        token, all_good(behaviours), comment="Always calls back.", now=DURING_APRIL
    )
    assert len(saved) == 2
    rows = CustomerRating.objects.order_by("behaviour__position")
    assert [(r.behaviour, r.rating) for r in rows] == [(b, 4) for b in behaviours]
    assert {(r.account, r.rm, r.contact, r.month, r.source) for r in rows} == {
        (account, rm, contact, MARCH, CustomerRating.Source.SURVEY)
    }
    invitation.refresh_from_db()
    assert invitation.used_at == DURING_APRIL


def test_the_general_comment_is_the_surveys_not_the_first_behaviours(behaviours, invitation, token):
    surveys.survey_submit(token, all_good(behaviours), comment="Great.", now=DURING_APRIL)
    invitation.refresh_from_db()
    assert invitation.comment == "Great."
    assert dict(CustomerRating.objects.values_list("behaviour__name", "comment")) == {
        "Listening": "",
        "Follow-up": "",
    }


def test_the_migration_moves_old_general_comments_off_the_first_behaviour(
    behaviours, invitation, contact, account, rm
):
    from importlib import import_module

    from django.apps import apps

    listening, follow_up = behaviours
    for b, text in ((listening, "Great."), (follow_up, "")):
        CustomerRating.objects.create(
            account=account,
            rm=rm,
            behaviour=b,
            month=MARCH,
            rating=4,
            comment=text,
            contact=contact,
            source=CustomerRating.Source.SURVEY,
        )
    # A survey with comments on two behaviours cannot be told apart: left as it is.
    other = CustomerContactFactory(account=account, email="other@example.com")
    for b in behaviours:
        CustomerRating.objects.create(
            account=account,
            rm=rm,
            behaviour=b,
            month=MARCH,
            rating=4,
            comment=b.name,
            contact=other,
            source=CustomerRating.Source.SURVEY,
        )
    kept = SurveyInvitation.objects.create(
        contact=other, rm=rm, month=MARCH, expires_at=DURING_APRIL
    )
    migration = import_module("coaching.migrations.0002_survey_comment")
    migration.move_general_comments(apps, None)
    invitation.refresh_from_db()
    kept.refresh_from_db()
    assert invitation.comment == "Great."
    assert CustomerRating.objects.get(contact=contact, behaviour=listening).comment == ""
    assert kept.comment == ""
    assert CustomerRating.objects.get(contact=other, behaviour=listening).comment == "Listening"


def test_comments_per_behaviour_are_kept_with_their_behaviour(behaviours, token):
    listening, follow_up = behaviours
    surveys.survey_submit(
        token, all_good(behaviours), comments={follow_up.pk: "Slow."}, now=DURING_APRIL
    )
    assert CustomerRating.objects.get(behaviour=follow_up).comment == "Slow."
    assert CustomerRating.objects.get(behaviour=listening).comment == ""


def test_a_missing_rating_is_refused_by_name_and_nothing_is_saved(behaviours, invitation, token):
    listening, follow_up = behaviours
    with pytest.raises(ValidationError) as refused:
        surveys.survey_submit(token, {listening.pk: 5}, now=DURING_APRIL)
    assert "Follow-up" in refused.value.message_dict[f"rating_{follow_up.pk}"][0]
    assert not CustomerRating.objects.exists()
    invitation.refresh_from_db()
    assert invitation.used_at is None


@pytest.mark.parametrize("bad", [0, 6, "good", True, None])
def test_a_rating_outside_1_to_5_is_refused(behaviours, token, bad):
    answers = all_good(behaviours)
    answers[behaviours[0].pk] = bad
    with pytest.raises(ValidationError):
        surveys.survey_submit(token, answers, now=DURING_APRIL)
    assert not CustomerRating.objects.exists()


def test_a_rating_of_a_behaviour_not_asked_about_is_refused(behaviours, token):
    answers = {**all_good(behaviours), 999999: 4}
    with pytest.raises(ValidationError):
        surveys.survey_submit(token, answers, now=DURING_APRIL)
    assert not CustomerRating.objects.exists()


def test_a_second_submission_is_refused_and_writes_nothing(behaviours, token):
    surveys.survey_submit(token, all_good(behaviours, 5), now=DURING_APRIL)
    with pytest.raises(SurveyAlreadyAnswered):
        surveys.survey_submit(token, all_good(behaviours, 1), now=DURING_APRIL)
    assert list(CustomerRating.objects.values_list("rating", flat=True)) == [5, 5]


def test_an_expired_link_cannot_be_submitted(behaviours, token):
    with pytest.raises(SurveyLinkExpired):
        surveys.survey_submit(
            token,
            all_good(behaviours),
            now=timezone.make_aware(datetime.datetime(2027, 5, 2)),
        )
    assert not CustomerRating.objects.exists()


# --- sending -------------------------------------------------------------------------------


def test_each_invited_contact_is_emailed_their_absolute_link_once(
    behaviours, contact, token, settings
):
    settings.FLIGHTPATH_BASE_URL = "https://flightpath.bank.example"
    assert surveys.send_survey_emails(MARCH, today=EARLY_APRIL) == 0  # invited by `token`
    SurveyInvitation.objects.all().delete()
    assert surveys.send_survey_emails(MARCH, today=EARLY_APRIL) == 1
    assert surveys.send_survey_emails(MARCH, today=EARLY_APRIL) == 0
    [message] = mail.outbox
    invitation = SurveyInvitation.objects.get()
    assert message.to == ["ada@harbour.example"]
    assert "https://flightpath.bank.example" + surveys.survey_link(invitation) in message.body


def test_resend_emails_only_open_invitations_again(behaviours, account, contact):
    surveys.send_survey_emails(MARCH, today=EARLY_APRIL)
    answered = CustomerContactFactory(account=account)
    surveys.send_survey_emails(MARCH, today=EARLY_APRIL)
    SurveyInvitation.objects.filter(contact=answered).update(used_at=timezone.now())
    mail.outbox.clear()
    assert surveys.send_survey_emails(MARCH, today=EARLY_APRIL, resend=True) == 1
    assert mail.outbox[0].to == [contact.email]


def test_send_surveys_command_mails_last_month_by_default(behaviours, contact, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda: EARLY_APRIL)
    out = io.StringIO()
    call_command("send_surveys", stdout=out)
    assert "March 2027: 1 survey e-mail(s) sent." in out.getvalue()
    assert [m.to for m in mail.outbox] == [[contact.email]]


def test_send_surveys_command_refuses_a_malformed_month(behaviours):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("send_surveys", "--month", "March")


# --- the pages -----------------------------------------------------------------------------


def test_the_survey_page_shows_the_rm_the_month_and_each_behaviour_with_five_answers(
    client, behaviours, token, rm, account
):
    response = client.get(reverse("survey:form", args=[token]))
    assert response.status_code == 200
    page = response.text
    assert rm.get_full_name() in page
    assert "March 2027" in page
    assert account.name in page
    for b in behaviours:
        # The legend is the fieldset's first child: it names the group of five answers.
        assert re.search(rf"<fieldset[^>]*>\s*<legend[^>]*>{re.escape(b.name)}</legend>", page)
        assert page.count(f'name="rating_{b.pk}"') == 5
    for label in ("Poor", "Fair", "Average", "Good", "Excellent"):
        assert f">{label}</label>" in page


def test_the_survey_page_needs_no_login_and_is_not_cached(client, token):
    response = client.get(reverse("survey:form", args=[token]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert 'href="/logout/' not in response.text


def test_submitting_the_form_leads_to_a_thank_you_page_with_the_answers(client, behaviours, token):
    url = reverse("survey:form", args=[token])
    response = client.post(url, form_data(behaviours, "5", "Spot on."))
    assert response.status_code == 302
    assert response.url == reverse("survey:thanks", args=[token])
    thanks = client.get(response.url)
    assert "Thank you" in thanks.text
    assert "Excellent" in thanks.text
    assert "Spot on." in thanks.text
    assert CustomerRating.objects.count() == 2


def test_the_thank_you_page_of_an_unanswered_link_leads_back_to_the_form(client, token):
    response = client.get(reverse("survey:thanks", args=[token]))
    assert response.status_code == 302
    assert response.url == reverse("survey:form", args=[token])


def test_a_tampered_link_gets_a_clear_404_page(client, token):
    response = client.get(reverse("survey:form", args=[token[:-3] + "xyz"]))
    assert response.status_code == 404
    assert "This link does not work" in response.text


def test_garbage_instead_of_a_token_gets_the_404_page_not_a_500(client, behaviours):
    for junk in ("x", "a:b:c", "%00", "..", "A" * 2000):
        response = client.get(f"/survey/{junk}/")
        assert response.status_code == 404, junk


def test_an_expired_link_gets_a_clear_410_page(client, invitation, token):
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = client.get(reverse("survey:form", args=[token]))
    assert response.status_code == 410
    assert "This survey has closed" in response.text


def test_a_second_submission_gets_a_clear_409_page_and_writes_nothing(client, behaviours, token):
    url = reverse("survey:form", args=[token])
    client.post(url, form_data(behaviours, "5"))
    again = client.post(url, form_data(behaviours, "1"))
    assert again.status_code == 409
    assert "already answered" in again.text
    assert set(CustomerRating.objects.values_list("rating", flat=True)) == {5}
    reopened = client.get(url)
    assert reopened.status_code == 409
    assert f'href="{reverse("survey:thanks", args=[token])}"' in reopened.text


def test_a_missing_rating_re_renders_the_form_with_the_reason_and_saves_nothing(
    client, behaviours, token, invitation
):
    data = form_data(behaviours)
    del data[f"rating_{behaviours[1].pk}"]
    response = client.post(reverse("survey:form", args=[token]), data)
    assert response.status_code == 400
    assert "Please rate “Follow-up”" in response.text
    assert 'aria-invalid="true"' in response.text
    assert not CustomerRating.objects.exists()
    invitation.refresh_from_db()
    assert invitation.used_at is None


SCRIPT = '<script>alert("x")</script>'


def test_a_comment_with_markup_is_escaped_when_the_form_re_renders(client, behaviours, token):
    data = form_data(behaviours, comment=SCRIPT)
    del data[f"rating_{behaviours[0].pk}"]
    response = client.post(reverse("survey:form", args=[token]), data)
    assert SCRIPT not in response.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in response.text


def test_a_comment_with_markup_is_stored_raw_and_escaped_on_the_thank_you_page(
    client, behaviours, token
):
    client.post(reverse("survey:form", args=[token]), form_data(behaviours, comment=SCRIPT))
    assert SurveyInvitation.objects.filter(comment=SCRIPT).count() == 1
    response = client.get(reverse("survey:thanks", args=[token]))
    assert SCRIPT not in response.text
    assert "&lt;script&gt;" in response.text


def test_a_survey_page_shows_nothing_of_another_contact_or_account(
    client, behaviours, token, rm, other_rm
):
    other_account = AccountFactory(owner=other_rm, name="Secret Other Customer Ltd")
    CustomerContactFactory(account=other_account, name="Zed Other", email="zed@other.example")
    sibling = AccountFactory(owner=rm, name="Sibling Customer Ltd")
    CustomerContactFactory(account=sibling, name="Sam Sibling")
    surveys.invitations_create(MARCH, today=EARLY_APRIL)
    page = client.get(reverse("survey:form", args=[token])).text
    for foreign in ("Secret Other Customer", "Zed Other", "zed@other", "Sibling", "Sam Sibling"):
        assert foreign not in page
    assert other_rm.get_full_name() not in page


def test_the_survey_form_keeps_csrf_protection(behaviours, token):
    browser = Client(enforce_csrf_checks=True)
    url = reverse("survey:form", args=[token])
    assert browser.post(url, form_data(behaviours)).status_code == 403
    assert not CustomerRating.objects.exists()
    page = browser.get(url)
    csrf = page.context["csrf_token"]
    response = browser.post(url, {**form_data(behaviours), "csrfmiddlewaretoken": str(csrf)})
    assert response.status_code == 302
    assert CustomerRating.objects.count() == 2


def test_the_survey_page_is_drawn_with_a_bounded_number_of_queries(
    client, behaviours, token, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        response = client.get(reverse("survey:form", args=[token]))
    assert response.context["invitation"].contact.name == "Ada Buyer"
