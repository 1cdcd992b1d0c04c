"""Settings for the peer server: the project's (same database, same Redis channel layer
configuration) with the peer's ASGI application and no HTTP pages."""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.room.peer_urls"
ASGI_APPLICATION = "bench.room.peer_asgi.application"
