"""Shared fixtures: members, clients, service gates and a real daphne server.

Tests marked ``redis`` need a Redis at ``REDIS_URL`` (default 127.0.0.1:6379), tests
marked ``postgres`` need the suite to run on PostgreSQL (``DATABASE_URL``), tests marked
``browser`` need Chromium at /usr/bin/chromium. They are skipped, with the reason, when
that is missing, unless ``REQUIRE_SERVICES=1`` (redis, postgres) or ``REQUIRE_BROWSER=1``
(browser) makes them mandatory: then a missing service fails them.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from community.models import Profile
from tests.factories import PASSWORD, make_member

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REDIS_TEST_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def redis_reachable() -> bool:
    parsed = urllib.parse.urlparse(REDIS_TEST_URL)
    return _port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379)


def _gate(item: pytest.Item, ok: bool, reason: str, required: bool) -> None:
    if ok:
        return
    if required:
        pytest.fail(f"{reason} (mandatory here)", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("redis"):
        _gate(item, redis_reachable(), f"Redis not reachable at {REDIS_TEST_URL}",
              _flag("REQUIRE_SERVICES"))  # fmt: skip
    if item.get_closest_marker("postgres"):
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        _gate(item, engine == "django.db.backends.postgresql",
              "needs PostgreSQL: run with DATABASE_URL=postgres://...",
              _flag("REQUIRE_POSTGRES"))  # fmt: skip
    if item.get_closest_marker("browser"):
        _gate(item, Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}",
              _flag("REQUIRE_BROWSER"))  # fmt: skip


def _clear_hub_cache() -> None:
    """Forget our cache keys only: on Redis, ``cache.clear()`` would FLUSHDB and wipe the
    channel layer of every process sharing that database."""
    from django.core.cache.backends.redis import RedisCache

    default = caches["default"]
    if isinstance(default, RedisCache):
        client = default._cache.get_client(write=True)
        keys = list(client.scan_iter(match=default.make_key("*"), count=1000))
        if keys:
            client.delete(*keys)
    else:
        default.clear()


@pytest.fixture(scope="session", autouse=True)
def _close_worker_connections(django_db_setup: None) -> Iterator[None]:
    """Before the test database is dropped, close the connections that worker threads
    opened: asgiref's one thread for thread-sensitive code (channels' database work,
    consumers' e-mails) and the rooms' database threads. An open one made PostgreSQL
    refuse to drop the database ("being accessed by other users")."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    from realtime.rooms import close_room_database

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
    close_room_database()


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Throttles, lockouts and rate limits start fresh in every test."""
    _clear_hub_cache()
    yield
    _clear_hub_cache()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def member(db: None) -> Profile:
    return make_member("amina", display_name="Amina Okafor", roles=("learner",))


@pytest.fixture
def other_member(db: None) -> Profile:
    return make_member("kwame", display_name="Kwame Mensah", roles=("professional", "mentor"))


@pytest.fixture
def member_client(client, member: Profile):  # type: ignore[no-untyped-def]
    client.force_login(member.user)
    return client


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def member_api(member: Profile) -> APIClient:
    api = APIClient()
    api.force_authenticate(member.user)
    return api


# --- concurrent callers (PostgreSQL) --------------------------------------------------
Race = Callable[..., list[object]]


def run_race(calls: Iterable[Callable[[], object]], *, hold: float | None = None) -> list[object]:
    """Start the calls together, each in its own thread and database connection, and
    return each call's result or the exception it raised, in order.

    With ``hold`` (seconds) each call runs in its own transaction, which stays open
    until every call has returned or ``hold`` has passed, so that the calls truly
    overlap: without locking they all get as far and all commit; with it, the later
    ones wait on a lock and the first stops waiting after ``hold``. Not a timing
    assertion. Each thread closes its connections when it is done.
    """
    calls = list(calls)
    start = threading.Barrier(len(calls))
    done = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        try:
            start.wait(timeout=10)
            if hold is None:
                results[i] = call()
                return
            with transaction.atomic():
                results[i] = call()
                with contextlib.suppress(threading.BrokenBarrierError):
                    done.wait(timeout=hold)
        except Exception as exc:
            results[i] = exc
            done.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def race(transactional_db: None) -> Race:
    """``race(calls, hold=None)``: see :func:`run_race`. The calls commit for real, so
    the test runs with ``transactional_db``."""
    return run_race


# --- a real server process -------------------------------------------------------------
@dataclass
class LiveServer:
    url: str
    ws_url: str
    host: str
    port: int
    mail_dir: Path
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url() -> str:
    """A URL for the test database that a second process can open."""
    cfg = connection.settings_dict
    if cfg["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{cfg['NAME']}"
    user = urllib.parse.quote(cfg.get("USER") or "")
    pw = urllib.parse.quote(cfg.get("PASSWORD") or "")
    auth = f"{user}:{pw}@" if pw else (f"{user}@" if user else "")
    host = cfg.get("HOST") or "127.0.0.1"
    port = cfg.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{cfg['NAME']}"


@contextlib.contextmanager
def daphne_server(
    *,
    db_url: str,
    mail_dir: Path,
    log_dir: Path,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[LiveServer]:
    """Run daphne serving the project (test settings) on 127.0.0.1 and ``port`` (a free
    one by default), on the database at ``db_url``, writing e-mails to ``mail_dir`` and
    its log to ``log_dir``, with ``env`` on top of ours; stop it when the block ends."""
    port = port or _free_port()
    child_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": db_url,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    # The browser tests allow sync ORM calls in this process; the server must not.
    child_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(log_dir / "daphne.log", "wb")  # noqa: SIM115
    daphne = shutil.which("daphne", path=str(Path(sys.executable).parent)) or "daphne"
    proc = subprocess.Popen(
        [daphne, "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not _port_open("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            raise RuntimeError("daphne did not start: " + Path(log.name).read_text()[-3000:])
        time.sleep(0.1)
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{port}",
            ws_url=f"ws://127.0.0.1:{port}",
            host="127.0.0.1",
            port=port,
            mail_dir=mail_dir,
            process=proc,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def live_daphne(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, tmp_path_factory
) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """daphne serving the project on a free port, sharing the test database.

    Tests that use it must use ``transactional_db`` so that their data is committed.
    """
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        db_url = _database_url()
    with daphne_server(
        db_url=db_url,
        mail_dir=tmp_path_factory.mktemp("mail"),
        log_dir=tmp_path_factory.mktemp("daphne"),
    ) as server:
        yield server
