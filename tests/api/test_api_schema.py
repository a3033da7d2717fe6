"""The OpenAPI schema and its docs pages (docs/api.md "Schema and docs")."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db

RESOURCES = [
    "accounts",
    "positions",
    "activities",
    "opportunities",
    "target-sets",
    "territory-plans",
    "relationship-plans",
    "development-plans",
    "variances",
    "check-ins",
    "commitments",
    "ratings",
    "risk-scores",
    "departure-cases",
    "campaigns",
]


def test_the_schema_needs_a_login(client):
    assert client.get("/api/schema/").status_code == 401


def test_the_schema_is_openapi_3_with_every_resource(client, rm):
    client.force_login(rm)
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for resource in RESOURCES:
        assert f"/api/v1/{resource}/" in schema["paths"], resource


def test_every_operation_documents_the_error_body(client, rm):
    client.force_login(rm)
    schema = client.get("/api/schema/?format=json").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for code in ("400", "401", "403", "404"):
                assert code in operation["responses"], (method, path, code)


def test_the_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yml")


@pytest.mark.parametrize("url", ["/api/docs/", "/api/docs/redoc/"])
def test_the_docs_pages_load_their_scripts_from_our_own_static_files(client, rm, url):
    client.force_login(rm)
    html = client.get(url).content.decode()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert scripts
    for src in scripts:
        assert src.startswith("/static/drf_spectacular_sidecar/"), src
        assert finders.find(src.removeprefix("/static/")), src
    # Nothing else is loaded from another host either (styles, fonts, icons). A bare "cdn"
    # substring test would also hit the random CSRF token in the page.
    assert re.findall(r'(?:src|href)="(?:https?:)?//[^"]*"', html) == []


def test_an_unknown_api_url_answers_json_404(client, rm):
    client.force_login(rm)
    response = client.get("/api/v1/accounts/1.5/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_url_still_answers_the_html_404(client, rm):
    client.force_login(rm)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
