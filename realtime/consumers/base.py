"""The base consumer: a JSON envelope, per-action dispatch, and errors that never crash.

Subclasses set ``require_member``, implement ``authorize`` / ``joined`` / ``left`` as
needed, and add actions as methods named after the action type, with dots turned into
underscores and an ``action_`` prefix: ``"chat.send"`` -> ``action_chat_send(data, ref)``.
An action returns a dict (sent back as a ``reply``) or ``None``.
"""

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from realtime.protocol import (
    MAX_REF_LENGTH,
    PROTOCOL_VERSION,
    CloseCode,
    ErrorCode,
    ProtocolError,
    encode,
    error_event,
    event,
)

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Awaitable[dict[str, Any] | None]]


class TokenBucket:
    """``rate`` actions per second on average, bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _validation_fields(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
    return {"data": [str(m) for m in exc.messages]}


class HubConsumer(AsyncWebsocketConsumer):
    require_member: bool = True

    # --- lifecycle -------------------------------------------------------------
    async def connect(self) -> None:
        user = self.scope.get("user")
        if self.require_member and not (user is not None and user.is_authenticated):
            await self.close(code=CloseCode.UNAUTHENTICATED)
            return
        self.bucket = TokenBucket(settings.REALTIME_RATE_PER_SECOND, settings.REALTIME_RATE_BURST)
        if not await self.authorize():
            await self.close(code=CloseCode.FORBIDDEN)
            return
        await self.joined()
        await self.accept()
        await self.send_event("hello", await self.hello_data())

    async def authorize(self) -> bool:
        """May this socket open? Runs before ``accept``."""
        return True

    async def joined(self) -> None:
        """Join groups; runs after ``authorize`` and before ``accept``."""

    async def hello_data(self) -> dict[str, Any]:
        user = self.scope.get("user")
        return {
            "protocol": PROTOCOL_VERSION,
            "user": (
                {"id": user.pk, "username": user.get_username()}
                if user is not None and user.is_authenticated
                else None
            ),
            "max_frame_bytes": settings.REALTIME_MAX_FRAME_BYTES,
        }

    # --- sending ---------------------------------------------------------------
    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=encode(message))

    async def send_event(
        self, type_: str, data: dict[str, Any] | None = None, **extra: Any
    ) -> None:
        await self.send_json(event(type_, data, **extra))

    async def send_error(
        self,
        code: str,
        message: str,
        *,
        ref: Any = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        await self.send_json(error_event(code, message, ref=ref, fields=fields))

    # --- receiving -------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raw: str | bytes | None = text_data if text_data is not None else bytes_data
        if raw is None:
            return
        size = len(raw.encode()) if isinstance(raw, str) else len(raw)
        if size > settings.REALTIME_MAX_FRAME_BYTES:
            await self.send_error(
                ErrorCode.TOO_LARGE,
                _("Message too large: %(size)d bytes, the limit is %(limit)d.")
                % {"size": size, "limit": settings.REALTIME_MAX_FRAME_BYTES},
            )
            return
        if not self.bucket.take():
            await self.send_error(ErrorCode.RATE_LIMITED, _("Too many messages; slow down."))
            return
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await self.send_error(ErrorCode.BAD_JSON, _("The message is not valid JSON."))
            return
        ref = message.get("id") if isinstance(message, dict) else None
        if ref is not None and not (
            isinstance(ref, str | int)
            and not isinstance(ref, bool)
            and len(str(ref)) <= MAX_REF_LENGTH
        ):
            ref = None
        if (
            not isinstance(message, dict)
            or not isinstance(message.get("type"), str)
            or not isinstance(message.get("data", {}), dict)
        ):
            await self.send_error(
                ErrorCode.BAD_ENVELOPE,
                _('Messages are JSON objects: {"type": str, "id": str, "data": object}.'),
                ref=ref,
            )
            return
        type_ = message["type"]
        handler = self._handler_for(type_)
        if handler is None:
            await self.send_error(
                ErrorCode.UNKNOWN_TYPE, _("Unknown message type: %s") % type_[:64], ref=ref
            )
            return
        await self._dispatch(handler, message.get("data", {}), ref)

    def _handler_for(self, type_: str) -> Handler | None:
        if not type_ or len(type_) > 64 or not all(c.isalnum() or c in "._" for c in type_):
            return None
        handler = getattr(self, "action_" + type_.replace(".", "_"), None)
        return handler if callable(handler) else None

    async def _dispatch(self, handler: Handler, data: dict[str, Any], ref: Any) -> None:
        try:
            result = await handler(data, ref)
        except ProtocolError as exc:
            await self.send_error(exc.code, exc.message, ref=ref, fields=exc.fields)
        except ValidationError as exc:
            await self.send_error(
                ErrorCode.INVALID,
                _("The input is not valid."),
                ref=ref,
                fields=_validation_fields(exc),
            )
        except PermissionDenied:
            await self.send_error(ErrorCode.FORBIDDEN, _("You may not do that."), ref=ref)
        except ObjectDoesNotExist:
            await self.send_error(ErrorCode.NOT_FOUND, _("Not found."), ref=ref)
        except Exception:
            logger.exception("websocket action failed")
            await self.send_error(ErrorCode.INTERNAL, _("Something went wrong."), ref=ref)
        else:
            if result is not None:
                await self.send_event("reply", result, ref=ref)

    # --- built-in actions ---------------------------------------------------------
    async def action_ping(self, data: dict[str, Any], ref: Any) -> dict[str, Any] | None:
        await self.send_event("pong", {"time": time.time()}, ref=ref)
        return None
