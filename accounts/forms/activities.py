"""Forms of the activity pages. They read and check input; the rules are the services'
(accounts.services.activities), whose refusals the view puts back on the fields."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Activity, ActivityKind, ActivityStatus
from accounts.selectors.activities import account_label, loggable_accounts
from accounts.services.activities import participant_choices
from coaching.models import CustomerContact
from org.access import visible_people
from org.models import Role, User

NUMBER_IN_LABEL = re.compile(r"\(([^()]+)\)\s*$")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SELECT = {"class": "form-select form-select-sm"}
SMALL_DATE = forms.DateInput(
    attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d"
)


def find_account(text: str, accounts) -> Account:
    """The account the field names: "Name (number)" as the list offers it, a number, or
    a name that only one of `accounts` has."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("Choose the account.")
    match = NUMBER_IN_LABEL.search(text)
    number = match.group(1).strip() if match else text
    found = accounts.filter(number=number).first()
    if found:
        return found
    named = list(accounts.filter(name__iexact=text)[:2])
    if len(named) == 1:
        return named[0]
    if named:
        raise ValidationError(
            f"Several of your accounts are called {text}; pick one from the list."
        )
    raise ValidationError(
        f"None of the accounts you own or cover is “{text}”. Pick one from the list."
    )


class ContactField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name  # the account is chosen beside it


class ParticipantsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        role = "your leader" if obj.role == Role.LEADER else "teammate"
        return f"{obj} ({role})"


class ActivityForm(forms.Form):
    """Log (done), plan (ahead), edit one's activity, or mark a plan done: `mode` says which
    fields are asked for."""

    kind = forms.ChoiceField(choices=ActivityKind.choices, initial=ActivityKind.CALL)
    date = forms.DateField(widget=DATE)
    account = forms.CharField(
        label="Account",
        max_length=250,
        help_text="Type a few letters of the name or the number and pick it from the list.",
    )
    contact = ContactField(
        queryset=CustomerContact.objects.none(),
        required=False,
        label="Customer contact met",
        empty_label="— none / not recorded —",
    )
    outcome = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Outcome"
    )
    next_step = forms.CharField(max_length=200, required=False, label="Next step")
    next_step_due = forms.DateField(widget=DATE, required=False, label="Next step due")
    participants = ParticipantsField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Went along (a joint call)",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    MODES = {
        "log": (
            "kind",
            "date",
            "account",
            "contact",
            "outcome",
            "next_step",
            "next_step_due",
            "participants",
        ),
        "plan": (
            "kind",
            "date",
            "account",
            "contact",
            "next_step",
            "next_step_due",
            "participants",
        ),
        "edit": (
            "kind",
            "date",
            "account",
            "contact",
            "outcome",
            "next_step",
            "next_step_due",
            "participants",
            "version",
        ),
        "complete": ("date", "contact", "outcome", "next_step", "next_step_due", "version"),
    }

    def __init__(self, *args, user: User, mode: str, activity: Activity | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.mode, self.activity = user, mode, activity
        for name in list(self.fields):
            if name not in self.MODES[mode]:
                del self.fields[name]
        self.accounts = loggable_accounts(user)
        if "participants" in self.fields:
            self.fields["participants"].queryset = participant_choices(
                activity.rm if activity else user
            )
        if "date" in self.fields:
            self.fields["date"].initial = timezone.localdate()
        if mode == "complete":
            self.fields["outcome"].required = True
            self.fields["date"].help_text = "The day it took place."
        if mode == "log":
            self.fields["date"].help_text = "Today unless it happened earlier."
        self.chosen_account = activity.account if activity else None
        if "account" in self.fields:
            # A datalist of the user's accounts; picking one fills the contact select.
            self.fields["account"].widget.attrs.update(
                {
                    "list": "account-options",
                    "autocomplete": "off",
                    "hx-get": reverse("accounts:activity_contacts"),
                    "hx-trigger": "change",
                    "hx-include": "this",
                    "hx-target": "#id_contact",
                    "hx-swap": "innerHTML",
                }
            )
            raw = self.data.get(self.add_prefix("account")) if self.is_bound else None
            if raw:
                try:
                    self.chosen_account = find_account(raw, self.accounts)
                except ValidationError:
                    self.chosen_account = None
        if "contact" in self.fields and self.chosen_account is not None:
            self.fields["contact"].queryset = CustomerContact.objects.filter(
                account=self.chosen_account
            ).order_by("name")

    def clean_account(self):
        # Found already when the contact choices were filled in; looked up again only to
        # say why not.
        if self.chosen_account is not None and self.activity is None:
            return self.chosen_account
        return find_account(self.cleaned_data.get("account"), self.accounts)

    def service_fields(self) -> dict:
        """The cleaned values as the service's keyword arguments."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if "contact" in data and data["contact"] is None:
            data["contact"] = None
        if "next_step" in data:
            data["next_step"] = data["next_step"].strip()
        if "participants" in data:
            data["participants"] = list(data["participants"])
        return data

    def add_service_error(self, error: ValidationError) -> None:
        """A service's refusal, on the field it names where the form has it."""
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


def initial_for(activity: Activity) -> dict:
    return {
        "kind": activity.kind,
        "date": activity.date,
        "account": account_label(activity.account),
        "contact": activity.contact_id,
        "outcome": activity.outcome,
        "next_step": activity.next_step,
        "next_step_due": activity.next_step_due,
        "participants": [p.pk for p in activity.participants.all()],
        "version": activity.version,
    }


class ActivityListFilter(django_filters.FilterSet):
    """The team's (or the bank's) activity list: per RM, kind, status and dates."""

    rm = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(), label="RM", widget=forms.Select(attrs=SELECT)
    )
    kind = django_filters.ChoiceFilter(
        choices=ActivityKind.choices, empty_label="Any kind", widget=forms.Select(attrs=SELECT)
    )
    status = django_filters.ChoiceFilter(
        choices=ActivityStatus.choices,
        empty_label="Done or planned",
        widget=forms.Select(attrs=SELECT),
    )
    date_from = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", label="From", widget=SMALL_DATE
    )
    date_to = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", label="To", widget=SMALL_DATE
    )

    class Meta:
        model = Activity
        fields = ["rm", "kind", "status", "date_from", "date_to"]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["rm"].queryset = (
            visible_people(user)
            .filter(role=Role.RM)
            .order_by("last_name", "first_name", "username")
        )
        self.filters["rm"].extra["empty_label"] = "Every RM"
