"""Retention over the REST API (docs/api.md): risk scores (read), departure cases (read,
open, and the coverage, replacement and handover actions) and campaigns (read, set up and
edit; each campaign's prequalified list cut to what the viewer sees).

Querysets come from org.access and retention.selectors; every change goes through
retention.services, which raise what salesmgmt.api's handler answers (PermissionDenied 403,
InvalidTransition 409, ValidationError 400). As on the pages: outside scope is 404, inside
scope but not allowed is 403, checked before the body is read.
"""

from __future__ import annotations

import django_filters
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from accounts.models import Account, ProductFamily, Tier
from org.access import (
    require_role,
    visible_campaign_accounts,
    visible_departure_cases,
    visible_people,
    visible_risk_scores,
    visible_teams,
)
from org.models import Role, Team, User
from salesmgmt.api import MAX_ID, IdFilter

from .models import (
    Campaign,
    CampaignAccount,
    CoverageChange,
    DepartureCase,
    HandoverReview,
    RiskFactor,
    RiskScore,
)
from .selectors import campaigns as campaign_selectors
from .selectors import departures as departure_selectors
from .services import campaigns as campaign_services
from .services import departures as departure_services


def _rms(request):
    """RMs the user sees (a filter or body value outside them is refused)."""
    user = getattr(request, "user", None)
    if user is None:  # schema generation
        return User.objects.none()
    return visible_people(user).filter(role=Role.RM)


def _teams(request):
    user = getattr(request, "user", None)
    if user is None:
        return Team.objects.none()
    return visible_teams(user)


# === risk scores ===========================================================================


class RiskReasonSerializer(serializers.Serializer):
    """One reason behind a score: which, how many of the 100 points, and the detail."""

    code = serializers.ChoiceField(choices=RiskFactor.Code.choices, read_only=True)
    points = serializers.IntegerField(read_only=True)
    detail = serializers.CharField(read_only=True)


class RiskScoreSerializer(serializers.ModelSerializer):
    account_number = serializers.CharField(source="account.number", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    tier = serializers.CharField(source="account.tier.code", read_only=True)
    owner = serializers.IntegerField(source="account.owner_id", read_only=True)
    owner_username = serializers.CharField(source="account.owner.username", read_only=True)
    reasons = RiskReasonSerializer(many=True, read_only=True)

    class Meta:
        model = RiskScore
        fields = [
            "id",
            "account",
            "account_number",
            "account_name",
            "tier",
            "owner",
            "owner_username",
            "scored_on",
            "score",
            "reasons",
        ]
        read_only_fields = fields


class RiskScoreFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    scored_on = django_filters.DateFilter()
    scored_from = django_filters.DateFilter(field_name="scored_on", lookup_expr="gte")
    scored_to = django_filters.DateFilter(field_name="scored_on", lookup_expr="lte")
    min_score = IdFilter(field_name="score", lookup_expr="gte", min_value=0, max_value=100)
    tier = django_filters.CharFilter(field_name="account__tier__code", help_text="Tier code.")
    team = django_filters.ModelChoiceFilter(
        field_name="account__owner__team",
        queryset=_teams,
        help_text="Team id (a team you see): accounts owned by its RMs.",
    )
    rm = django_filters.ModelChoiceFilter(
        field_name="account__owner",
        queryset=_rms,
        help_text="User id of the owning RM (an RM you see).",
    )
    latest = django_filters.BooleanFilter(
        method="only_latest", help_text="true: only each account's most recent score."
    )

    class Meta:
        model = RiskScore
        fields = [
            "account",
            "scored_on",
            "scored_from",
            "scored_to",
            "min_score",
            "tier",
            "team",
            "rm",
            "latest",
        ]

    def only_latest(self, queryset, name, value):
        if not value:
            return queryset
        latest_day = (
            RiskScore.objects.filter(account=OuterRef("account"))
            .order_by("-scored_on")
            .values("scored_on")[:1]
        )
        return queryset.filter(scored_on=Subquery(latest_day))


class RiskScoreViewSet(viewsets.ReadOnlyModelViewSet):
    """Nightly attrition-risk scores of the accounts the user sees
    (org.access.visible_risk_scores), each with its reasons."""

    serializer_class = RiskScoreSerializer
    filterset_class = RiskScoreFilter
    ordering_fields = ["score", "scored_on", "account__name"]
    ordering = ["-scored_on", "-score"]
    search_fields = ["account__name", "account__number"]

    def get_queryset(self):
        return visible_risk_scores(self.request.user).select_related(
            "account", "account__tier", "account__owner"
        )


# === departure cases =======================================================================


class DepartureCaseSerializer(serializers.ModelSerializer):
    rm_username = serializers.CharField(source="rm.username", read_only=True)
    team = serializers.IntegerField(source="rm.team_id", read_only=True, allow_null=True)
    replacement_username = serializers.CharField(
        source="replacement.username", read_only=True, default=None, allow_null=True
    )
    phase = serializers.SerializerMethodField()
    uncovered = serializers.IntegerField(
        read_only=True, help_text="Live major accounts without a covering RM (0 once replaced)."
    )

    class Meta:
        model = DepartureCase
        fields = [
            "id",
            "rm",
            "rm_username",
            "team",
            "notice_on",
            "last_day",
            "phase",
            "replacement",
            "replacement_username",
            "replacement_assigned_on",
            "closed_on",
            "opened_by",
            "uncovered",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=DepartureCase.Phase.choices))
    def get_phase(self, case) -> str:
        return case.phase_on(timezone.localdate())


