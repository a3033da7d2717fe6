"""The customer's survey page: no login, the signed link is the only key.

The page shows nothing but its own form: the customer's business, the RM, the month and
the year's behaviours. A link that does not open the form gets a plain page saying why,
with the status the service's exception carries (404 not ours, 410 closed, 409 answered).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from ..models import Behaviour, CustomerRating
from ..services import surveys as services

CHOICES = CustomerRating.Score.choices


class SurveyForm(forms.Form):
    """One required five-point rating per behaviour (`rating_<id>`) and one comment."""

    comment = forms.CharField(
        label="Anything you would like to add?",
        required=False,
        max_length=services.MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, behaviours: list[Behaviour], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.behaviours = behaviours
        for b in behaviours:
            self.fields[f"rating_{b.pk}"] = forms.TypedChoiceField(
                label=b.name,
                choices=CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": f"Please rate “{b.name}”: choose one of the five."},
            )

    def questions(self):
        """(behaviour, bound field) in the set's order, for the template."""
        return [(b, self[f"rating_{b.pk}"]) for b in self.behaviours]

    def answers(self) -> dict[int, int]:
        return {b.pk: self.cleaned_data[f"rating_{b.pk}"] for b in self.behaviours}


def _refused(request, error: services.SurveyLinkError, token: str = ""):
    context = {"title": error.title, "message": str(error), "kind": type(error).__name__}
    if isinstance(error, services.SurveyAlreadyAnswered):
        context["answers_url"] = reverse("survey:thanks", args=[token])
    return render(request, "coaching/survey/error.html", context, status=error.status_code)


@never_cache
def survey_form(request, token: str):
    try:
        invitation = services.open_survey(token)
        behaviours = services.survey_behaviours(invitation)
    except services.SurveyLinkError as error:
        return _refused(request, error, token)
    form = SurveyForm(behaviours, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_submit(token, form.answers(), comment=form.cleaned_data["comment"])
        except services.SurveyLinkError as error:
            return _refused(request, error, token)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    form.add_error(None if field == "__all__" else field, message)
        else:
            return redirect("survey:thanks", token=token)
    return render(
        request,
        "coaching/survey/form.html",
        {"invitation": invitation, "form": form, "last_day": services.last_day(invitation)},
        status=400 if form.is_bound else 200,
    )


@never_cache
def survey_thanks(request, token: str):
    """What the customer answered; before answering, the link leads back to the form."""
    try:
        invitation = services.find_invitation(token)
    except services.SurveyLinkError as error:
        return _refused(request, error)
    if invitation.used_at is None:
        return redirect("survey:form", token=token)
    return render(
        request,
        "coaching/survey/thanks.html",
        {"invitation": invitation, "answers": services.answers_of(invitation)},
    )
