"""``/healthz``: is the database answering, and is the channel layer delivering?"""

import asyncio
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

LAYER_TIMEOUT_S = 2.0


def _check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__, "detail": str(exc)[:200]}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }


async def _layer_roundtrip() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("unexpected message from the channel layer")


def _check_channel_layer() -> dict[str, Any]:
    started = time.perf_counter()
    layer = get_channel_layer()
    backend = f"{type(layer).__module__}.{type(layer).__name__}" if layer else None

    async def probe() -> None:
        await asyncio.wait_for(_layer_roundtrip(), timeout=LAYER_TIMEOUT_S)

    try:
        async_to_sync(probe)()
    except Exception as exc:
        return {
            "ok": False,
            "backend": backend,
            "error": exc.__class__.__name__,
            "detail": str(exc)[:200] or "timed out",
        }
    return {"ok": True, "backend": backend, "ms": round((time.perf_counter() - started) * 1000, 2)}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the channel layer both answer, 503 naming what failed."""
    checks = {"database": _check_database(), "channel_layer": _check_channel_layer()}
    failing = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "ok" if not failing else "error", "failing": failing, **checks}
    return JsonResponse(body, status=200 if not failing else 503)
