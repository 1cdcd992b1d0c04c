"""Settings for the hub servers the benchmark starts: ``config.settings.local`` (the
project as it runs, with DATABASE_URL and REDIS_URL from the environment, DEBUG off)
with the flood limits raised, and nothing else changed.

The scenarios need it: one sender writes 200 chat frames back to back (the per-socket
limiter allows bursts of REALTIME_RATE_BURST = 30), and in the live session each of the
20 senders chats once a second (the per-member chat limit ROOM_CHAT_RATE allows 5
messages per 10 s). The benchmark measures fan-out, not the limiters."""

from config.settings.local import *  # noqa: F403

REALTIME_RATE_PER_SECOND = 1000.0
REALTIME_RATE_BURST = 1000
ROOM_CHAT_RATE = (1000, 10)
