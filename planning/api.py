"""Planning over the REST API: target sets, territory / relationship / development plans and
the stored plan-versus-actual variances. See docs/api.md.

Querysets come from the access layer (org.access), so a record outside the user's scope is
a 404. Every write and every transition calls planning.services, which decide who may do
what (403), from which state (409), four eyes (403) and what is still missing (400).
"""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import F, Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.models import Account
from org.access import (
    visible_accounts,
    visible_development_plans,
    visible_people,
    visible_relationship_plans,
    visible_target_sets,
    visible_teams,
    visible_territory_plans,
    visible_variances,
)
from org.models import Role, Team, User
from salesmgmt.api import IdFilter

from .models import (
    DevelopmentGoal,
    DevelopmentPlan,
    Metric,
    PeriodKind,
    PlannedAction,
    PlanYear,
    RelationshipPlan,
    Scope,
    TargetLine,
    TargetSet,
    TerritoryPlan,
    Variance,
)
from .selectors import plans as plan_selectors
from .selectors.variances import difference_unit, on_course, stored_actual
from .services import plans as plan_services
from .services import targets as target_services

MAX_COMMENT = 4000

# --- shared fields ---------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class PlanYearField(serializers.SlugRelatedField):
    """A plan year by its number (2027), as the pages' `?year=` names it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "year")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", PlanYear.objects.all())
        super().__init__(**kwargs)


class YearFilter(IdFilter):
    """A plan year by its number; anything but a whole number up to 9999 is a 400."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_value", 9999)
        super().__init__(*args, **kwargs)


class CommentSerializer(serializers.Serializer):
    """The body of a decision: an optional comment (a return needs one: the service says so
    with 400 on `comment`)."""

    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_COMMENT, default=""
    )


class VersionedCommentSerializer(CommentSerializer):
    """A proposal or a submission: with `version`, refused (409) if the record changed since
    the caller read it."""

    version = serializers.IntegerField(required=False, min_value=1, allow_null=True)


# --- target sets -----------------------------------------------------------------------------


class TargetLineSerializer(serializers.ModelSerializer):
    metric = serializers.SlugRelatedField(slug_field="code", queryset=Metric.objects.all())
    metric_name = serializers.CharField(source="metric.name", read_only=True)
    value = serializers.DecimalField(max_digits=16, decimal_places=2)
    weight = serializers.IntegerField(min_value=0, max_value=100)

    class Meta:
        model = TargetLine
        fields = ["id", "metric", "metric_name", "value", "weight"]
        read_only_fields = ["id"]


class TargetSetSerializer(serializers.ModelSerializer):
    plan_year = PlanYearField(read_only=True)
    team_name = serializers.CharField(
        source="team.name", read_only=True, default=None, allow_null=True
    )
    rm_username = serializers.CharField(
        source="rm.username", read_only=True, default=None, allow_null=True
    )
    lines = TargetLineSerializer(many=True, read_only=True)

    class Meta:
        model = TargetSet
        fields = [
            "id",
            "plan_year",
            "scope",
            "team",
            "team_name",
            "rm",
            "rm_username",
            "revision",
            "previous",
            "status",
            "growth_share_pct",
            "created_by",
            "last_edited_by",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "decision_comment",
            "version",
            "created_at",
            "lines",
        ]
        read_only_fields = fields


class TargetSetCreateSerializer(serializers.Serializer):
    """A first draft for the bank, a team or an RM. A team or RM the user does not see is
    "does not exist", as an id that does not exist."""

    plan_year = PlanYearField()
    scope = serializers.ChoiceField(choices=Scope.choices)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.none(), required=False)
    rm = serializers.PrimaryKeyRelatedField(queryset=User.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            user = request.user
            self.fields["team"].queryset = visible_teams(user)
            self.fields["rm"].queryset = (
                visible_people(user).filter(role=Role.RM).select_related("team")
            )

    def validate(self, attrs):
        scope = attrs["scope"]
        wanted = {Scope.TEAM: "team", Scope.RM: "rm"}.get(scope)
        errors = {}
        if wanted and attrs.get(wanted) is None:
            errors[wanted] = f"Name the {wanted} of {scope} targets."
        for other in ("team", "rm"):
            if other != wanted and attrs.get(other) is not None:
                errors[other] = f"Targets of scope {scope} have no {other}."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class TargetSetSaveSerializer(serializers.Serializer):
    """A draft's lines, replaced as a whole, at the version the caller read."""

    version = serializers.IntegerField(min_value=1)
    growth_share_pct = serializers.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        help_text="The bank's set only: 60 means 60 % growth, 40 % retention.",
    )
    lines = TargetLineSerializer(many=True, max_length=30)


