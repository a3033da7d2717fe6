"""Forecasts over the REST API: the RMs' submissions (with the leader's adjustment) and the
teams' forecasts. See docs/api.md and docs/forecast.md.

Querysets come from org.access (outside scope is a 404); every write calls
planning.services.forecasts, which decides who may (403), whether the period is frozen
(409), whether the caller's version is current (409) and what is wrong with the input
(400, naming the field).
"""

import django_filters
from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from org.access import visible_forecast_submissions, visible_team_forecasts, visible_teams
from org.models import Team
from salesmgmt.api import IdFilter

from .models import ForecastPeriod, ForecastSubmission, TeamForecastSubmission
from .services import forecasts as services
from .services.forecasts import MAX_NOTE

MONEY = {"max_digits": 18, "decimal_places": 2, "min_value": 0}


class ForecastSubmissionSerializer(serializers.ModelSerializer):
    rm_username = serializers.CharField(source="rm.username", read_only=True)
    effective_amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        read_only=True,
        help_text="What the team's forecast counts: the leader's number where adjusted.",
    )

    class Meta:
        model = ForecastSubmission
        fields = [
            "id",
            "rm",
            "rm_username",
            "period",
            "period_start",
            "proposed_amount",
            "amount",
            "note",
            "submitted_at",
            "adjusted_amount",
            "adjustment_note",
            "adjusted_by",
            "adjusted_at",
            "effective_amount",
            "version",
        ]
        read_only_fields = fields


class ForecastSubmitSerializer(serializers.Serializer):
    """The request user's (an RM's) first forecast for a month or a quarter."""

    period = serializers.ChoiceField(choices=ForecastPeriod.choices)
    period_start = serializers.DateField(help_text="First day of the month or quarter.")
    amount = serializers.DecimalField(**MONEY)
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_NOTE,
        default="",
        help_text="Needed when `amount` differs from the proposed commit total.",
    )


class ForecastResubmitSerializer(serializers.Serializer):
    """A new number for the same period, at the version read."""

    version = serializers.IntegerField(min_value=1)
    amount = serializers.DecimalField(**MONEY)
    note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NOTE, default="")


class ForecastAdjustSerializer(serializers.Serializer):
    """The leader's number for the RM's forecast, with the reason, at the version read."""

    version = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    amount = serializers.DecimalField(**MONEY)
    note = serializers.CharField(max_length=MAX_NOTE)


class ForecastSubmissionFilter(django_filters.FilterSet):
    rm = IdFilter(field_name="rm_id")
    team = IdFilter(field_name="rm__team_id", help_text="The RM's team.")
    period = django_filters.ChoiceFilter(choices=ForecastPeriod.choices)
    period_start = django_filters.DateFilter()

    class Meta:
        model = ForecastSubmission
        fields = ["rm", "team", "period", "period_start"]


