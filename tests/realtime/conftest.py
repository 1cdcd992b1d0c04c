"""Socket-test fixtures.

Every test here gets a channel layer of its own: a fresh in-memory layer in the embedded
default, or the project's Redis layer under a prefix of its own in services mode, so
that the sockets of one test (or of another process sharing the Redis) never see
another's events. Tests that must run on both layers request ``layer``.
"""

from collections.abc import AsyncIterator, Iterator

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tests.realtime.sockets import MEMORY_LAYERS, REDIS_BACKEND, Sockets, redis_layers


@pytest.fixture(autouse=True)
def _isolated_channel_layer(settings) -> Iterator[None]:
    configured = settings.CHANNEL_LAYERS["default"]
    if configured["BACKEND"] == REDIS_BACKEND:
        # The project's own Redis configuration, under this test's prefix.
        settings.CHANNEL_LAYERS = redis_layers(config=configured["CONFIG"])
    else:
        settings.CHANNEL_LAYERS = MEMORY_LAYERS
    yield
    if settings.CHANNEL_LAYERS["default"]["BACKEND"] == REDIS_BACKEND:
        channel_layer = get_channel_layer()

        async def flush() -> None:
            await channel_layer.flush()  # only this test's prefix
            await channel_layer.close_pools()

        async_to_sync(flush)()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def layer(request, settings, _isolated_channel_layer) -> str:
    """Run the test on the in-memory layer and again on channels_redis."""
    settings.CHANNEL_LAYERS = MEMORY_LAYERS if request.param == "memory" else redis_layers()
    return str(request.param)


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    opened = Sockets()
    yield opened
    await opened.close_all()
