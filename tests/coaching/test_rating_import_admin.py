"""The back office's side of customer ratings: the CSV upload page (administrators only)
and the Django admin of every coaching model (quick with many rows, read-only where the
app's workflows decide, customer text escaped)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from coaching.models import BehaviourSet, CheckIn, CustomerRating, LineRating, SurveyInvitation
from coaching.services import surveys
from tests.factories import (
    AccountFactory,
    BehaviourFactory,
    BehaviourSetFactory,
    CadenceFactory,
    CheckInFactory,
    CommitmentFactory,
    CustomerContactFactory,
    CustomerRatingFactory,
    ImprovementPlanFactory,
    PlanYearFactory,
    RmFactory,
    metric,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 4, 2)
MARCH = datetime.date(2027, 3, 1)
HEADER = "account_number,rm_username,behaviour,month,rating,comment\n"
URL = "/coaching/ratings/import/"


@pytest.fixture
def april_2027(monkeypatch):
    """The upload page imports as of 2 April 2027, when March 2027 can be rated."""
    monkeypatch.setattr(timezone, "localdate", lambda: TODAY)


@pytest.fixture
def accounts(rm):
    return [AccountFactory(owner=rm, number="CB1001"), AccountFactory(owner=rm, number="CB1002")]


def upload(text: str, name: str = "ratings.csv", encoding: str = "utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


# --- the upload page -----------------------------------------------------------------------


def test_the_upload_page_has_its_url_name():
    assert reverse("coaching:ratings_import") == URL


@pytest.mark.parametrize("who", ["rm", "leader", "executive"])
def test_only_administrators_may_open_the_upload_page(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"file": upload(HEADER)}).status_code == 403


def test_the_upload_page_asks_an_anonymous_visitor_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_upload_page_offers_a_labelled_file_field_for_the_admin(client, administrator):
    client.force_login(administrator)
    response = client.get(URL)
    assert response.status_code == 200
    assert '<label class="form-label" for="id_file">Ratings file (CSV)</label>' in response.text
    assert 'enctype="multipart/form-data"' in response.text


def test_uploading_a_good_file_imports_it_and_says_how_many(
    client, administrator, behaviours, accounts, april_2027
):
    client.force_login(administrator)
    text = (
        HEADER + "CB1001,rm_north,Listening,2027-03,good,\nCB1001,rm_north,Follow-up,2027-03,3,\n"
    )
    response = client.post(URL, {"file": upload(text)}, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "Imported ratings.csv: 2 new, 0 changed, 0 unchanged ratings." in response.text
    assert CustomerRating.objects.filter(source="import").count() == 2
    history = CustomerRating.history.filter(history_type="+")
    assert {h.history_user for h in history} == {administrator}


def test_a_file_with_bad_rows_shows_every_bad_row_and_imports_nothing(
    client, administrator, behaviours, accounts, april_2027
):
    client.force_login(administrator)
    text = (
        HEADER
        + "CB1001,rm_north,Listening,2027-03,good,\n"
        + "CB9999,rm_north,Listening,2027-03,good,\n"
        + "CB1002,rm_north,Charm,2027-03,good,\n"
    )
    response = client.post(URL, {"file": upload(text)})
    assert response.status_code == 400
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td><code>(\w+)</code></td>", response.text)
    assert rows == [("3", "account_number"), ("4", "behaviour")]
    assert "no such account" in response.text
    assert "2 rows cannot be imported, so nothing was imported." in response.text
    assert not CustomerRating.objects.exists()


def test_the_error_report_downloads_as_csv(client, administrator, behaviours, accounts, april_2027):
    import base64

    client.force_login(administrator)
    response = client.post(URL, {"file": upload(HEADER + "CB9999,rm_north,Listening,2027-03,4,\n")})
    [href] = re.findall(
        r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download', response.text
    )
    report = base64.b64decode(href).decode("utf-8-sig").splitlines()
    assert report == ["row,column,value,reason", "2,account_number,CB9999,no such account"]


def test_an_uploaded_value_with_markup_is_escaped_in_the_report(
    client, administrator, behaviours, accounts, april_2027
):
    client.force_login(administrator)
    response = client.post(
        URL, {"file": upload(HEADER + "<b>x</b>,rm_north,Listening,2027-03,4,\n")}
    )
    assert "<b>x</b>" not in response.text
    assert "&lt;b&gt;x&lt;/b&gt;" in response.text


@pytest.mark.parametrize(
    ("text", "encoding", "message"),
    [
        (
            HEADER.replace(",", ";") + "CB1001;rm_north;Listening;2027-03;4;\n",
            "utf-8",
            "semicolons",
        ),
        ("account,rm,behaviour,month,rating,comment\n", "utf-8", "must be the header"),
        (HEADER + "CB1001,rm_north,Listening,2027-03,4,Très bien\n", "latin-1", "not UTF-8"),
    ],
    ids=["delimiter", "header", "latin-1"],
)
def test_a_file_that_is_not_a_ratings_csv_gets_one_clear_error(
    client, administrator, behaviours, accounts, april_2027, text, encoding, message
):
    client.force_login(administrator)
    response = client.post(URL, {"file": upload(text, encoding=encoding)})
    assert response.status_code == 400
    assert message in response.context["form"].errors["file"][0]
    assert "<table" not in response.text
    assert not CustomerRating.objects.exists()


def test_a_file_over_10_mb_is_refused_before_reading(client, administrator, behaviours):
    client.force_login(administrator)
    big = SimpleUploadedFile("big.csv", b"x" * (10 * 1024 * 1024 + 1), content_type="text/csv")
    response = client.post(URL, {"file": big})
    assert response.status_code == 400
    assert "the limit is 10 MB" in response.context["form"].errors["file"][0]


@pytest.mark.parametrize("rows", [5, 50])
def test_the_upload_page_query_count_does_not_grow_with_rows(
    client, administrator, behaviours, rm, april_2027, rows, django_assert_max_num_queries
):
    lines = [HEADER]
    for i in range(rows):
        AccountFactory(owner=rm, number=f"CB3{i:03d}")
        lines.append(f"CB3{i:03d},rm_north,Listening,2027-03,4,\n")
    client.force_login(administrator)
    with django_assert_max_num_queries(12):
        response = client.post(URL, {"file": upload("".join(lines))})
    assert response.status_code == 302
    assert CustomerRating.objects.count() == rows


# --- the admin -----------------------------------------------------------------------------


def coaching_rows(n: int, behaviours, rm, leader):
    """n of every coaching record, in the plan year of `behaviours`."""
    CadenceFactory(team=rm.team)
    for i in range(n):
        other = RmFactory(team=rm.team)
        checkin = CheckInFactory(rm=other, leader=leader)
        CommitmentFactory(checkin=checkin)
        account = AccountFactory(owner=other)
        contact = CustomerContactFactory(account=account)
        SurveyInvitation.objects.create(
            contact=contact, rm=other, month=MARCH, expires_at=surveys.expiry_of(MARCH)
        )
        CustomerRatingFactory(
            account=account, rm=other, behaviour=behaviours[i % 2], comment=f"Comment {i}"
        )
        ImprovementPlanFactory(rm=other, behaviour=behaviours[0])
        LineRating.objects.create(checkin=checkin, metric=metric("loan_growth"), rating=3)
        BehaviourFactory(
            behaviour_set=BehaviourSetFactory(plan_year=PlanYearFactory(year=2040 + i))
        )


MODELS = [
    "cadence",
    "checkin",
    "commitment",
    "linerating",
    "behaviourset",
    "behaviour",
    "customercontact",
    "surveyinvitation",
    "customerrating",
    "improvementplan",
]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("rows", [3, 30])
def test_each_coaching_admin_list_renders_with_a_bounded_query_count(
    client, administrator, behaviours, rm, leader, model, rows, django_assert_max_num_queries
):
    coaching_rows(rows, behaviours, rm, leader)
    client.force_login(administrator)
    with django_assert_max_num_queries(8):
        response = client.get(reverse(f"admin:coaching_{model}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= (1 if model == "cadence" else rows)


def test_the_admin_ratings_list_links_to_the_import(client, administrator):
    client.force_login(administrator)
    response = client.get(reverse("admin:coaching_customerrating_changelist"))
    assert f'href="{URL}"' in response.text


def test_a_customer_comment_is_escaped_in_the_admin_list(client, administrator, behaviours, rm):
    CustomerRatingFactory(
        account=AccountFactory(owner=rm),
        rm=rm,
        behaviour=behaviours[0],
        comment="<script>x</script>",
    )
    client.force_login(administrator)
    response = client.get(reverse("admin:coaching_customerrating_changelist"))
    assert "<script>x</script>" not in response.text
    assert "&lt;script&gt;x&lt;/script&gt;" in response.text


def test_the_back_office_enters_a_rating_as_source_admin(
    client, administrator, behaviours, account, rm
):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:coaching_customerrating_add"),
        {
            "account": account.pk,
            "rm": rm.pk,
            "behaviour": behaviours[0].pk,
            "month": "2027-03-01",
            "rating": "4",
            "comment": "Phoned in by the customer.",
        },
    )
    assert response.status_code == 302
    rating = CustomerRating.objects.get()
    assert (rating.source, rating.contact, rating.rating) == ("admin", None, 4)


def test_the_rating_add_form_offers_no_drop_down_of_accounts_or_people(
    client, administrator, behaviours
):
    RmFactory.create_batch(5)
    client.force_login(administrator)
    response = client.get(reverse("admin:coaching_customerrating_add"))
    for name, tag, options in re.findall(
        r'<select name="(\w+)"([^>]*)>(.*?)</select>', response.text, flags=re.S
    ):
        if name in {"account", "rm", "behaviour"}:
            assert "admin-autocomplete" in tag, name
            assert options.count("<option") <= 1, name


@pytest.mark.parametrize(
    ("month", "field", "message"),
    [
        ("2027-03-15", "month", "first day of the month"),
        ("2026-03-01", "month", "No approved RB behaviours"),
    ],
)
def test_the_rating_add_form_refuses_a_month_it_cannot_rate(
    client, administrator, behaviours, account, rm, month, field, message
):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:coaching_customerrating_add"),
        {
            "account": account.pk,
            "rm": rm.pk,
            "behaviour": behaviours[0].pk,
            "month": month,
            "rating": "4",
        },
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert not CustomerRating.objects.exists()


def test_a_customers_survey_answer_cannot_be_changed_in_the_admin(
    client, administrator, behaviours, account, rm
):
    rating = CustomerRatingFactory(
        account=account,
        rm=rm,
        behaviour=behaviours[0],
        contact=CustomerContactFactory(account=account),
        source="survey",
    )
    client.force_login(administrator)
    url = reverse("admin:coaching_customerrating_change", args=[rating.pk])
    client.post(url, {"rating": "1", "comment": "changed"})
    rating.refresh_from_db()
    assert (rating.rating, rating.comment) == (4, "")


def test_a_check_in_is_read_only_in_the_admin(client, administrator, rm, leader):
    checkin = CheckInFactory(rm=rm, leader=leader)
    client.force_login(administrator)
    url = reverse("admin:coaching_checkin_change", args=[checkin.pk])
    response = client.post(url, {"status": "completed", "deals_notes": "rewritten"})
    assert response.status_code == 403
    checkin.refresh_from_db()
    assert (checkin.status, checkin.deals_notes) == (CheckIn.Status.SCHEDULED, "")


def test_an_approved_behaviour_set_is_read_only_in_the_admin(client, administrator, behaviours):
    bs = behaviours[0].behaviour_set
    client.force_login(administrator)
    url = reverse("admin:coaching_behaviourset_change", args=[bs.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert "Listening" in response.text


def test_revoking_a_link_in_the_admin_makes_it_invalid(client, administrator, behaviours, account):
    CustomerContactFactory(account=account)
    surveys.invitations_create(MARCH, today=TODAY)
    invitation = SurveyInvitation.objects.get()
    token = surveys.survey_token(invitation)
    client.force_login(administrator)
    client.post(
        reverse("admin:coaching_surveyinvitation_changelist"),
        {"action": "revoke_links", "_selected_action": [invitation.pk]},
    )
    with pytest.raises(surveys.SurveyLinkInvalid):
        surveys.open_survey(token)


def test_a_draft_behaviour_set_started_in_the_admin_records_who_wrote_it(client, administrator):
    plan_year = PlanYearFactory(year=2028)
    client.force_login(administrator)
    response = client.post(
        reverse("admin:coaching_behaviourset_add"),
        {
            "plan_year": plan_year.pk,
            "min_ratings_for_ranking": "5",
            "behaviours-TOTAL_FORMS": "1",
            "behaviours-INITIAL_FORMS": "0",
            "behaviours-0-position": "0",
            "behaviours-0-name": "Listening",
            "behaviours-0-description": "",
            "behaviours-0-weight": "100",
            "behaviours-0-objective_pct": "80",
        },
    )
    assert response.status_code == 302
    bs = BehaviourSet.objects.get(plan_year=plan_year)
    assert (bs.status, bs.created_by, bs.last_edited_by) == ("draft", administrator, administrator)
    assert list(bs.behaviours.values_list("name", flat=True)) == ["Listening"]
