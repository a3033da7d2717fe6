"""What every API endpoint shares: the paginator and how errors are answered.

Errors keep DRF's shapes for its own 4xx (a body of field → messages, or `detail`), and
the workflow errors the services raise are answered as the pages answer them
(salesmgmt.workflow), as JSON:

    InvalidTransition, StaleEdit  409  {"detail", "code"}
    FourEyesViolation             403  {"detail", "code"}
    Incomplete                    400  {"detail", "code", "missing": {section: reason}}
    ValidationError (Django's)    400  {field: [messages]} or {"detail": [...]} when not
                                       about one field ("non_field_errors" as DRF names it)
    ObjectDoesNotExist            404  {"detail": "Not found."}
"""

import django_filters
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views.defaults import page_not_found
from rest_framework import filters, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from salesmgmt.workflow import Incomplete, WorkflowError


class Pagination(PageNumberPagination):
    """PAGE_SIZE rows a page; `?page_size=` asks for fewer or more, up to 200."""

    page_size_query_param = "page_size"
    max_page_size = 200


class OrderingFilter(filters.OrderingFilter):
    """`?ordering=` as DRF reads it (unknown fields ignored), with the primary key last so
    that pages never repeat or skip a row among equal values."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not {"pk", "-pk", "id", "-id"} & set(ordering):
            ordering.append("pk")
        return ordering


# The largest id a BigAutoField holds.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A filter on a record's id: a whole number the database can hold, or 400 naming the
    parameter (a plain NumberFilter takes `1.5e-69` or `1e38` and fails in the database)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def not_found(request, exception=None):
    """The project's 404: JSON under /api/ (a URL no route matches, such as
    /api/v1/accounts/1.5/), the HTML page everywhere else."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


class SearchFilter(filters.SearchFilter):
    """`?search=` as DRF reads it; a value it refuses (a NUL character) is a 400 that names
    the parameter, like every other query parameter."""

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from None


def _validation_body(error: DjangoValidationError) -> dict:
    if hasattr(error, "error_dict"):
        body = dict(error.message_dict)
        if NON_FIELD_ERRORS in body:
            body[api_settings.NON_FIELD_ERRORS_KEY] = body.pop(NON_FIELD_ERRORS)
        return body
    return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}


def exception_handler(exc, context):
    if isinstance(exc, WorkflowError):
        body = {"detail": str(exc), "code": type(exc).__name__}
        if isinstance(exc, Incomplete):
            body["missing"] = exc.missing
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(_validation_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ObjectDoesNotExist):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # A ValidationError raised with a bare list: keep the documented shape (an object).
        response.data = {api_settings.NON_FIELD_ERRORS_KEY: response.data}
    return response


# --- the schema's error responses ------------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "What is wrong: `detail` (and `code`) for the request as a whole, or field → list "
        "of messages for invalid input (`non_field_errors` for rules across fields)."
    ),
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "additionalProperties": True,
}

ERRORS = {
    "400": "Invalid input: the body names each field and why.",
    "401": "No login, or a wrong or revoked token.",
    "403": "Inside your scope but not allowed (role, four eyes, CSRF).",
    "404": "Outside your scope, or no such record or page.",
    "429": "Too many requests: wait and retry (Retry-After).",
}
WRITE_ERRORS = {
    "409": "Not valid from the record's current state, or changed by someone else since.",
    "415": "A body the API cannot read (unknown content type, malformed multipart).",
}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation answers the errors of
    `exception_handler` above with the same body shape; writes may also answer 409."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            errors = dict(ERRORS)
            if method in {"post", "put", "patch", "delete"}:
                errors.update(WRITE_ERRORS)
            responses = operation.setdefault("responses", {})
            for code, description in errors.items():
                responses.setdefault(
                    code,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
    return result
