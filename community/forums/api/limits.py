"""Trust limits in the forum API: a rate limit (posts per minute, topics or reactions
per day) is 429 with Retry-After; the other limits (links, mentions) stay 400."""

from collections.abc import Iterator
from contextlib import contextmanager

from rest_framework import exceptions

from community.forums.services.trust import TrustLimitExceeded


@contextmanager
def trust_limits() -> Iterator[None]:
    try:
        yield
    except TrustLimitExceeded as exc:
        if exc.retry_after:
            raise exceptions.Throttled(
                wait=exc.retry_after, detail=" ".join(exc.messages)
            ) from None
        raise
