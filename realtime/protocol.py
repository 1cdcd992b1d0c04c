"""The websocket protocol's envelope (see docs/realtime-protocol.md).

Client to server::

    {"type": "chat.send", "id": "c-42", "data": {...}}

Server to client::

    {"type": "notification", "data": {...}}                  # an event
    {"type": "reply", "ref": "c-42", "data": {...}}          # an action succeeded
    {"type": "error", "ref": "c-42", "data": {"code", "message", "fields"}}
"""

from typing import Any

import orjson

PROTOCOL_VERSION = 1
MAX_REF_LENGTH = 64


class ErrorCode:
    BAD_JSON = "bad_json"
    BAD_ENVELOPE = "bad_envelope"
    UNKNOWN_TYPE = "unknown_type"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    INVALID = "invalid"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INTERNAL = "internal"


class ProtocolError(Exception):
    """Raised by an action handler to answer the client with an ``error`` event."""

    def __init__(self, code: str, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}


class CloseCode:
    """Application close codes (4000-4999 are ours)."""

    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    REVOKED = 4409
    TRY_AGAIN = 1013  # standard "try again later": reconnect with backoff (and resume)


def event(type_: str, data: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "data": data if data is not None else {}, **extra}


def encode(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


def error_event(
    code: str, message: str, *, ref: Any = None, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    payload = event("error", {"code": code, "message": message, "fields": fields or {}})
    if ref is not None:
        payload["ref"] = ref
    return payload
