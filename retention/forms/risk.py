"""The Retention page's filters and the secondary-contact form."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from accounts.filters import AccountFilterForm
from accounts.models import Tier
from org.access import visible_people, visible_teams
from org.models import Role, User
from retention.selectors.risk import BASES, prioritise
from retention.services.risk import shift_months

CONTRACT_CHOICES = [
    ("expiring", "Expiring within 12 months"),
    ("none", "Not under contract"),
]


def _teams(request):
    return visible_teams(request.user)


def _rms(request):
    return visible_people(request.user).filter(role=Role.RM).order_by("username")


class RiskFilter(django_filters.FilterSet):
    """Filters the latest scores; `basis` sorts them by priority (always applied last)."""

    tier = django_filters.ModelChoiceFilter(
        field_name="account__tier",
        queryset=Tier.objects.all(),
        to_field_name="code",
        label="Tier",
        empty_label="All tiers",
    )
    contract = django_filters.ChoiceFilter(
        choices=CONTRACT_CHOICES, method="by_contract", label="Contract", empty_label="Any contract"
    )
    team = django_filters.ModelChoiceFilter(
        field_name="account__owner__team", queryset=_teams, label="Team", empty_label="All teams"
    )
    rm = django_filters.ModelChoiceFilter(
        field_name="account__owner", queryset=_rms, label="RM", empty_label="All RMs"
    )
    basis = django_filters.ChoiceFilter(
        choices=[(k, v) for k, v in BASES.items() if k != "risk"],
        method="by_priority",
        label="Priority",
        empty_label=BASES["risk"],
    )

    class Meta:
        form = AccountFilterForm
        fields = ["tier", "contract", "team", "rm", "basis"]

    def __init__(self, *args, today: datetime.date, **kwargs):
        self.today = today
        super().__init__(*args, **kwargs)

    def by_contract(self, queryset, name, value):
        if value == "expiring":
            return queryset.filter(
                account__contract_until__gte=self.today,
                account__contract_until__lte=shift_months(self.today, 12),
            )
        if value == "none":
            return queryset.filter(
                Q(account__contract_until__isnull=True) | Q(account__contract_until__lt=self.today)
            )
        return queryset

    def by_priority(self, queryset, name, value):
        return prioritise(queryset, value)

    @property
    def chosen_basis(self) -> str:
        form = self.form
        if form.is_valid():
            return form.cleaned_data.get("basis") or "risk"
        return "risk"


def _people():
    return (
        User.objects.filter(role__in=(Role.LEADER, Role.RM), is_active=True)
        .filter(Q(departed_on__isnull=True) | Q(departed_on__gt=timezone.localdate()))
        .order_by("last_name", "first_name", "username")
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} · {obj.get_role_display()}"


class SecondaryContactForm(forms.Form):
    person = PersonChoiceField(
        queryset=User.objects.none(),
        label="Person at the bank",
        help_text="A team leader or an RM (e.g. a specialist) who will know this customer.",
    )
    role = forms.CharField(
        max_length=80,
        label="Their role for this customer",
        widget=forms.TextInput(attrs={"placeholder": "e.g. team leader, treasury specialist"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = _people()
        self.fields["person"].widget.attrs["class"] = "form-select"
        self.fields["role"].widget.attrs["class"] = "form-control"
