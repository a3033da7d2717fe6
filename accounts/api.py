"""The book of business over the API: accounts and positions (read), activities and
opportunities (read; create and change one's own). Querysets come from the access layer,
writes go through accounts.services. See docs/api.md.
"""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from coaching.models import CustomerContact
from org.access import visible_accounts, visible_activities, visible_opportunities
from org.models import User
from salesmgmt.api import IdFilter

from . import services
from .models import (
    Account,
    AccountStatus,
    Activity,
    ActivityKind,
    LostReason,
    Opportunity,
    OpportunityChange,
    OpportunityKind,
    OpportunityStage,
    OpportunityStatus,
    Position,
    Product,
    ProductFamily,
)
from .services.activities import participant_choices

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
    """An activity: `status` done (the default; not in the future) or planned (today or
    later, no outcome); `contact` one of the account's contacts; `participants` the RM's
    leader or teammates on a joint call; `version` as last read makes a stale change a
    409. Changed and deleted by its RM for ACTIVITY_EDIT_DAYS, then locked (403)."""

    contact = serializers.PrimaryKeyRelatedField(
        queryset=CustomerContact.objects.none(), required=False, allow_null=True
    )
    participants = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), many=True, required=False
    )
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The activity's `version` as last read; an older one is refused (409).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["contact"].queryset = CustomerContact.objects.filter(
                account__in=visible_accounts(request.user).values("pk")
            )
            self.fields["participants"].child_relation.queryset = participant_choices(request.user)

    class Meta:
        model = Activity
        fields = [
            "id",
            "kind",
            "status",
            "date",
            "account",
            "rm",
            "contact",
            "outcome",
            "next_step",
            "next_step_due",
            "next_step_done_on",
            "participants",
            "created_at",
            "version",
        ]
        read_only_fields = ["next_step_done_on", "created_at"]


class OpportunitySerializer(_RecordSerializer):
    """A deal. `probability` left out takes the stage's default; `status` won or lost
    closes it as the `win/` and `lose/` actions do (lost needs `lost_reason`); `version`
    as last read makes a stale change a 409."""

    product = serializers.SlugRelatedField(slug_field="code", queryset=Product.objects.all())
    probability = serializers.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        help_text="Percent; left out, the stage's default (lead 10, qualified 25, "
        "proposal 50, negotiation 70, closing 90).",
    )
    lost_reason = serializers.PrimaryKeyRelatedField(
        queryset=LostReason.objects.filter(active=True),
        required=False,
        allow_null=True,
        help_text="Why it was lost: an id from /lost-reasons/ (required when status is lost).",
    )
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The deal's `version` as last read; an older one is refused (409).",
    )

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
            "forecast_category",
            "next_step",
            "lost_reason",
            "lost_note",
            "created_on",
            "closed_on",
            "version",
        ]
        read_only_fields = ["created_on", "closed_on"]


class OpportunityChangeSerializer(serializers.ModelSerializer):
    changed_by_username = serializers.CharField(
        source="changed_by.username", read_only=True, default=None, allow_null=True
    )
    slipped = serializers.BooleanField(read_only=True)

    class Meta:
        model = OpportunityChange
        fields = [
            "id",
            "changed_at",
            "changed_by",
            "changed_by_username",
            "from_stage",
            "to_stage",
            "from_status",
            "to_status",
            "from_amount",
            "to_amount",
            "from_expected_close",
            "to_expected_close",
            "slipped",
        ]
        read_only_fields = fields


class OpportunityMoveSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=OpportunityStage.choices)
    version = serializers.IntegerField(min_value=1, required=False)


class OpportunityWinSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, required=False)


class OpportunityLoseSerializer(serializers.Serializer):
    lost_reason = serializers.PrimaryKeyRelatedField(
        queryset=LostReason.objects.filter(active=True),
        help_text="An id from /lost-reasons/.",
    )
    lost_note = serializers.CharField(max_length=300, required=False, allow_blank=True)
    version = serializers.IntegerField(min_value=1, required=False)


class LostReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = LostReason
        fields = ["id", "name", "position"]
        read_only_fields = fields


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
        data = dict(serializer.validated_data)
        data.pop("version", None)
        record = type(self).create_service(user=request.user, **data)
        return Response(self.get_serializer(record).data, status=201)

    def update(self, request, *args, **kwargs):
        record = self.get_object()
        # Somebody else's record is a 403 whatever the body says.
        services.require_own(request.user, record)
        serializer = self.get_serializer(
            record, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        data = self.update_fields(dict(serializer.validated_data))
        version = data.pop("version", None)
        record = type(self).update_service(
            user=request.user, **{self.record_name: record}, expected_version=version, **data
        )
        return Response(self.get_serializer(record).data)

    def update_fields(self, data: dict) -> dict:
        """The validated body as the update service takes it."""
        return data


class ActivityViewSet(mixins.DestroyModelMixin, _RecordViewSet):
    """Activities the user sees (org.access.visible_activities); the RM who recorded one
    changes or deletes it through accounts.services.activities while it is not locked
    (403 after ACTIVITY_EDIT_DAYS); a stale `version` is 409; another's activity is 403."""

    model = Activity
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    ordering_fields = ["date", "kind", "account"]
    ordering = ["-date", "-pk"]
    create_service = services.activity_create
    update_service = services.activity_update
    record_name = "activity"

    def get_queryset(self):
        return visible_activities(self.request.user).prefetch_related("participants")

    def destroy(self, request, *args, **kwargs):
        services.activity_delete(user=request.user, activity=self.get_object())
        return Response(status=204)


class OpportunityViewSet(_RecordViewSet):
    """Deals on the accounts the user sees (org.access.visible_opportunities); the deal's
    RM changes it through accounts.services.pipeline: edit, `move/`, `win/`, `lose/`.
    A closed deal is final (409); a stale `version` is 409; another's deal is 403."""

    model = Opportunity
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilter
    ordering_fields = ["expected_close", "amount", "probability", "created_on", "stage"]
    ordering = ["expected_close", "pk"]
    create_service = services.opportunity_create
    update_service = services.opportunity_update
    record_name = "opportunity"

    def get_queryset(self):
        return visible_opportunities(self.request.user).select_related("product")

    def update_fields(self, data: dict) -> dict:
        # A reason only goes with a loss: an edit that does not lose the deal ignores it.
        if data.get("status") != OpportunityStatus.LOST:
            data.pop("lost_reason", None)
            data.pop("lost_note", None)
        return data

    def _act(self, request, body_class, service, **fixed):
        record = self.get_object()
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version = data.pop("version", None)
        record = service(
            user=request.user, opportunity=record, expected_version=version, **data, **fixed
        )
        return Response(self.get_serializer(record).data)

    @extend_schema(request=OpportunityMoveSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the deal to another stage; the probability becomes the stage's default."""
        return self._act(request, OpportunityMoveSerializer, services.opportunity_move)

    @extend_schema(request=OpportunityWinSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def win(self, request, pk=None):
        """The deal is won: closed today at 100 %."""
        return self._act(request, OpportunityWinSerializer, services.opportunity_win)

    @extend_schema(request=OpportunityLoseSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        """The deal is lost, for a reason from /lost-reasons/: closed today at 0 %."""
        return self._act(request, OpportunityLoseSerializer, services.opportunity_lose)

    @extend_schema(request=None, responses=OpportunityChangeSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """The deal's stage history, oldest first: who changed what, when, from and to."""
        record = self.get_object()
        changes = record.changes.select_related("changed_by").order_by("changed_at", "pk")
        return Response(OpportunityChangeSerializer(changes, many=True).data)


class LostReasonViewSet(viewsets.ReadOnlyModelViewSet):
    """The reasons a deal can be lost for: the administrator's active list."""

    serializer_class = LostReasonSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return LostReason.objects.filter(active=True).order_by("position", "name", "pk")


ROUTES = [
    ("accounts", AccountViewSet, "account"),
    ("positions", PositionViewSet, "position"),
    ("activities", ActivityViewSet, "activity"),
    ("opportunities", OpportunityViewSet, "opportunity"),
    ("lost-reasons", LostReasonViewSet, "lost-reason"),
]
