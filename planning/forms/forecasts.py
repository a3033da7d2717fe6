"""Forms of the forecast pages. They clean and explain input; planning.services.forecasts
decides (a note where the number differs, frozen months, who may adjust)."""

from __future__ import annotations

from django import forms

from ..services.forecasts import MAX_NOTE

NOTE = {"rows": 2}
MONEY = {"max_digits": 18, "decimal_places": 2, "min_value": 0}
AMOUNT = {"inputmode": "decimal", "step": "0.01", "min": "0"}


class ForecastSubmitForm(forms.Form):
    """The RM's number for a period; `version` 0 when they have not submitted before."""

    period = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    amount = forms.DecimalField(
        label="My forecast",
        max_digits=18,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(AMOUNT),
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(NOTE),
        help_text="Needed when your number differs from the proposed commit total.",
    )


class ForecastAdjustForm(forms.Form):
    """The leader's number for an RM's forecast, with the reason."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    amount = forms.DecimalField(
        label="Adjusted",
        max_digits=18,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(AMOUNT),
    )
    note = forms.CharField(label="Why", max_length=MAX_NOTE, widget=forms.Textarea(NOTE))


class TeamForecastSubmitForm(forms.Form):
    period = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    note = forms.CharField(
        label="Note to the executive",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(NOTE),
    )
