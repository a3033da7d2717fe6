"""How the web answers a refused action, on every page: never a 500."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.models import Account
from salesmgmt.workflow import (
    FourEyesViolation,
    Incomplete,
    InvalidTransition,
    StaleEdit,
    WorkflowErrorMiddleware,
)


def answer(exception, accept="text/html"):
    request = RequestFactory().post("/anything/", HTTP_ACCEPT=accept)
    middleware = WorkflowErrorMiddleware(lambda r: HttpResponse())
    return middleware.process_exception(request, exception)


@pytest.mark.parametrize(
    ("exception", "status"),
    [
        (InvalidTransition("Only proposed targets can be approved."), 409),
        (StaleEdit(), 409),
        (FourEyesViolation("You proposed these targets."), 403),
        (Incomplete({"goals": "Write your goals."}), 400),
        (ValidationError({"comment": "Say why."}), 400),
        (Account.DoesNotExist(), 404),
    ],
)
def test_refusals_answer_with_their_status_and_the_reason(exception, status):
    response = answer(exception, accept="application/json")
    assert response.status_code == status
    assert json.loads(response.content)["detail"]


def test_a_page_request_gets_a_page_with_the_reason():
    response = answer(InvalidTransition("Only proposed targets can be approved."))
    assert response.status_code == 409
    assert b"Only proposed targets can be approved." in response.content


def test_incomplete_lists_the_missing_sections_in_json():
    response = answer(Incomplete({"goals": "Write your goals."}), accept="application/json")
    assert json.loads(response.content)["missing"] == {"goals": "Write your goals."}


def test_other_exceptions_are_left_to_django():
    assert answer(RuntimeError("boom")) is None
