"""config/cache.py: the Redis cache keeps one connection pool per process, so sockets
(each with cache objects of its own, as Django gives every asyncio task) do not each
hold a connection to Redis."""

import asyncio
import uuid
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from django.core.cache import CacheHandler

from tests.conftest import REDIS_TEST_URL

pytestmark = pytest.mark.redis

TASKS = 25


def _handler(backend: str, name: str) -> CacheHandler:
    """Caches like the hub's, whose connections to Redis carry ``name``."""
    config = {"BACKEND": backend, "LOCATION": REDIS_TEST_URL, "KEY_PREFIX": name}
    return CacheHandler({"default": {**config, "OPTIONS": {"client_name": name}}})


def _clients(name: str) -> int:
    """Redis connections whose client name is ``name``."""
    admin = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        return sum(1 for c in admin.client_list() if c.get("name") == name)
    finally:
        admin.close()


async def _sockets_read_the_cache(backend: str) -> tuple[int, int]:
    """``TASKS`` tasks (as many websocket consumers) each read the cache the way a
    consumer reads its session, and stay open; returns (distinct pools, connections)."""
    name = f"hub-test-{uuid.uuid4().hex[:8]}"
    _handler(backend, name)["default"].set("shared", "value")  # the key every task reads
    # As in daphne, no cache object exists in the tasks' parent context: each task
    # (socket) gets its own from the handler, as Django's asgiref Local gives them.
    handler = _handler(backend, name)
    opened = asyncio.Event()
    pools: list[Any] = []
    ready = 0

    def read() -> None:
        cache = handler["default"]
        assert cache.get("shared") == "value"
        client: Any = cache._cache  # type: ignore[attr-defined]
        pools.append(client._get_connection_pool(False))

    async def socket() -> None:
        nonlocal ready
        await sync_to_async(read)()
        ready += 1
        if ready == TASKS:
            opened.set()
        await opened.wait()

    tasks = [asyncio.ensure_future(socket()) for _ in range(TASKS)]
    await asyncio.wait_for(opened.wait(), 20)
    connections = _clients(name)
    await asyncio.gather(*tasks)
    for pool in {id(p): p for p in pools}.values():
        pool.disconnect()
    return len({id(p) for p in pools}), connections


async def test_the_hub_cache_shares_one_pool_between_sockets() -> None:
    pools, connections = await _sockets_read_the_cache("config.cache.RedisCache")
    assert pools == 1
    assert connections <= 2  # a thread or two at once, not one per socket


async def test_djangos_own_backend_opens_a_pool_per_socket() -> None:
    """What config/cache.py is for (and proof the test above can fail)."""
    pools, _connections = await _sockets_read_the_cache(
        "django.core.cache.backends.redis.RedisCache"
    )
    assert pools == TASKS
