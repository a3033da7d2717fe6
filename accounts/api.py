"""The book of business over the API: accounts and positions (read), activities and
opportunities (read; create and change one's own). Querysets come from the access layer,
writes go through accounts.services. See docs/api.md.
"""

import django_filters
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response

from org.access import visible_accounts
from salesmgmt.api import IdFilter

from . import services
from .models import (
    Account,
    AccountStatus,
    Activity,
    ActivityKind,
    Opportunity,
    OpportunityKind,
    OpportunityStage,
    OpportunityStatus,
    Position,
    Product,
    ProductFamily,
)

# --- serializers ---------------------------------------------------------------------------


class AccountSerializer(serializers.ModelSerializer):
    tier = serializers.CharField(source="tier.code", read_only=True)
    segment_name = serializers.CharField(source="segment.name", read_only=True)
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    covering_rm_username = serializers.CharField(
        source="covering_rm.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "number",
            "name",
            "tier",
            "segment",
            "segment_name",
            "status",
            "owner",
            "owner_username",
            "covering_rm",
            "covering_rm_username",
            "opened_on",
            "closed_on",
            "lost_reason",
            "contract_until",
        ]
        read_only_fields = fields


class PositionSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.code", read_only=True)
    family = serializers.CharField(source="product.family", read_only=True)

    class Meta:
        model = Position
        fields = ["id", "account", "product", "family", "month", "balance", "revenue"]
        read_only_fields = fields


class _RecordSerializer(serializers.ModelSerializer):
    """An activity or opportunity: `account` is one the user sees (anything else is
    "does not exist"), `rm` is always the request user and never read from the body."""

    rm = serializers.PrimaryKeyRelatedField(read_only=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "account" in self.fields:
            self.fields["account"].queryset = visible_accounts(request.user)


class ActivitySerializer(_RecordSerializer):
    class Meta:
        model = Activity
        fields = ["id", "kind", "date", "account", "rm", "outcome"]


class OpportunitySerializer(_RecordSerializer):
    product = serializers.SlugRelatedField(slug_field="code", queryset=Product.objects.all())

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "account",
            "product",
            "rm",
            "amount",
            "stage",
            "probability",
            "expected_close",
            "kind",
            "status",
            "created_on",
            "closed_on",
        ]
        read_only_fields = ["created_on", "closed_on"]


# --- filters -------------------------------------------------------------------------------


class AccountFilter(django_filters.FilterSet):
    tier = django_filters.CharFilter(field_name="tier__code", help_text="Tier code: A, B, C.")
    segment = IdFilter(field_name="segment_id")
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices)
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = Account
        fields = ["tier", "segment", "status", "owner"]


class PositionFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    month = django_filters.DateFilter()
    month_from = django_filters.DateFilter(field_name="month", lookup_expr="gte")
    month_to = django_filters.DateFilter(field_name="month", lookup_expr="lte")
    family = django_filters.ChoiceFilter(
        field_name="product__family", choices=ProductFamily.choices
    )

    class Meta:
        model = Position
        fields = ["account", "month", "month_from", "month_to", "family"]


class ActivityFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    rm = IdFilter(field_name="rm_id")
    kind = django_filters.ChoiceFilter(choices=ActivityKind.choices)
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Activity
        fields = ["account", "rm", "kind", "date_from", "date_to"]


class OpportunityFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    rm = IdFilter(field_name="rm_id")
    status = django_filters.ChoiceFilter(choices=OpportunityStatus.choices)
    stage = django_filters.ChoiceFilter(choices=OpportunityStage.choices)
    kind = django_filters.ChoiceFilter(choices=OpportunityKind.choices)
    family = django_filters.ChoiceFilter(
        field_name="product__family", choices=ProductFamily.choices
    )

    class Meta:
        model = Opportunity
        fields = ["account", "rm", "status", "stage", "kind", "family"]


# --- views ---------------------------------------------------------------------------------


class AccountViewSet(viewsets.ReadOnlyModelViewSet):
    """Accounts the user sees (org.access.visible_accounts); any other is 404."""

    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    ordering_fields = ["name", "number", "status", "opened_on", "contract_until"]
    ordering = ["name"]
    search_fields = ["name", "number"]

    def get_queryset(self):
        return visible_accounts(self.request.user).select_related(
            "tier", "segment", "owner", "covering_rm"
        )


class PositionViewSet(viewsets.ReadOnlyModelViewSet):
    """Month-end balances and revenue of the accounts the user sees."""

    serializer_class = PositionSerializer
    filterset_class = PositionFilter
    ordering_fields = ["month", "balance", "revenue", "account"]
    ordering = ["account", "product__code", "month"]

    def get_queryset(self):
        return Position.objects.filter(
            account__in=visible_accounts(self.request.user).values("pk")
        ).select_related("product")


class _RecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Read through the accounts the user sees; write one's own through the services."""

    model = None
    create_service = None
    update_service = None
    record_name = None

    def get_queryset(self):
        return self.model.objects.filter(
            account__in=visible_accounts(self.request.user).values("pk")
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = type(self).create_service(user=request.user, **serializer.validated_data)
        return Response(self.get_serializer(record).data, status=201)

    def update(self, request, *args, **kwargs):
        record = self.get_object()
        # Somebody else's record is a 403 whatever the body says.
        services.require_own(request.user, record)
        serializer = self.get_serializer(
            record, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        record = type(self).update_service(
            user=request.user, **{self.record_name: record}, **serializer.validated_data
        )
        return Response(self.get_serializer(record).data)


class ActivityViewSet(_RecordViewSet):
    model = Activity
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    ordering_fields = ["date", "kind", "account"]
    ordering = ["-date", "-pk"]
    create_service = services.activity_create
    update_service = services.activity_update
    record_name = "activity"


class OpportunityViewSet(_RecordViewSet):
    model = Opportunity
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilter
    ordering_fields = ["expected_close", "amount", "probability", "created_on", "stage"]
    ordering = ["expected_close", "pk"]
    create_service = services.opportunity_create
    update_service = services.opportunity_update
    record_name = "opportunity"

    def get_queryset(self):
        return super().get_queryset().select_related("product")


ROUTES = [
    ("accounts", AccountViewSet, "account"),
    ("positions", PositionViewSet, "position"),
    ("activities", ActivityViewSet, "activity"),
    ("opportunities", OpportunityViewSet, "opportunity"),
]
