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

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import filters, status
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
    return drf_exception_handler(exc, context)