class TargetSetFilter(django_filters.FilterSet):
    plan_year = YearFilter(field_name="plan_year__year", help_text="E.g. 2027.")
    scope = django_filters.ChoiceFilter(choices=Scope.choices)
    status = django_filters.ChoiceFilter(choices=TargetSet.Status.choices)
    team = IdFilter(field_name="team_id")
    rm = IdFilter(field_name="rm_id")

    class Meta:
        model = TargetSet
        fields = ["plan_year", "scope", "status", "team", "rm"]


def _with_year(qs: QuerySet) -> QuerySet:
    # Ordering by the plan_year key would sort by PlanYear's own (descending) ordering.
    return qs.annotate(year=F("plan_year__year"))


class _PlanningViewSet(viewsets.GenericViewSet):
    """Reads with `serializer_class`; a write reads its body with the serializer named for
    the action in `body_serializers` and answers with the record as read."""

    body_serializers: dict = {}

    def get_serializer_class(self):
        return self.body_serializers.get(self.action, self.serializer_class)

    def _answer(self, pk, status_code=status.HTTP_200_OK):
        record = self.get_queryset().get(pk=pk)
        return Response(self.serializer_class(record).data, status=status_code)


class TargetSetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    _PlanningViewSet,
):
    """Target sets the user sees (org.access.visible_target_sets), with their lines.

    Writing and the workflow go through planning.services.targets: a leader writes and
    proposes their team's and RMs' sets, an executive the bank's; executives approve or
    return (four eyes); an approved set is changed through a new revision.
    """

    serializer_class = TargetSetSerializer
    filterset_class = TargetSetFilter
    ordering_fields = ["year", "scope", "status", "revision", "proposed_at", "decided_at"]
    ordering = ["-year", "scope", "-revision"]
    http_method_names = ["get", "post", "put", "head", "options"]

    body_serializers = {"create": TargetSetCreateSerializer, "update": TargetSetSaveSerializer}

    def get_queryset(self):
        return _with_year(
            visible_target_sets(self.request.user)
            .select_related("plan_year", "team", "rm")
            .prefetch_related(
                Prefetch("lines", queryset=TargetLine.objects.select_related("metric"))
            )
        )

    def _body(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=TargetSetCreateSerializer, responses={201: TargetSetSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ts = target_services.target_set_create(by=request.user, **serializer.validated_data)
        return self._answer(ts.pk, status.HTTP_201_CREATED)

    @extend_schema(request=TargetSetSaveSerializer, responses=TargetSetSerializer)
    def update(self, request, *args, **kwargs):
        ts = self.get_object()
        # Somebody who sees the set but may not edit it hears 403 whatever the body says.
        if not target_services.may_edit(request.user, ts):
            raise PermissionDenied("You may not edit these targets.")
        data = self._body(TargetSetSaveSerializer)
        target_services.target_set_save(
            target_set_id=ts.pk,
            by=request.user,
            lines=[target_services.LineInput(**line) for line in data["lines"]],
            growth_share_pct=data.get("growth_share_pct"),
            expected_version=data["version"],
        )
        return self._answer(ts.pk)

    @extend_schema(request=VersionedCommentSerializer, responses=TargetSetSerializer)
    @action(detail=True, methods=["post"])
    def propose(self, request, pk=None):
        ts = self.get_object()
        data = self._body(VersionedCommentSerializer)
        target_services.target_set_propose(
            target_set_id=ts.pk,
            by=request.user,
            comment=data["comment"],
            expected_version=data.get("version"),
        )
        return self._answer(ts.pk)

    @extend_schema(request=CommentSerializer, responses=TargetSetSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        ts = self.get_object()
        data = self._body(CommentSerializer)
        target_services.target_set_approve(
            target_set_id=ts.pk, by=request.user, comment=data["comment"]
        )
        return self._answer(ts.pk)

    @extend_schema(request=CommentSerializer, responses=TargetSetSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        ts = self.get_object()
        data = self._body(CommentSerializer)
        target_services.target_set_return(
            target_set_id=ts.pk, by=request.user, comment=data["comment"]
        )
        return self._answer(ts.pk)

    @extend_schema(request=None, responses={201: TargetSetSerializer})
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        ts = self.get_object()
        revision = target_services.target_set_revise(target_set_id=ts.pk, by=request.user)
        return self._answer(revision.pk, status.HTTP_201_CREATED)


# --- territory plans ---------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "Section → what it still needs before the plan can be submitted.",
    }
)
class MissingSectionsField(serializers.ReadOnlyField):
    def to_representation(self, plan):
        return plan_services.missing_sections(plan)


SECTION_FIELDS = [
    name for spec in plan_services.SECTIONS.values() for name in [*spec["fields"], *spec["m2m"]]
]


class TerritoryPlanSerializer(serializers.ModelSerializer):
    plan_year = PlanYearField(read_only=True)
    rm_username = serializers.CharField(source="rm.username", read_only=True)
    missing_sections = MissingSectionsField(source="*")

    class Meta:
        model = TerritoryPlan
        fields = [
            "id",
            "rm",
            "rm_username",
            "plan_year",
            "status",
            *SECTION_FIELDS,
            "missing_sections",
            "submitted_at",
            "endorsed_by",
            "endorsed_at",
            "approved_by",
            "approved_at",
            "version",
            "updated_at",
        ]
        read_only_fields = fields


class TerritoryPlanStartSerializer(serializers.Serializer):
    plan_year = PlanYearField()


class TerritoryPlanSectionSerializer(serializers.ModelSerializer):
    """The body that saves one section: the version the caller read and the section's fields
    (fields of other sections are ignored). The accounts and target lines offered are those
    the page offers; which ones may be chosen is the service's rule."""

    version = serializers.IntegerField(min_value=1)
    planned_calls_per_week = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=0, required=False, allow_null=True
    )
    planned_visits_per_week = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=0, required=False, allow_null=True
    )
    planned_reviews_per_week = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=0, required=False, allow_null=True
    )

    class Meta:
        model = TerritoryPlan
        fields = ["version", *SECTION_FIELDS]
        extra_kwargs = {name: {"required": False} for name in SECTION_FIELDS}

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        if plan is not None:
            self.fields[
                "top_accounts"
            ].child_relation.queryset = plan_selectors.top_account_choices(plan.rm, plan)
            self.fields[
                "measured_lines"
            ].child_relation.queryset = plan_selectors.measured_line_choices(plan.rm, plan)


