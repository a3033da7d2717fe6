"""The filters of the pipeline list and board. An invalid value is reported and ignored,
never a 500; the RM and team choices are those the user sees (org.access)."""

import django_filters
from django import forms
from django.utils import timezone

from org.access import sees_whole_bank
from org.models import Role

from .filters import AccountFilterForm, StableOrderingFilter, _rms_visible_to, _teams_visible_to
from .models import (
    ForecastCategory,
    Opportunity,
    OpportunityKind,
    OpportunityStage,
    OpportunityStatus,
    ProductFamily,
)

ALL = "all"
STATUS_CHOICES = [*OpportunityStatus.choices, (ALL, "All")]


class PipelineFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="by_status", empty_label=None, label="Status"
    )
    team = django_filters.ModelChoiceFilter(
        field_name="rm__team", queryset=_teams_visible_to, empty_label="All teams"
    )
    rm = django_filters.ModelChoiceFilter(
        queryset=_rms_visible_to, label="RM", empty_label="All RMs"
    )
    stage = django_filters.ChoiceFilter(choices=OpportunityStage.choices, empty_label="All stages")
    kind = django_filters.ChoiceFilter(choices=OpportunityKind.choices, empty_label="All kinds")
    forecast_category = django_filters.ChoiceFilter(
        choices=ForecastCategory.choices, empty_label="All categories", label="Forecast"
    )
    family = django_filters.ChoiceFilter(
        field_name="product__family",
        choices=ProductFamily.choices,
        empty_label="All products",
        label="Product family",
    )
    close_from = django_filters.DateFilter(
        field_name="expected_close",
        lookup_expr="gte",
        label="Closes from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    close_to = django_filters.DateFilter(
        field_name="expected_close",
        lookup_expr="lte",
        label="Closes by",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    @property
    def form(self):
        # Leavers are not offered (their deals have passed on), yet a link naming one still
        # filters: their history stays readable.
        if not hasattr(self, "_form") and "rm" in super().form.fields:
            field = self._form.fields["rm"]
            chosen, today = str(self.data.get("rm") or ""), timezone.localdate()
            field.widget.choices = [("", field.empty_label)] + [
                (p.pk, str(p))
                for p in field.queryset
                if str(p.pk) == chosen or p.departed_on is None or p.departed_on > today
            ]
        return self._form

    sort = StableOrderingFilter(
        label="Sort by",
        empty_label="Expected close",
        fields=(
            ("expected_close", "close"),
            ("amount", "amount"),
            ("weighted_amount", "weighted"),
            ("account__name", "account"),
            ("stage", "stage"),
        ),
        field_labels={
            "expected_close": "Expected close",
            "amount": "Amount",
            "weighted_amount": "Weighted amount",
            "account__name": "Account",
            "stage": "Stage",
        },
    )

    class Meta:
        model = Opportunity
        form = AccountFilterForm
        fields = [
            "status",
            "team",
            "rm",
            "stage",
            "kind",
            "forecast_category",
            "family",
            "close_from",
            "close_to",
        ]

    def __init__(self, data=None, *args, board=False, **kwargs):
        super().__init__(data, *args, **kwargs)
        user = getattr(self.request, "user", None)
        # An RM's pipeline is their own: choosing an RM or a team would only confuse; a
        # leader filters by RM, the whole bank by team and RM.
        if user is None or user.role == Role.RM:
            del self.filters["rm"]
            del self.filters["team"]
        elif not sees_whole_bank(user):
            del self.filters["team"]
        if board:
            # The board is the open pipeline by stage: no status, stage or order to choose.
            for name in ("status", "stage", "sort"):
                del self.filters[name]

    def by_status(self, queryset, name, value):
        if value == ALL:
            return queryset
        return queryset.filter(status=value or OpportunityStatus.OPEN)

    @property
    def qs(self):
        qs = super().qs
        # No status asked for (the first visit): the open pipeline.
        if "status" in self.filters and not (self.data or {}).get("status"):
            qs = qs.filter(status=OpportunityStatus.OPEN)
        return qs
