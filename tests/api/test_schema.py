"""The OpenAPI schema and the Swagger UI docs page."""

import re
from typing import Any

import pytest
import yaml
from allauth.account.models import EmailAddress
from django.urls import URLPattern, URLResolver
from openapi_spec_validator import validate
from rest_framework.test import APIClient

import config.api_urls
from tests.api.helpers import assert_error
from tests.factories import UserFactory

SCHEMA_URL = "/api/v1/schema/"
DOCS_URL = "/api/v1/docs/"
NOT_OPERATIONS = {"api-schema", "api-docs", "api-not-found"}
UNSAFE = {"post", "put", "patch", "delete"}


def _routes(patterns: list[Any], prefix: str = "/api/v1/") -> list[tuple[str, str]]:
    """(name, OpenAPI path) for every URL pattern under /api/v1/, includes followed."""
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + str(entry.pattern))
            continue
        assert isinstance(entry, URLPattern)
        if entry.name in NOT_OPERATIONS:
            continue
        route = str(entry.pattern)
        assert not route.startswith("^"), f"regex URL {route!r}: give it a path() route"
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", prefix + route)
        # drf-spectacular names a "pk" parameter after the model's primary key field.
        found.append((entry.name or "", path.replace("{pk}", "{id}")))
    return found


ROUTES = _routes(config.api_urls.urlpatterns)


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The schema as JSON, fetched once per module (against the test database)."""
    with django_db_blocker.unblock():
        response = APIClient().get(SCHEMA_URL, {"format": "json"})
    assert response.status_code == 200
    return dict(response.json())


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "patch", "delete", "head", "options"}
    ]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "accept"),
    [({"format": "json"}, None), ({}, "application/vnd.oai.openapi+json")],
)
def test_schema_is_served_as_json_and_is_valid_openapi_3(api_client, query, accept) -> None:
    """JSON is served for ?format=json and for the OpenAPI JSON media type; it is valid 3.x."""
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = api_client.get(SCHEMA_URL, query, **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Workforce Hub API"
    validate(spec)


@pytest.mark.django_db
def test_schema_defaults_to_yaml_with_the_same_content(api_client, schema) -> None:
    """Without a format the schema comes as YAML, saying the same as the JSON."""
    response = api_client.get(SCHEMA_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content) == schema


def test_schema_lists_every_api_url_and_nothing_else(schema) -> None:
    """Every endpoint under /api/v1/ (schema and docs aside) has a path in the schema."""
    expected = {path for _name, path in ROUTES}
    assert "/api/v1/members/{username}/" in expected
    assert "/api/v1/me/" in expected
    assert len(expected) == len(ROUTES), "two URL patterns give the same path"
    assert set(schema["paths"]) == expected


def test_operations_have_ids_summaries_and_tags(schema) -> None:
    """Every operation has a unique operationId, a summary and a tag."""
    operations = _operations(schema)
    ids = [operation["operationId"] for _path, _method, operation in operations]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations:
        assert operation.get("summary"), (path, method)
        assert operation.get("tags"), (path, method)


def test_error_schema_is_the_one_error_format(schema) -> None:
    """The documented Error component is {"error": {"code", "message", "fields"}}."""
    error = _resolve(schema, {"$ref": "#/components/schemas/Error"})
    assert error["required"] == ["error"]
    body = _resolve(schema, error["properties"]["error"])
    assert set(body["properties"]) == {"code", "message", "fields"}
    assert set(body["required"]) == {"code", "message", "fields"}
    assert body["properties"]["code"]["type"] == "string"
    assert body["properties"]["message"]["type"] == "string"
    fields = body["properties"]["fields"]
    assert fields["type"] == "object"
    assert fields["additionalProperties"]["type"] == "array"
    assert fields["additionalProperties"]["items"]["type"] == "string"


@pytest.mark.parametrize("path", sorted({path for _name, path in ROUTES}))
def test_every_operation_documents_its_error_responses(schema, path) -> None:
    """Every operation documents 429, 401 when it needs sign-in, 403 (CSRF) when unsafe,
    404 when paginated; every documented error uses the Error schema."""
    assert path in schema["paths"]
    for _path, method, operation in _operations({"paths": {path: schema["paths"][path]}}):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        errors = {code: r for code, r in responses.items() if code.startswith(("4", "5"))}
        assert "429" in errors, where
        for code, response in errors.items():
            media = response["content"]["application/json"]["schema"]
            assert media == {"$ref": "#/components/schemas/Error"}, (where, code)
            assert response["description"], (where, code)
        security = operation.get("security", [])
        if {} not in security:
            assert "401" in errors, f"{where} needs sign-in but does not document 401"
        if method in UNSAFE:
            assert "403" in errors, f"{where} can fail CSRF but does not document 403"
        ok = responses.get("200", {}).get("content", {}).get("application/json", {})
        if "count" in _resolve(schema, ok.get("schema", {})).get("properties", {}):
            assert "404" in errors, f"{where} is paginated but does not document 404"


def _unverified(password: str) -> str:
    user = UserFactory(username="unverified", verified=False)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    return "unverified"


def test_every_error_an_operation_answers_is_documented(schema, member, password) -> None:
    """The errors the API really answers with, per operation, are in the schema."""
    anon = APIClient()
    signed_in = APIClient()
    signed_in.force_authenticate(member.user)
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(member.user)
    token = "/api/v1/auth/token/"
    cases = [
        ("catalogue_skills_list", lambda: anon.get("/api/v1/catalogue/skills/?area=a%20b"), 400),
        ("catalogue_skills_list", lambda: anon.get("/api/v1/catalogue/skills/?page=99"), 404),
        ("members_list", lambda: anon.get("/api/v1/members/?level=9"), 400),
        ("members_list", lambda: anon.get("/api/v1/members/?page=99"), 404),
        ("members_retrieve", lambda: anon.get("/api/v1/members/nobody/"), 404),
        ("me_retrieve", lambda: anon.get("/api/v1/me/"), 401),
        ("me_partial_update", lambda: anon.patch("/api/v1/me/", {}), 401),
        ("me_partial_update", lambda: signed_in.patch("/api/v1/me/", {"roles": "x"}), 400),
        ("me_partial_update", lambda: session.patch("/api/v1/me/", {}), 403),
        ("auth_token_create", lambda: anon.post(token, {}), 400),
        ("auth_token_create", lambda: anon.post(token, {"login": "amina", "password": "x"}), 401),
        (
            "auth_token_create",
            lambda: anon.post(token, {"login": _unverified(password), "password": password}),
            403,
        ),
        ("auth_token_destroy", lambda: anon.delete(token), 401),
        ("auth_token_destroy", lambda: session.delete(token), 403),
    ]
    by_id = {op["operationId"]: op for _path, _method, op in _operations(schema)}
    for operation_id, request, status in cases:
        response = request()
        assert_error(response, status)
        assert str(status) in by_id[operation_id]["responses"], (operation_id, status)


def test_unknown_api_paths_are_404_in_error_format(api_client, member_api, db) -> None:
    """Any unknown path under /api/v1/ is a 404 in the error format, whatever the method."""
    for client in (api_client, member_api):
        for method, path in [
            ("get", "/api/v1/"),
            ("get", "/api/v1/nope/"),
            ("get", "/api/v1/members/amina/extra/"),
            ("post", "/api/v1/catalogue/"),
            ("delete", "/api/v1/nope/deeper/"),
        ]:
            assert_error(getattr(client, method)(path), 404, "not_found", set())
    redirect = api_client.get("/api/v1/me")
    assert redirect.status_code == 301
    assert redirect["Location"] == "/api/v1/me/"


# --- the docs page ---------------------------------------------------------------------------
def _asset_urls(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"', html)


@pytest.mark.django_db
def test_docs_page_loads_swagger_ui_from_our_own_static_files(api_client) -> None:
    """The docs page is Swagger UI served entirely from this site: no other host is named."""
    response = api_client.get(DOCS_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'id="swagger-ui"' in html
    assert not re.search(r"(?:https?:)?//[\w.-]+", html), "names an external host"
    assets = _asset_urls(html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets)
    assert any(url.endswith("swagger-ui.css") for url in assets)
    for url in assets:
        assert url.startswith("/"), url
        asset = api_client.get(url)
        assert asset.status_code == 200, url
        if url.endswith(".js"):
            assert "javascript" in asset["Content-Type"], url


@pytest.mark.django_db
def test_docs_page_scripts_are_allowed_by_our_csp(api_client) -> None:
    """Every script on the docs page is an external file from this site, so the CSP
    (script-src 'self' plus a nonce) lets Swagger UI run; its init script points at us."""
    response = api_client.get(DOCS_URL)
    html = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    for attrs, body in scripts:
        assert 'src="/' in attrs, attrs
        assert not body.strip()
    assert "'self'" in response["Content-Security-Policy"]
    init = [u for u in _asset_urls(html) if "script=" in u]
    assert len(init) == 1
    script = api_client.get(init[0].replace("&amp;", "&"))
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
    assert SCHEMA_URL in script.content.decode()