class TerritoryPlanFilter(django_filters.FilterSet):
    plan_year = YearFilter(field_name="plan_year__year", help_text="E.g. 2027.")
    rm = IdFilter(field_name="rm_id")
    team = IdFilter(field_name="rm__team_id", help_text="The RM's team.")
    status = django_filters.ChoiceFilter(choices=TerritoryPlan.Status.choices)

    class Meta:
        model = TerritoryPlan
        fields = ["plan_year", "rm", "team", "status"]


TRANSITIONS = {
    "submit": plan_services.territory_plan_submit,
    "endorse": plan_services.territory_plan_endorse,
    "approve": plan_services.territory_plan_approve,
    "return": plan_services.territory_plan_return,
}


class TerritoryPlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    _PlanningViewSet,
):
    """Territory plans the user sees (org.access.visible_territory_plans).

    The RM starts and writes their plan section by section and submits it; their leader
    endorses or returns it; an executive approves or returns it (planning.services.plans).
    """

    serializer_class = TerritoryPlanSerializer
    filterset_class = TerritoryPlanFilter
    ordering_fields = ["year", "status", "submitted_at", "updated_at"]
    ordering = ["-year", "rm__username"]

    body_serializers = {"create": TerritoryPlanStartSerializer}

    def get_queryset(self):
        return _with_year(
            visible_territory_plans(self.request.user)
            .select_related("rm", "plan_year")
            .prefetch_related(
                Prefetch("measured_lines", queryset=TargetLine.objects.only("pk")),
                Prefetch("top_accounts", queryset=Account.objects.only("pk")),
            )
        )

    @extend_schema(
        request=TerritoryPlanStartSerializer,
        responses={200: TerritoryPlanSerializer, 201: TerritoryPlanSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Start the request user's plan for the year (RMs only); an existing plan is
        answered as it is, with 200."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan_year = serializer.validated_data["plan_year"]
        existed = TerritoryPlan.objects.filter(rm=request.user, plan_year=plan_year).exists()
        plan = plan_services.territory_plan_start(rm=request.user, plan_year=plan_year)
        return self._answer(plan.pk, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    def _transition(self, name, serializer_class):
        plan = self.get_object()
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "version" in data:
            data["expected_version"] = data.pop("version")
        TRANSITIONS[name](plan_id=plan.pk, by=self.request.user, **data)
        return self._answer(plan.pk)

    @extend_schema(request=VersionedCommentSerializer, responses=TerritoryPlanSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._transition("submit", VersionedCommentSerializer)

    @extend_schema(request=CommentSerializer, responses=TerritoryPlanSerializer)
    @action(detail=True, methods=["post"])
    def endorse(self, request, pk=None):
        return self._transition("endorse", CommentSerializer)

    @extend_schema(request=CommentSerializer, responses=TerritoryPlanSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._transition("approve", CommentSerializer)

    @extend_schema(request=CommentSerializer, responses=TerritoryPlanSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        return self._transition("return", CommentSerializer)

    @extend_schema(
        request=TerritoryPlanSectionSerializer,
        responses=TerritoryPlanSerializer,
        parameters=[
            OpenApiParameter(
                "section",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(plan_services.SECTIONS),
                description="The section to save; only its fields are read from the body.",
            )
        ],
    )
    @action(
        detail=True,
        methods=["put"],
        url_path=r"sections/(?P<section>[a-z_]+)",
        url_name="section",
    )
    def section(self, request, pk=None, section=None):
        """Save one section of the RM's draft or returned plan at the version read."""
        if section not in plan_services.SECTIONS:
            raise NotFound("No such section.")
        plan = self.get_object()
        plan_services.require_plan_writer(plan, request.user)
        serializer = TerritoryPlanSectionSerializer(data=request.data, plan=plan)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        spec = plan_services.SECTIONS[section]
        plan_services.territory_plan_save_section(
            plan_id=plan.pk,
            section=section,
            data={k: v for k, v in data.items() if k in (*spec["fields"], *spec["m2m"])},
            by=request.user,
            expected_version=version,
        )
        return self._answer(plan.pk)


# --- relationship plans ------------------------------------------------------------------------


class PlannedActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlannedAction
        fields = ["id", "description", "due_on", "owner", "done"]
        read_only_fields = fields


class RelationshipPlanSerializer(serializers.ModelSerializer):
    plan_year = PlanYearField(read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    actions = PlannedActionSerializer(many=True, read_only=True)

    class Meta:
        model = RelationshipPlan
        fields = [
            "id",
            "account",
            "account_name",
            "plan_year",
            *plan_services.RELATIONSHIP_FIELDS,
            "author",
            "version",
            "updated_at",
            "actions",
        ]
        read_only_fields = fields


class _Versioned:
    """An update names the version it read (409 if somebody saved since), also in a PATCH."""

    def validate(self, attrs):
        if "version" not in attrs:
            raise serializers.ValidationError({"version": "This field is required."})
        return attrs


class RelationshipPlanWriteSerializer(_Versioned, serializers.ModelSerializer):
    """A relationship plan's text at the version read."""

    version = serializers.IntegerField(min_value=1)
    expected_balance = serializers.DecimalField(
        max_digits=18, decimal_places=2, min_value=0, required=False, allow_null=True
    )

    class Meta:
        model = RelationshipPlan
        fields = ["version", *plan_services.RELATIONSHIP_FIELDS]


class RelationshipPlanCreateSerializer(serializers.ModelSerializer):
    """A new plan: the account (one the user sees), the year and the text."""

    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())
    plan_year = PlanYearField()
    expected_balance = serializers.DecimalField(
        max_digits=18, decimal_places=2, min_value=0, required=False, allow_null=True
    )

    class Meta:
        model = RelationshipPlan
        fields = ["account", "plan_year", *plan_services.RELATIONSHIP_FIELDS]
        # The service answers a second plan for the same account and year with 409.
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["account"].queryset = visible_accounts(request.user)


class RelationshipPlanFilter(django_filters.FilterSet):
    plan_year = YearFilter(field_name="plan_year__year", help_text="E.g. 2027.")
    account = IdFilter(field_name="account_id")
    owner = IdFilter(field_name="account__owner_id", help_text="The RM.")
    intent = django_filters.ChoiceFilter(choices=RelationshipPlan.Intent.choices)
    review_from = django_filters.DateFilter(field_name="review_on", lookup_expr="gte")
    review_to = django_filters.DateFilter(field_name="review_on", lookup_expr="lte")

    class Meta:
        model = RelationshipPlan
        fields = ["plan_year", "account", "owner", "intent", "review_from", "review_to"]


class RelationshipPlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    _PlanningViewSet,
):
    """Relationship plans of the accounts the user sees, with their planned actions. The
    account's RM (owner or covering) writes them through planning.services.plans."""

    serializer_class = RelationshipPlanSerializer
    filterset_class = RelationshipPlanFilter
    ordering_fields = ["year", "review_on", "intent", "updated_at", "account__name"]
    ordering = ["-year", "account__name"]
    search_fields = ["account__name", "account__number"]

    body_serializers = {
        "create": RelationshipPlanCreateSerializer,
        "update": RelationshipPlanWriteSerializer,
        "partial_update": RelationshipPlanWriteSerializer,
    }

    def get_queryset(self):
        return _with_year(
            visible_relationship_plans(self.request.user)
            .select_related("account", "plan_year")
            .prefetch_related("actions")
        )

    @extend_schema(
        request=RelationshipPlanCreateSerializer, responses={201: RelationshipPlanSerializer}
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        account, plan_year = data.pop("account"), data.pop("plan_year")
        plan = plan_services.relationship_plan_save(
            account_id=account.pk,
            plan_year=plan_year,
            by=request.user,
            data=data,
            expected_version=0,
        )
        return self._answer(plan.pk, status.HTTP_201_CREATED)

    @extend_schema(request=RelationshipPlanWriteSerializer, responses=RelationshipPlanSerializer)
    def update(self, request, *args, **kwargs):
        plan = self.get_object()
        # Somebody who sees the plan but does not write it hears 403 whatever the body says.
        if not plan_services.may_write_relationship_plan(request.user, plan.account):
            raise PermissionDenied("Only the account's RM writes its relationship plan.")
        serializer = RelationshipPlanWriteSerializer(
            data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        plan_services.relationship_plan_save(
            account_id=plan.account_id,
            plan_year=plan.plan_year,
            by=request.user,
            data=data,
            expected_version=version,
        )
        return self._answer(plan.pk)

    @extend_schema(request=RelationshipPlanWriteSerializer, responses=RelationshipPlanSerializer)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


# --- development plans -------------------------------------------------------------------------


class DevelopmentGoalSerializer(serializers.ModelSerializer):
    class Meta:
        model = DevelopmentGoal
        fields = ["id", "skill", "target_line", "behaviour", "actions"]
        read_only_fields = fields


class DevelopmentPlanSerializer(serializers.ModelSerializer):
    plan_year = PlanYearField(read_only=True)
    rm_username = serializers.CharField(source="rm.username", read_only=True)
    goals = DevelopmentGoalSerializer(many=True, read_only=True)

    class Meta:
        model = DevelopmentPlan
        fields = [
            "id",
            "rm",
            "rm_username",
            "plan_year",
            "support_needed",
            "review_on",
            "version",
            "updated_at",
            "goals",
        ]
        read_only_fields = fields


class DevelopmentPlanWriteSerializer(_Versioned, serializers.ModelSerializer):
    version = serializers.IntegerField(min_value=1)

    class Meta:
        model = DevelopmentPlan
        fields = ["version", "support_needed", "review_on"]


class DevelopmentPlanCreateSerializer(serializers.ModelSerializer):
    """The request user's plan for a year (RMs only)."""

    plan_year = PlanYearField()

    class Meta:
        model = DevelopmentPlan
        fields = ["plan_year", "support_needed", "review_on"]


class DevelopmentPlanFilter(django_filters.FilterSet):
    plan_year = YearFilter(field_name="plan_year__year", help_text="E.g. 2027.")
    rm = IdFilter(field_name="rm_id")
    team = IdFilter(field_name="rm__team_id", help_text="The RM's team.")

    class Meta:
        model = DevelopmentPlan
        fields = ["plan_year", "rm", "team"]


class DevelopmentPlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    _PlanningViewSet,
):
    """Development plans the user sees, with their goals. The RM writes their own through
    planning.services.plans."""

    serializer_class = DevelopmentPlanSerializer
    filterset_class = DevelopmentPlanFilter
    ordering_fields = ["year", "review_on", "updated_at"]
    ordering = ["-year", "rm__username"]

    body_serializers = {
        "create": DevelopmentPlanCreateSerializer,
        "update": DevelopmentPlanWriteSerializer,
        "partial_update": DevelopmentPlanWriteSerializer,
    }

    def get_queryset(self):
        return _with_year(
            visible_development_plans(self.request.user)
            .select_related("rm", "plan_year")
            .prefetch_related("goals")
        )

    @extend_schema(
        request=DevelopmentPlanCreateSerializer, responses={201: DevelopmentPlanSerializer}
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        plan = plan_services.development_plan_save(
            rm=request.user,
            plan_year=data.pop("plan_year"),
            by=request.user,
            data=data,
            expected_version=0,
        )
        return self._answer(plan.pk, status.HTTP_201_CREATED)

    @extend_schema(request=DevelopmentPlanWriteSerializer, responses=DevelopmentPlanSerializer)
    def update(self, request, *args, **kwargs):
        plan = self.get_object()
        if plan.rm_id != request.user.pk:
            raise PermissionDenied("Only the RM writes their development plan.")
        serializer = DevelopmentPlanWriteSerializer(
            data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        plan_services.development_plan_save(
            rm=request.user,
            plan_year=plan.plan_year,
            by=request.user,
            data=data,
            expected_version=version,
        )
        return self._answer(plan.pk)

    @extend_schema(request=DevelopmentPlanWriteSerializer, responses=DevelopmentPlanSerializer)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


# --- variances (read) --------------------------------------------------------------------------


class VarianceSerializer(serializers.ModelSerializer):
    plan_year = PlanYearField(read_only=True)
    team_name = serializers.CharField(
        source="team.name", read_only=True, default=None, allow_null=True
    )
    rm_username = serializers.CharField(
        source="rm.username", read_only=True, default=None, allow_null=True
    )
    metric = serializers.CharField(source="metric.code", read_only=True)
    metric_name = serializers.CharField(source="metric.name", read_only=True)
    actual = serializers.SerializerMethodField()
    on_course = serializers.SerializerMethodField()
    difference_unit = serializers.SerializerMethodField(
        help_text="What `difference` counts in: pp (percentage points) for a metric measured "
        "in %, which then has no `percent`; else the metric's unit (count, money, ratio)."
    )

    class Meta:
        model = Variance
        fields = [
            "id",
            "plan_year",
            "scope",
            "team",
            "team_name",
            "rm",
            "rm_username",
            "metric",
            "metric_name",
            "period",
            "period_start",
            "period_end",
            "planned",
            "actual",
            "difference",
            "difference_unit",
            "percent",
            "on_course",
            "note",
            "as_of",
            "computed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True))
    def get_actual(self, row):
        # Counts are stored with two decimals; they are shown whole, as on the pages.
        actual = stored_actual(row.metric.code, row.actual)
        return None if actual is None else str(actual)

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_on_course(self, row):
        return on_course(row.metric, stored_actual(row.metric.code, row.actual), row.planned)

    @extend_schema_field(serializers.CharField())
    def get_difference_unit(self, row) -> str:
        return difference_unit(row.metric)


class VarianceFilter(django_filters.FilterSet):
    plan_year = YearFilter(field_name="plan_year__year", help_text="E.g. 2027.")
    scope = django_filters.ChoiceFilter(choices=Scope.choices)
    rm = IdFilter(field_name="rm_id")
    team = IdFilter(field_name="team_id")
    metric = django_filters.CharFilter(field_name="metric__code", help_text="Metric code.")
    period = django_filters.ChoiceFilter(choices=PeriodKind.choices)
    month = django_filters.DateFilter(
        method="filter_month", help_text="The periods that contain this day."
    )
    period_from = django_filters.DateFilter(
        field_name="period_start", lookup_expr="gte", help_text="Periods starting on or after."
    )
    period_to = django_filters.DateFilter(
        field_name="period_end", lookup_expr="lte", help_text="Periods ending on or before."
    )

    class Meta:
        model = Variance
        fields = [
            "plan_year",
            "scope",
            "rm",
            "team",
            "metric",
            "period",
            "month",
            "period_from",
            "period_to",
        ]

    def filter_month(self, queryset, name, value):
        return queryset.filter(period_start__lte=value, period_end__gte=value)


class VarianceViewSet(viewsets.ReadOnlyModelViewSet):
    """Plan versus actual as the nightly job stored it (planning.services.variances)."""

    serializer_class = VarianceSerializer
    filterset_class = VarianceFilter
    ordering_fields = ["year", "period_start", "metric__position", "percent", "difference"]
    ordering = ["-year", "scope", "period", "period_start", "metric__position"]

    def get_queryset(self):
        return _with_year(
            visible_variances(self.request.user).select_related("plan_year", "team", "rm", "metric")
        )


ROUTES = [
    ("target-sets", TargetSetViewSet, "target-set"),
    ("territory-plans", TerritoryPlanViewSet, "territory-plan"),
    ("relationship-plans", RelationshipPlanViewSet, "relationship-plan"),
    ("development-plans", DevelopmentPlanViewSet, "development-plan"),
    ("variances", VarianceViewSet, "variance"),
]
