"""The API against its own OpenAPI schema, with generated requests (schemathesis).

Every operation of /api/schema/ is called with requests generated from the schema — valid
and invalid bodies, query strings and ids — as an RM and as a team leader holding a token,
on a small bank with one record of every resource. A 5xx, a response body or header that
breaks the schema, or an undocumented content type fails the test. The number of examples
per operation is bounded (SCHEMATHESIS_MAX_EXAMPLES, default 25) so that CI stays quick.
"""

import os
import re

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.api_bank import small_bank

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))
# The coverage phase adds ~90 deterministic boundary cases per operation (~10 minutes for
# the whole API): on request (SCHEMATHESIS_COVERAGE=1), not in every CI run.
COVERAGE = os.environ.get("SCHEMATHESIS_COVERAGE") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_dict(
    SchemaGenerator().get_schema(request=None, public=True),
    config=SchemathesisConfig.from_dict(
        {"phases": {"coverage": {"enabled": COVERAGE}, "stateful": {"enabled": False}}}
    ),
)
schema.app = get_wsgi_application()

# /api/v1/<resource>/{id}/... → the resource's basename in small_bank's ids.
RESOURCE = re.compile(r"^/api/v1/([a-z-]+)/\{id\}")


@pytest.fixture
def bank(db):
    cache.clear()  # throttling counts: every run starts with none spent
    # Calling the WSGI app sends request_started / request_finished, whose handler closes
    # the database connection — inside the test's transaction. Django's test client
    # disconnects it for the same reason.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield small_bank()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _real_id(case, ids: dict[str, list[int]]) -> None:
    """Half the generated ids become ids of records that exist (some the caller sees, some
    they do not), so that details and actions are exercised beyond 404."""
    match = RESOURCE.match(case.path)
    value = (case.path_parameters or {}).get("id")
    if not match or not isinstance(value, int) or value % 2:
        return
    known = ids.get(match.group(1))
    if known:
        case.path_parameters["id"] = known[(value // 2) % len(known)]


def _run(case, bank, role):
    token, _ = Token.objects.get_or_create(user=bank["users"][role])
    _real_id(case, bank["ids"])
    case.call_and_validate(headers={"Authorization": f"Token {token.key}"}, checks=CHECKS)


SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@SETTINGS
def test_api_as_rm_never_errors_and_matches_its_schema(case, bank):
    _run(case, bank, "rm")


@schema.parametrize()
@SETTINGS
def test_api_as_leader_never_errors_and_matches_its_schema(case, bank):
    _run(case, bank, "leader")