class DepartureCaseDetailSerializer(DepartureCaseSerializer):
    accounts = serializers.SerializerMethodField()
    major_accounts = serializers.SerializerMethodField()

    class Meta(DepartureCaseSerializer.Meta):
        fields = [*DepartureCaseSerializer.Meta.fields, "accounts", "major_accounts"]
        read_only_fields = fields

    def _board(self, case):
        # The case page's coverage board (one query), counted once for both fields.
        if getattr(case, "_api_board", None) is None:
            case._api_board = departure_selectors.coverage_board(case)
        return case._api_board

    @extend_schema_field(OpenApiTypes.INT)
    def get_accounts(self, case) -> int:
        return len(self._board(case))

    @extend_schema_field(OpenApiTypes.INT)
    def get_major_accounts(self, case) -> int:
        return sum(1 for line in self._board(case) if line.is_major)

    def to_representation(self, case):
        data = super().to_representation(case)
        # The detail counts the board itself (also after a change in this request).
        data["uncovered"] = sum(1 for line in self._board(case) if line.uncovered)
        return data


class DepartureOpenSerializer(serializers.Serializer):
    """Record an RM's notice. `rm` is an RM the user sees (anyone else "does not exist")."""

    rm = serializers.PrimaryKeyRelatedField(queryset=User.objects.none())
    notice_on = serializers.DateField()
    last_day = serializers.DateField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["rm"].queryset = _rms(request)

    def validate(self, data):
        if data["last_day"] < data["notice_on"]:
            raise serializers.ValidationError(
                {"last_day": "The last day cannot be before the notice was given."}
            )
        return data


class CoverageAssignSerializer(serializers.Serializer):
    """Give `accounts` (ids of the case's accounts) to `covering_rm` (null: no cover)."""

    accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        max_length=5000,
    )
    covering_rm = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        allow_null=True,
        help_text="User id of an RM of the same team who is staying, or the team's leader; "
        "null removes the cover.",
    )

    def validate_accounts(self, ids):
        case = self.context["case"]
        ids = sorted(set(ids))
        found = set(
            departure_services.case_accounts(case).filter(pk__in=ids).values_list("pk", flat=True)
        )
        unknown = [str(pk) for pk in ids if pk not in found]
        if unknown:
            raise serializers.ValidationError(
                f"Not an account of {case.rm}'s case: {', '.join(unknown)}."
            )
        return ids

    def validate_covering_rm(self, pk):
        case = self.context["case"]
        if pk is None:
            return None
        if pk == case.rm_id:
            raise serializers.ValidationError("The leaving RM cannot cover their own accounts.")
        if not departure_services.covering_candidates(case).filter(pk=pk).exists():
            raise serializers.ValidationError(
                "Cover is given by an RM of the same team who is staying, or by the leader."
            )
        return pk


class CoverageChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CoverageChange
        fields = ["account", "previous_covering", "new_covering", "changed_at", "changed_by"]
        read_only_fields = fields


class ReplacementAssignSerializer(serializers.Serializer):
    replacement = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        help_text="User id of an RM of the leaving RM's team who is staying.",
    )
    on = serializers.DateField(help_text="The day the replacement starts.")

    def validate_replacement(self, pk):
        case, user = self.context["case"], self.context["request"].user
        if not departure_services.replacement_candidates(case, user).filter(pk=pk).exists():
            raise serializers.ValidationError(
                "The replacement is an RM of the same team who is staying (not the leaving RM)."
            )
        return pk

    def validate_on(self, day):
        if day < self.context["case"].notice_on:
            raise serializers.ValidationError(
                "The replacement cannot start before the notice was given."
            )
        return day


class HandoverReviewSerializer(serializers.Serializer):
    account = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A major account (tier A or B) of the case."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate_account(self, pk):
        case = self.context["case"]
        majors = departure_services.major(departure_services.case_accounts(case))
        if not majors.filter(pk=pk).exists():
            raise serializers.ValidationError(
                "Only the case's major accounts (tier A and B) are reviewed."
            )
        return pk


class HandoverReviewResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    account = serializers.IntegerField(source="account_id")
    reviewed_by = serializers.IntegerField(source="reviewed_by_id")
    reviewed_at = serializers.DateTimeField()
    note = serializers.CharField()
    case_closed_on = serializers.DateField(
        source="case.closed_on",
        allow_null=True,
        help_text="Set when this review was the last one: the case is closed.",
    )


class CoverageResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="Accounts whose cover changed.")
    changes = CoverageChangeSerializer(many=True)


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "role"]
        read_only_fields = fields


class CandidatesSerializer(serializers.Serializer):
    covering = PersonSerializer(many=True, help_text="Who may cover the case's accounts.")
    replacement = PersonSerializer(many=True, help_text="Who may replace the leaving RM.")


class DepartureCaseFilter(django_filters.FilterSet):
    rm = IdFilter(field_name="rm_id", help_text="User id of the leaving RM.")
    team = IdFilter(field_name="rm__team_id")
    replacement = IdFilter(field_name="replacement_id")
    open = django_filters.BooleanFilter(
        field_name="closed_on", lookup_expr="isnull", help_text="true: not closed yet."
    )
    last_day_from = django_filters.DateFilter(field_name="last_day", lookup_expr="gte")
    last_day_to = django_filters.DateFilter(field_name="last_day", lookup_expr="lte")

    class Meta:
        model = DepartureCase
        fields = ["rm", "team", "replacement", "open", "last_day_from", "last_day_to"]


