"""Forms of the pipeline pages. They read what was typed; the rules (a negative amount, a
probability over 100, a close before the deal was created, a lost deal without a reason,
a stale edit) are the services' (accounts.services.pipeline), and their reasons land on
the fields here through `add_service_errors`."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from org.access import visible_accounts

from ..models import ForecastCategory, OpportunityKind, OpportunityStage, Product
from ..selectors.pipeline import lost_reasons
from ..services.pipeline import STAGE_PROBABILITY


class _Styled(forms.Form):
    """Bootstrap's classes on every widget, and invalid fields marked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)

    def add_service_errors(self, error: ValidationError) -> None:
        """A service's refusal, each reason on its field (the rest above the form)."""
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, error)
        for name in self.errors:
            if name in self.fields:
                css = self.fields[name].widget.attrs.get("class", "")
                if "is-invalid" not in css:
                    self.fields[name].widget.attrs["class"] = f"{css} is-invalid".strip()


def _defaults_text() -> str:
    return ", ".join(f"{OpportunityStage(s).label} {p} %" for s, p in STAGE_PROBABILITY.items())


class OpportunityForm(_Styled):
    account = forms.ModelChoiceField(queryset=None, empty_label="Choose an account")
    product = forms.ModelChoiceField(queryset=Product.objects.all(), empty_label="Choose")
    kind = forms.ChoiceField(choices=OpportunityKind.choices)
    amount = forms.DecimalField(max_digits=18, decimal_places=2, label="Amount")
    stage = forms.ChoiceField(choices=OpportunityStage.choices, initial=OpportunityStage.LEAD)
    probability = forms.IntegerField(
        label="Probability %",
        required=False,
        help_text=f"Empty: the stage's default ({_defaults_text()}).",
    )
    expected_close = forms.DateField(
        label="Expected close", widget=forms.DateInput(attrs={"type": "date"})
    )
    forecast_category = forms.ChoiceField(
        label="Forecast category",
        choices=ForecastCategory.choices,
        initial=ForecastCategory.PIPELINE,
        help_text="Commit: you are sure it closes by its date; best case: it may.",
    )
    next_step = forms.CharField(label="Next step", max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The accounts one records work on: owned or covered (others are read only).
        self.fields["account"].queryset = (
            visible_accounts(user)
            .filter(Q(owner=user) | Q(covering_rm=user))
            .order_by("name", "pk")
        )
        for name in ("amount", "probability"):
            self.fields[name].widget.attrs["class"] += " text-end"
            self.fields[name].widget.attrs["inputmode"] = "decimal"

    def changes(self) -> dict:
        """What the services take: every field but the version."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class LoseForm(_Styled):
    lost_reason = forms.ModelChoiceField(
        label="Why was it lost?",
        queryset=None,
        required=False,
        empty_label="Choose a reason",
    )
    lost_note = forms.CharField(
        label="Note (optional)",
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. priced 40 bp under us"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The service says "choose a reason" when none is given: one message, on the field.
        self.fields["lost_reason"].queryset = lost_reasons()


class MoveForm(forms.Form):
    stage = forms.ChoiceField(choices=OpportunityStage.choices)
    version = forms.IntegerField(required=False)