class _Bodies(viewsets.GenericViewSet):
    body_serializers: dict = {}

    def get_serializer_class(self):
        return self.body_serializers.get(self.action, self.serializer_class)

    def _body(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _answer(self, pk, status_code=status.HTTP_200_OK):
        record = self.get_queryset().get(pk=pk)
        return Response(self.serializer_class(record).data, status=status_code)


class ForecastSubmissionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    _Bodies,
):
    """RMs' forecast submissions the user sees (org.access.visible_forecast_submissions).

    An RM creates and resubmits their own (before the month freezes); the leader of the
    RM's team adjusts one (`adjust/`); executives read."""

    serializer_class = ForecastSubmissionSerializer
    filterset_class = ForecastSubmissionFilter
    ordering_fields = ["period_start", "submitted_at", "amount"]
    ordering = ["-period_start", "rm__username"]
    http_method_names = ["get", "post", "put", "head", "options"]
    body_serializers = {
        "create": ForecastSubmitSerializer,
        "update": ForecastResubmitSerializer,
        "adjust": ForecastAdjustSerializer,
    }

    def get_queryset(self):
        return visible_forecast_submissions(self.request.user).select_related("rm")

    @extend_schema(request=ForecastSubmitSerializer, responses={201: ForecastSubmissionSerializer})
    def create(self, request, *args, **kwargs):
        """Submit the request user's forecast for a period; one that exists already is a
        409 (resubmit it with PUT at its version)."""
        data = self._body(ForecastSubmitSerializer)
        submission = services.forecast_submit(rm=request.user, expected_version=0, **data)
        return self._answer(submission.pk, status.HTTP_201_CREATED)

    @extend_schema(request=ForecastResubmitSerializer, responses=ForecastSubmissionSerializer)
    def update(self, request, *args, **kwargs):
        submission = self.get_object()
        if submission.rm_id != request.user.pk:
            raise PermissionDenied("Only the RM resubmits their forecast.")
        data = self._body(ForecastResubmitSerializer)
        services.forecast_submit(
            rm=request.user,
            period=submission.period,
            period_start=submission.period_start,
            amount=data["amount"],
            note=data["note"],
            expected_version=data["version"],
        )
        return self._answer(submission.pk)

    @extend_schema(request=ForecastAdjustSerializer, responses=ForecastSubmissionSerializer)
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        """The leader of the RM's team sets their number, with a note; the RM's stays."""
        submission = self.get_object()
        data = self._body(ForecastAdjustSerializer)
        services.forecast_adjust(
            submission_id=submission.pk,
            by=request.user,
            amount=data["amount"],
            note=data["note"],
            expected_version=data.get("version"),
        )
        return self._answer(submission.pk)


class TeamForecastSerializer(serializers.ModelSerializer):
    team_name = serializers.CharField(source="team.name", read_only=True)

    class Meta:
        model = TeamForecastSubmission
        fields = [
            "id",
            "team",
            "team_name",
            "period",
            "period_start",
            "amount",
            "note",
            "submitted_by",
            "submitted_at",
            "version",
        ]
        read_only_fields = fields


class TeamForecastSubmitSerializer(serializers.Serializer):
    """The team's forecast for a period: the amount is the sum of its RMs' numbers as the
    leader left them, computed by the service. `version`: 0 or absent for the first
    submission, else the version read."""

    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.none())
    period = serializers.ChoiceField(choices=ForecastPeriod.choices)
    period_start = serializers.DateField(help_text="First day of the month or quarter.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NOTE, default="")
    version = serializers.IntegerField(min_value=0, required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["team"].queryset = visible_teams(request.user)


class TeamForecastFilter(django_filters.FilterSet):
    team = IdFilter(field_name="team_id")
    period = django_filters.ChoiceFilter(choices=ForecastPeriod.choices)
    period_start = django_filters.DateFilter()

    class Meta:
        model = TeamForecastSubmission
        fields = ["team", "period", "period_start"]


class TeamForecastViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _Bodies
):
    """Teams' forecasts the user sees (their leader's and the whole bank's). The leader
    submits, or resubmits at the version read (POST again)."""

    serializer_class = TeamForecastSerializer
    filterset_class = TeamForecastFilter
    ordering_fields = ["period_start", "submitted_at", "amount"]
    ordering = ["-period_start", "team__name"]
    body_serializers = {"create": TeamForecastSubmitSerializer}

    def get_queryset(self):
        return visible_team_forecasts(self.request.user).select_related("team")

    @extend_schema(
        request=TeamForecastSubmitSerializer,
        responses={200: TeamForecastSerializer, 201: TeamForecastSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        team = data.pop("team")
        existed = TeamForecastSubmission.objects.filter(
            team=team, period=data["period"], period_start=data["period_start"]
        ).exists()
        record = services.team_forecast_submit(
            team_id=team.pk,
            by=request.user,
            period=data["period"],
            period_start=data["period_start"],
            note=data["note"],
            expected_version=data.get("version"),
        )
        return self._answer(record.pk, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


ROUTES = [
    ("forecast-submissions", ForecastSubmissionViewSet, "forecast-submission"),
    ("team-forecasts", TeamForecastViewSet, "team-forecast"),
]