@extend_schema_view(
    create=extend_schema(
        request=DepartureOpenSerializer,
        responses={
            201: DepartureCaseDetailSerializer,
        },
    ),
    retrieve=extend_schema(responses=DepartureCaseDetailSerializer),
)
class DepartureCaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Departure cases the user sees (org.access.visible_departure_cases): the leaving RM's
    leader, executives, administrators and the replacement. Changes go through
    retention.services.departures."""

    serializer_class = DepartureCaseSerializer
    filterset_class = DepartureCaseFilter
    ordering_fields = ["last_day", "notice_on", "closed_on", "replacement_assigned_on", "uncovered"]
    ordering = ["last_day"]
    search_fields = ["rm__username", "rm__first_name", "rm__last_name"]

    def get_queryset(self):
        cases = departure_selectors.with_uncovered(visible_departure_cases(self.request.user))
        return cases.select_related("rm", "rm__team", "replacement")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return DepartureCaseDetailSerializer
        return super().get_serializer_class()

    def _detail(self, case, status_code=status.HTTP_200_OK):
        case = self.get_queryset().get(pk=case.pk)
        return Response(DepartureCaseDetailSerializer(case).data, status=status_code)

    def create(self, request, *args, **kwargs):
        # Only a leader or an administrator records a notice (403 before the body is read).
        require_role(request.user, Role.LEADER, Role.ADMIN)
        serializer = DepartureOpenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = departure_services.departure_open(
            rm_id=data["rm"].pk,
            by=request.user,
            notice_on=data["notice_on"],
            last_day=data["last_day"],
        )
        return self._detail(case, status.HTTP_201_CREATED)

    def _managed_case(self):
        case = self.get_object()
        if not departure_services.can_manage(self.request.user, case):
            raise PermissionDenied(
                "Only the leaving RM's leader or an administrator runs this case."
            )
        return case

    @extend_schema(
        responses={
            200: CandidatesSerializer,
        }
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def candidates(self, request, pk=None):
        """Who may cover the accounts and who may replace the leaving RM (the choices of
        the case page's forms): for the leader and administrators who run the case."""
        case = self._managed_case()
        body = {
            "covering": departure_services.covering_candidates(case),
            "replacement": departure_services.replacement_candidates(case, request.user),
        }
        return Response(CandidatesSerializer(body).data)

    @extend_schema(request=CoverageAssignSerializer, responses=CoverageResultSerializer)
    @action(detail=True, methods=["post"], url_path="assign-coverage")
    def assign_coverage(self, request, pk=None):
        """Set the covering RM of some of the case's accounts (before a replacement)."""
        case = self._managed_case()
        serializer = CoverageAssignSerializer(
            data=request.data, context={"request": request, "case": case}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changes = departure_services.coverage_assign(
            case_id=case.pk,
            by=request.user,
            assignments=dict.fromkeys(data["accounts"], data["covering_rm"]),
        )
        body = {"changed": len(changes), "changes": changes}
        return Response(CoverageResultSerializer(body).data)

    @extend_schema(
        request=ReplacementAssignSerializer,
        responses=DepartureCaseDetailSerializer,
    )
    @action(detail=True, methods=["post"], url_path="assign-replacement")
    def assign_replacement(self, request, pk=None):
        """Give the leaving RM's live accounts to the replacement; onboarding starts."""
        case = self._managed_case()
        serializer = ReplacementAssignSerializer(
            data=request.data, context={"request": request, "case": case}
        )
        serializer.is_valid(raise_exception=True)
        case = departure_services.replacement_assign(
            case_id=case.pk,
            by=request.user,
            replacement_id=serializer.validated_data["replacement"],
            on=serializer.validated_data["on"],
        )
        return self._detail(case)

    @extend_schema(
        request=HandoverReviewSerializer,
        responses={
            201: HandoverReviewResultSerializer,
        },
    )
    @action(detail=True, methods=["post"], url_path="review-handover")
    def review_handover(self, request, pk=None):
        """The replacement marks one major account reviewed; the last one closes the case."""
        case = self.get_object()
        if request.user.pk != case.replacement_id:
            raise PermissionDenied("Only the replacement marks the accounts as reviewed.")
        serializer = HandoverReviewSerializer(
            data=request.data, context={"request": request, "case": case}
        )
        serializer.is_valid(raise_exception=True)
        review = departure_services.handover_review(
            case_id=case.pk,
            by=request.user,
            account_id=serializer.validated_data["account"],
            note=serializer.validated_data["note"],
        )
        review.case.refresh_from_db(fields=["closed_on"])
        return Response(HandoverReviewResultSerializer(review).data, status=status.HTTP_201_CREATED)


# --- a case's accounts: the coverage board --------------------------------------------------


class CaseAccountSerializer(serializers.ModelSerializer):
    tier = serializers.CharField(source="tier.code", read_only=True)
    covering_rm_username = serializers.CharField(
        source="covering_rm.username", read_only=True, default=None, allow_null=True
    )
    major = serializers.SerializerMethodField(help_text="Tier A or B.")
    uncovered = serializers.SerializerMethodField(
        help_text="A major account without a covering RM while the case has no replacement."
    )
    reviewed = serializers.BooleanField(
        read_only=True, help_text="The replacement has marked it reviewed (handover)."
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "number",
            "name",
            "tier",
            "owner",
            "covering_rm",
            "covering_rm_username",
            "major",
            "uncovered",
            "reviewed",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_major(self, account) -> bool:
        return account.tier.code in departure_services.MAJOR_TIERS

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_uncovered(self, account) -> bool:
        case = self.context["case"]
        return (
            self.get_major(account) and account.covering_rm_id is None and not case.replacement_id
        )


class CaseAccountFilter(django_filters.FilterSet):
    major = django_filters.BooleanFilter(method="by_major", help_text="true: tiers A and B.")
    tier = django_filters.CharFilter(field_name="tier__code", help_text="Tier code.")
    covering_rm = IdFilter(field_name="covering_rm_id")
    covered = django_filters.BooleanFilter(
        field_name="covering_rm", lookup_expr="isnull", exclude=True, help_text="Has cover."
    )

    class Meta:
        model = Account
        fields = ["major", "tier", "covering_rm", "covered"]

    def by_major(self, queryset, name, value):
        if value is None:
            return queryset
        majors = departure_services.major(queryset)
        return majors if value else queryset.exclude(pk__in=majors.values("pk"))


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("case_pk", OpenApiTypes.INT, OpenApiParameter.PATH)]
    )
)
class DepartureCaseAccountViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A case's accounts as its page's coverage board shows them
    (retention.services.departures.case_accounts): the leaving RM's live accounts, or after
    a replacement the accounts that moved to them. A case outside scope is 404."""

    serializer_class = CaseAccountSerializer
    filterset_class = CaseAccountFilter
    ordering_fields = ["name", "number", "tier__code"]
    ordering = ["tier__code", "name"]
    search_fields = ["name", "number"]
    queryset = Account.objects.none()  # for the schema; see get_queryset

    def _case(self):
        if not hasattr(self, "_the_case"):
            self._the_case = get_object_or_404(
                departure_selectors.departure_page(self.request.user), pk=self.kwargs["case_pk"]
            )
        return self._the_case

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["case"] = self._case()
        return context

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Account.objects.none()
        case = self._case()
        reviews = HandoverReview.objects.filter(case=case, account=OuterRef("pk"))
        return (
            departure_services.case_accounts(case)
            .select_related("tier", "covering_rm")
            .annotate(reviewed=Exists(reviews))
        )


# === campaigns =============================================================================


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign as set up; `listed` counts the viewer's share of its list."""

    state = serializers.SerializerMethodField()
    listed = serializers.IntegerField(
        read_only=True, help_text="Listed accounts the viewer sees (an RM their own)."
    )
    product_family = serializers.ChoiceField(
        choices=ProductFamily.choices,
        required=False,
        allow_blank=True,
        help_text="Only for a product_family goal.",
    )
    target_value = serializers.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "description",
            "starts_on",
            "ends_on",
            "state",
            "goal",
            "product_family",
            "target_value",
            "listed",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "state", "listed", "created_by", "created_at"]
        # The service checks the name (also ignoring case) and names the field.
        extra_kwargs = {"name": {"validators": []}, "description": {"required": False}}

    @extend_schema_field(serializers.ChoiceField(choices=["upcoming", "running", "finished"]))
    def get_state(self, campaign) -> str:
        return campaign_selectors.campaign_state(campaign, timezone.localdate())


class GoalSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="The campaign's goal: " + ", ".join(Campaign.Goal.values)
    )
    label = serializers.CharField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Attained.")
    target = serializers.DecimalField(max_digits=14, decimal_places=2)
    baseline = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    month = serializers.DateField(allow_null=True)
    pct = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    reached = serializers.BooleanField()


class WindowSerializer(serializers.Serializer):
    state = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    base_month = serializers.DateField()
    end_month = serializers.DateField(allow_null=True)


class AttritionSerializer(serializers.Serializer):
    listed_base = serializers.IntegerField()
    listed_lost = serializers.IntegerField()
    listed_pct = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    rest_base = serializers.IntegerField()
    rest_lost = serializers.IntegerField()
    rest_pct = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    gap = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)


class FiguresSerializer(serializers.Serializer):
    """The campaign page's figures over the viewer's share of the list."""

    scope = serializers.CharField(
        help_text="Whose listed accounts the figures count: bank, team or own."
    )
    window = WindowSerializer()
    listed = serializers.IntegerField()
    active = serializers.IntegerField()
    contacted = serializers.IntegerField()
    contacted_pct = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    converted = serializers.IntegerField()
    converted_pct = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    goal = GoalSerializer()
    attrition = AttritionSerializer()


class CampaignDetailSerializer(CampaignSerializer):
    figures = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "figures"]

    @extend_schema_field(FiguresSerializer)
    def get_figures(self, campaign):
        figures = campaign_selectors.campaign_figures(
            campaign=campaign, user=self.context["request"].user
        )
        return FiguresSerializer(figures).data


