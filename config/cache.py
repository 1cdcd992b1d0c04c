"""Django's Redis cache with one connection pool per process (``CACHES`` BACKEND
``config.cache.RedisCache``).

Django keeps its cache objects in an asgiref ``Local`` that is not thread-critical,
so every asyncio task, and every websocket consumer with it, gets cache objects of its
own. With Django's ``RedisCache`` each of those builds its own connection pool and
opens its own connection to Redis, for as long as the socket lives: a workshop room of
1,000 participants held 1,000 Redis connections (the session read at connect goes
through the cache). Here the cache objects stay per context, as Django wants, but their
pools are shared by the process, keyed by server and pool options. redis-py's pools are
thread-safe and notice a fork, so the sharing is safe for the sync code Django's cache
runs (its async methods run it in threads).
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

_pools: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()


class SharedPoolClient(RedisCacheClient):
    def _get_connection_pool(self, write: bool) -> Any:
        me: Any = self  # Django's private attributes, which the type stubs leave out
        server = me._servers[me._get_connection_pool_index(write)]
        options = me._pool_options
        key = (server, repr(me._pool_class), repr(sorted(options.items())))
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = me._pool_class.from_url(server, **options)
        return pool


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedPoolClient
