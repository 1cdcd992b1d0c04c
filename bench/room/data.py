"""The benchmark's database: members seeded once in bulk, a fresh room per scenario,
and a login session per member made directly with the session store."""

from __future__ import annotations

import datetime as dt
import os
from importlib import import_module
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PREFIX = "benchroom-"
ROOM_TITLE = "Bench room"
MODEL_BACKEND = "community.accounts.MemberBackend"


def ensure_database(url: str) -> None:
    """Create the benchmark database if it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def seed_members(n: int) -> tuple[list[Any], list[Any]]:
    """``n`` members and two facilitators, created in bulk on the first run, reused after."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from community.models import Profile, User

    names = [f"{PREFIX}m{i:05d}" for i in range(n)]
    fac_names = [f"{PREFIX}f{i}" for i in (1, 2)]
    wanted = names + fac_names
    have = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    missing = [name for name in wanted if name not in have]
    if missing:
        password = make_password("bench-room-not-a-login")  # one hash for all: fast
        with transaction.atomic():
            users = User.objects.bulk_create(
                [
                    User(username=name, email=f"{name}@bench.invalid", password=password)
                    for name in missing
                ],
                batch_size=1000,
            )
            Profile.objects.bulk_create(
                [
                    Profile(
                        user=u,
                        display_name=u.username.replace(PREFIX, "Bench ").title(),
                        is_learner=True,
                        is_facilitator=u.username in fac_names,
                    )
                    for u in users
                ],
                batch_size=1000,
            )
            EmailAddress.objects.bulk_create(
                [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
                batch_size=1000,
            )
        print(f"seeded {len(missing):,} benchmark members")
    by_name = {u.username: u for u in User.objects.filter(username__in=wanted)}
    return [by_name[name] for name in names], [by_name[name] for name in fac_names]


def clear_rooms() -> None:
    from workshops.models import Workshop

    Workshop.objects.filter(title__startswith=ROOM_TITLE).delete()


def make_room(*, label: str, facilitators: list[Any], members: list[Any]) -> Any:
    """A live workshop with ``members`` registered and ``facilitators`` running it."""
    from django.db import transaction
    from django.utils import timezone

    from workshops.models import Registration, Workshop

    now = timezone.now()
    with transaction.atomic():
        room = Workshop.objects.create(
            title=f"{ROOM_TITLE}: {label}",
            description="Benchmark room.",
            created_by=facilitators[0],
            starts_at=now - dt.timedelta(minutes=5),
            ends_at=now + dt.timedelta(hours=3),
            capacity=max(len(members), 1),
            registration_required=True,
            status="live",
            live_started_at=now,
        )
        room.facilitators.add(*facilitators)
        Registration.objects.bulk_create(
            [Registration(workshop=room, user=u, status="registered") for u in members],
            batch_size=1000,
        )
    return room


def make_sessions(users: list[Any]) -> dict[int, str]:
    """A signed-in session per user, written directly through the session store's
    encoding in one bulk insert; returns user id -> session key (the cookie value)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    store = store_class()
    chars = "abcdefghijklmnopqrstuvwxyz0123456789"
    expires = timezone.now() + dt.timedelta(hours=6)
    keys: dict[int, str] = {}
    rows = []
    for u in users:
        key = get_random_string(32, chars)
        data = store.encode(
            {
                SESSION_KEY: str(u.pk),
                BACKEND_SESSION_KEY: MODEL_BACKEND,
                HASH_SESSION_KEY: u.get_session_auth_hash(),
            }
        )
        rows.append(Session(session_key=key, session_data=data, expire_date=expires))
        keys[u.pk] = key
    Session.objects.bulk_create(rows, batch_size=1000)
    return keys


def drop_sessions(keys: dict[int, str]) -> None:
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=list(keys.values())).delete()


def votes_in_db(poll_id: int) -> dict[str, Any]:
    """What the database counted: votes, distinct voters, per-option counts."""
    from workshops.models import Vote

    rows = list(Vote.objects.filter(poll_id=poll_id).values_list("voter_id", "choices"))
    counts: dict[str, int] = {}
    for _voter, choices in rows:
        for choice in choices:
            counts[str(choice)] = counts.get(str(choice), 0) + 1
    return {
        "votes": len(rows),
        "voters": len({voter for voter, _c in rows}),
        "counts": counts,
    }


def chat_in_db(room_id: int) -> int:
    from workshops.models import ChatMessage

    return ChatMessage.objects.filter(workshop_id=room_id).count()


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        return str(cur.fetchone()[0])
