"""Errors every workflow raises, and how the web answers them.

Services raise these; views may catch them to re-render a form with the reason. What a
view does not catch is answered here, the same way on every page:

    InvalidTransition  409  the action is not valid from the record's current state
    StaleEdit          409  somebody else saved the record since it was loaded
    FourEyesViolation  403  the four-eyes rule forbids this person this decision
    PermissionDenied   403  (Django's) inside scope but not allowed
    ValidationError    400  (Django's) a service refused the input; the messages say why
    DoesNotExist       404  a service looked the record up through the access layer and
                            the user may not see it: outside scope is "not found"
"""

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.views.defaults import page_not_found


class WorkflowError(Exception):
    """A business rule refused the action. The message is for the user."""

    status_code = 409


class InvalidTransition(WorkflowError):
    pass


class StaleEdit(WorkflowError):
    def __init__(self, message="Somebody else saved this since you opened it.", *, current=None):
        super().__init__(message)
        self.current = current


class FourEyesViolation(WorkflowError):
    status_code = 403


class Incomplete(WorkflowError):
    """Submitting needs sections that are still empty: `missing` maps section → reason."""

    status_code = 400

    def __init__(self, missing: dict[str, str]):
        super().__init__("Some required sections are not filled in yet.")
        self.missing = missing


def wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


class WorkflowErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, ObjectDoesNotExist):
            if wants_json(request):
                return JsonResponse({"detail": "Not found."}, status=404)
            return page_not_found(request, exception)
        if isinstance(exception, ValidationError):
            detail = " ".join(exception.messages)
            if wants_json(request):
                body = {"detail": detail, "code": "ValidationError"}
                if hasattr(exception, "error_dict"):
                    body["fields"] = exception.message_dict
                return JsonResponse(body, status=400)
            return render(request, "workflow_error.html", {"error": detail}, status=400)
        if not isinstance(exception, WorkflowError):
            return None
        status = exception.status_code
        if wants_json(request):
            body = {"detail": str(exception), "code": type(exception).__name__}
            if isinstance(exception, Incomplete):
                body["missing"] = exception.missing
            return JsonResponse(body, status=status)
        return render(request, "workflow_error.html", {"error": exception}, status=status)


def check_version(record, expected_version: int | None, message: str) -> None:
    """Refuse (409) when somebody saved `record` since `expected_version` was read; None
    means the caller does not check (a decision, a background step)."""
    if expected_version is not None and expected_version != record.version:
        raise StaleEdit(message, current=record)


def save_versioned(record, expected_version: int | None, message: str, **changes) -> None:
    """Save `changes` to a row-locked `record` only if nobody saved it since
    `expected_version` was read, and count the save in its `version`.

    The caller holds the row lock (select_for_update), so a plain increment is safe, and
    the audit history records a number rather than an expression.
    """
    check_version(record, expected_version, message)
    for name, value in changes.items():
        setattr(record, name, value)
    record.version += 1
    record.save()