class CampaignFilter(django_filters.FilterSet):
    goal = django_filters.ChoiceFilter(choices=Campaign.Goal.choices)
    product_family = django_filters.ChoiceFilter(choices=ProductFamily.choices)
    state = django_filters.ChoiceFilter(
        choices=[("upcoming", "Upcoming"), ("running", "Running"), ("finished", "Finished")],
        method="by_state",
        help_text="As of today.",
    )
    active_on = django_filters.DateFilter(
        method="by_day", help_text="Campaigns running on this day."
    )

    class Meta:
        model = Campaign
        fields = ["goal", "product_family", "state", "active_on"]

    def by_state(self, queryset, name, value):
        today = timezone.localdate()
        if value == "upcoming":
            return queryset.filter(starts_on__gt=today)
        if value == "finished":
            return queryset.filter(ends_on__lt=today)
        return self.by_day(queryset, name, today)

    def by_day(self, queryset, name, day):
        return queryset.filter(starts_on__lte=day, ends_on__gte=day)


@extend_schema_view(
    retrieve=extend_schema(responses=CampaignDetailSerializer),
    create=extend_schema(
        request=CampaignSerializer,
        responses={
            201: CampaignDetailSerializer,
        },
    ),
    update=extend_schema(
        request=CampaignSerializer,
        responses={
            200: CampaignDetailSerializer,
        },
    ),
    partial_update=extend_schema(
        request=CampaignSerializer,
        responses={
            200: CampaignDetailSerializer,
        },
    ),
)
class CampaignViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The bank's campaigns (everyone sees them); `listed` and the detail's figures count
    only the viewer's share of the list. Executives and administrators set them up."""

    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    ordering_fields = ["starts_on", "ends_on", "name", "listed"]
    ordering = ["-starts_on", "name"]
    search_fields = ["name"]

    def get_queryset(self):
        user = self.request.user
        return campaign_selectors.visible_campaigns(user).annotate(
            listed=Count(
                "entries",
                filter=Q(entries__in=visible_campaign_accounts(user).values("pk")),
            )
        )

    def get_serializer_class(self):
        if self.action == "retrieve":
            return CampaignDetailSerializer
        return super().get_serializer_class()

    def _detail(self, campaign, status_code=status.HTTP_200_OK):
        campaign = self.get_queryset().get(pk=campaign.pk)
        context = self.get_serializer_context()
        return Response(
            CampaignDetailSerializer(campaign, context=context).data, status=status_code
        )

    def create(self, request, *args, **kwargs):
        require_role(request.user, *campaign_services.MANAGERS)
        serializer = CampaignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = campaign_services.campaign_create(by=request.user, **serializer.validated_data)
        return self._detail(campaign, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        campaign = self.get_object()
        require_role(request.user, *campaign_services.MANAGERS)
        partial = kwargs.get("partial", False)
        serializer = CampaignSerializer(campaign, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = {
            name: getattr(campaign, name)
            for name in (
                "name",
                "description",
                "starts_on",
                "ends_on",
                "goal",
                "product_family",
                "target_value",
            )
        }
        fields.update(serializer.validated_data)
        campaign = campaign_services.campaign_update(
            campaign_id=campaign.pk, by=request.user, **fields
        )
        return self._detail(campaign)


# --- a campaign's prequalified list --------------------------------------------------------


class CampaignAccountSerializer(serializers.ModelSerializer):
    account_number = serializers.CharField(source="account.number", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    tier = serializers.CharField(source="account.tier.code", read_only=True)
    owner = serializers.IntegerField(source="account.owner_id", read_only=True)
    owner_username = serializers.CharField(source="account.owner.username", read_only=True)
    contacted = serializers.BooleanField(
        read_only=True, help_text="An activity on the account during the campaign so far."
    )
    converted = serializers.BooleanField(
        read_only=True, help_text="Converted as the campaign's goal counts it."
    )

    class Meta:
        model = CampaignAccount
        fields = [
            "id",
            "account",
            "account_number",
            "account_name",
            "tier",
            "owner",
            "owner_username",
            "reason",
            "source",
            "added_at",
            "contacted",
            "converted",
        ]
        read_only_fields = fields


class CampaignAccountFilter(django_filters.FilterSet):
    show = django_filters.ChoiceFilter(
        choices=[(k, v) for k, v in campaign_selectors.SHOW.items() if k != "all"],
        method="by_show",
        help_text="As the campaign page's filter.",
    )
    tier = django_filters.ModelChoiceFilter(
        field_name="account__tier", queryset=Tier.objects.all(), to_field_name="code"
    )
    owner = IdFilter(field_name="account__owner_id")
    source = django_filters.ChoiceFilter(choices=CampaignAccount.Source.choices)

    class Meta:
        model = CampaignAccount
        fields = ["show", "tier", "owner", "source"]

    def by_show(self, queryset, name, value):
        if value == "contacted":
            return queryset.filter(contacted=True)
        if value == "not_contacted":
            return queryset.filter(contacted=False)
        return queryset.filter(converted=True)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("campaign_pk", OpenApiTypes.INT, OpenApiParameter.PATH),
        ]
    )
)
class CampaignAccountViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A campaign's prequalified list as far as the viewer sees its accounts
    (org.access.visible_campaign_accounts): an RM their own, a leader their team's."""

    serializer_class = CampaignAccountSerializer
    filterset_class = CampaignAccountFilter
    ordering_fields = ["account__name", "added_at", "contacted", "converted"]
    ordering = ["account__name"]
    search_fields = ["account__name", "account__number"]
    queryset = CampaignAccount.objects.none()  # for the schema; see get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CampaignAccount.objects.none()
        user = self.request.user
        campaign = get_object_or_404(
            campaign_selectors.visible_campaigns(user), pk=self.kwargs["campaign_pk"]
        )
        window = campaign_selectors.campaign_window(campaign)
        return campaign_selectors.campaign_entries(campaign=campaign, user=user, window=window)


ROUTES = [
    ("risk-scores", RiskScoreViewSet, "risk-score"),
    ("departure-cases", DepartureCaseViewSet, "departure-case"),
    (r"departure-cases/(?P<case_pk>[0-9]+)/accounts", DepartureCaseAccountViewSet, "case-account"),
    ("campaigns", CampaignViewSet, "campaign"),
    (r"campaigns/(?P<campaign_pk>[0-9]+)/accounts", CampaignAccountViewSet, "campaign-account"),
]
