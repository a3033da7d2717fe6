"""The filters of the account list. An invalid value is reported and ignored, never a 500."""

import django_filters
from django import forms
from django.db.models import Q

from org.access import visible_people, visible_teams
from org.models import Role

from .models import Account, AccountStatus, Segment, Tier


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering with the primary key last, so that pages never repeat or skip a row."""

    def filter(self, qs, value):
        if not value:
            return qs
        qs = super().filter(qs, value)
        return qs.order_by(*qs.query.order_by, "pk")


def _teams_visible_to(request):
    return visible_teams(request.user)


def _rms_visible_to(request):
    return visible_people(request.user).filter(role=Role.RM).order_by("username")


class AccountFilterForm(forms.Form):
    """Bootstrap's small controls on every filter field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if hasattr(field, "choices") else "form-control"
            field.widget.attrs.setdefault("class", f"{css} form-select-sm form-control-sm")


class AccountFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name or number")
    tier = django_filters.ModelChoiceFilter(
        queryset=Tier.objects.all(), to_field_name="code", empty_label="All tiers"
    )
    segment = django_filters.ModelChoiceFilter(
        queryset=Segment.objects.all(), empty_label="All segments"
    )
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices, empty_label="All statuses")
    team = django_filters.ModelChoiceFilter(
        field_name="owner__team", queryset=_teams_visible_to, empty_label="All teams"
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=_rms_visible_to, label="RM", empty_label="All RMs"
    )
    sort = StableOrderingFilter(
        label="Sort by",
        empty_label="Name, A to Z",
        fields=(
            ("name", "name"),
            ("number", "number"),
            ("tier__code", "tier"),
            ("status", "status"),
            ("loan_balance", "loan"),
            ("deposit_balance", "deposit"),
            ("contract_until", "contract"),
        ),
        field_labels={
            "name": "Name",
            "number": "Number",
            "tier__code": "Tier",
            "status": "Status",
            "loan_balance": "Loan balance",
            "deposit_balance": "Deposit balance",
            "contract_until": "Contract date",
        },
    )

    class Meta:
        model = Account
        form = AccountFilterForm
        fields = ["q", "tier", "segment", "status", "team", "owner"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        # An RM's list is their own book: choosing a team or an RM would only confuse.
        if user is None or user.role == Role.RM:
            del self.filters["owner"]
            del self.filters["team"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(number__istartswith=value))
