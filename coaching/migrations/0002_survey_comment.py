"""The survey's general comment moves from the first behaviour's rating to the survey.

Until now the survey form's one comment box was stored on the rating of the set's first
behaviour, so every comment read as one about "Listening". The data step moves it to the
invitation where it can be told apart: a survey rating (source "survey", with a contact)
on the first behaviour of its set, the only rating of that survey with a comment. The
service could also take comments per behaviour (no page offers it); a survey with a
comment on another behaviour, or with two, is left as it is, because there the general
comment cannot be told from a comment on the first behaviour (docs/surveys.md).
"""

from django.db import migrations, models


def move_general_comments(apps, schema_editor):
    CustomerRating = apps.get_model("coaching", "CustomerRating")
    SurveyInvitation = apps.get_model("coaching", "SurveyInvitation")
    Behaviour = apps.get_model("coaching", "Behaviour")
    first_of_set = {}
    for b in Behaviour.objects.order_by("behaviour_set", "position", "name"):
        first_of_set.setdefault(b.behaviour_set_id, b.pk)
    with_comment = CustomerRating.objects.filter(source="survey", contact__isnull=False).exclude(
        comment=""
    )
    by_survey = {}
    for r in with_comment.select_related("behaviour").order_by("pk"):
        by_survey.setdefault((r.contact_id, r.month), []).append(r)
    for (contact_id, month), ratings in by_survey.items():
        if len(ratings) != 1:
            continue
        (rating,) = ratings
        if first_of_set.get(rating.behaviour.behaviour_set_id) != rating.behaviour_id:
            continue
        moved = SurveyInvitation.objects.filter(
            contact_id=contact_id, month=month, comment=""
        ).update(comment=rating.comment)
        if moved:
            CustomerRating.objects.filter(pk=rating.pk).update(comment="")


def back(apps, schema_editor):
    CustomerRating = apps.get_model("coaching", "CustomerRating")
    SurveyInvitation = apps.get_model("coaching", "SurveyInvitation")
    Behaviour = apps.get_model("coaching", "Behaviour")
    first_of_set = {}
    for b in Behaviour.objects.order_by("behaviour_set", "position", "name"):
        first_of_set.setdefault(b.behaviour_set_id, b.pk)
    for inv in SurveyInvitation.objects.exclude(comment=""):
        ratings = CustomerRating.objects.filter(
            contact_id=inv.contact_id, month=inv.month, behaviour_id__in=first_of_set.values()
        )
        ratings.filter(comment="").update(comment=inv.comment)


class Migration(migrations.Migration):
    dependencies = [("coaching", "0001_checkins_and_report_card")]

    operations = [
        migrations.AddField(
            model_name="surveyinvitation",
            name="comment",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(move_general_comments, back),
    ]
