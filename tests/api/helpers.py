"""Helpers for the REST API tests: the one error format, token clients, result names."""

from typing import Any

from rest_framework.test import APIClient


def assert_error(
    response: Any, status: int, code: str | None = None, fields: set[str] | None = None
) -> dict[str, Any]:
    """Check that ``response`` is an API error in the one error format; return its body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    media_type = response["Content-Type"].split(";")[0]
    assert media_type == "application/json" or media_type.endswith("+json"), media_type
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert isinstance(error["code"], str), error
    assert error["code"], error
    assert isinstance(error["message"], str), error
    assert error["message"], error
    assert isinstance(error["fields"], dict), error
    for name, messages in error["fields"].items():
        assert isinstance(name, str)
        assert isinstance(messages, list), error
        assert messages, error
        assert all(isinstance(message, str) and message for message in messages), error
    if code is not None:
        assert error["code"] == code, error
    if fields is not None:
        assert set(error["fields"]) == fields, error
    return error


def token_client(key: str, *, enforce_csrf_checks: bool = False) -> APIClient:
    """An API client that sends ``Authorization: Token <key>`` and nothing else."""
    client = APIClient(enforce_csrf_checks=enforce_csrf_checks)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def usernames(response: Any) -> list[str]:
    """The usernames on one page of a member list, in order."""
    assert response.status_code == 200, response.content[:500]
    return [item["username"] for item in response.json()["results"]]
