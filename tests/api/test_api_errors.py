"""Errors the services raise are answered by the API as the pages answer them, as JSON."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.exceptions import ValidationError as DRFValidationError

from accounts.models import Account
from salesmgmt.api import exception_handler
from salesmgmt.workflow import FourEyesViolation, Incomplete, InvalidTransition, StaleEdit


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidTransition("Not from draft."), 409, "InvalidTransition"),
        (StaleEdit(), 409, "StaleEdit"),
        (FourEyesViolation("Not your own."), 403, "FourEyesViolation"),
    ],
)
def test_workflow_errors_keep_their_status_and_name_their_code(error, status, code):
    response = exception_handler(error, {})
    assert (response.status_code, response.data["code"]) == (status, code)
    assert response.data["detail"] == str(error)


def test_incomplete_is_400_and_lists_what_is_missing():
    response = exception_handler(Incomplete({"goals": "Add at least one goal."}), {})
    assert response.status_code == 400
    assert response.data["missing"] == {"goals": "Add at least one goal."}


def test_a_django_validation_error_about_fields_is_400_field_to_messages():
    error = ValidationError({"amount": ["Too big."], "__all__": ["Closed before opened."]})
    response = exception_handler(error, {})
    assert response.status_code == 400
    assert response.data == {"amount": ["Too big."], "non_field_errors": ["Closed before opened."]}


def test_a_plain_django_validation_error_is_400_non_field():
    response = exception_handler(ValidationError("No."), {})
    assert (response.status_code, response.data) == (400, {"non_field_errors": ["No."]})


def test_a_lookup_that_found_nothing_is_404():
    response = exception_handler(Account.DoesNotExist(), {})
    assert (response.status_code, response.data) == (404, {"detail": "Not found."})


def test_drf_errors_keep_drfs_own_body():
    response = exception_handler(DRFValidationError({"date": ["Bad."]}), {})
    assert (response.status_code, response.data) == (400, {"date": ["Bad."]})
