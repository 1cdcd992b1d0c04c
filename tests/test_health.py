"""``/healthz``: what a load balancer or an operator sees when a dependency is up or down."""

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.db import connection

from tests.conftest import REDIS_TEST_URL, ROOT

pytestmark = pytest.mark.django_db

REDIS_LAYER = "channels_redis.core.RedisChannelLayer"


def redis_layer_at(url: str) -> dict[str, object]:
    return {
        "default": {
            "BACKEND": REDIS_LAYER,
            "CONFIG": {
                "hosts": [{"address": url, "socket_timeout": None, "socket_connect_timeout": 1}],
                "prefix": f"test-health-{uuid.uuid4().hex[:8]}",
            },
        }
    }


def test_healthz_reports_ok_with_database_and_channel_layer(client, settings):
    """With everything up, /healthz answers 200 with JSON naming each check ok."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["database"]["ok"] is True
    assert body["database"]["vendor"] == connection.vendor
    assert body["channel_layer"]["ok"] is True
    assert body["channel_layer"]["backend"] == settings.CHANNEL_LAYERS["default"]["BACKEND"]


def test_healthz_is_never_cached(client):
    """Proxies must not serve a stale health answer."""
    response = client.get("/healthz")
    assert "no-cache" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


def test_healthz_only_answers_get(client):
    """Other methods are refused with 405."""
    assert client.post("/healthz").status_code == 405


def test_healthz_reports_unreachable_redis_layer(client, settings):
    """With Redis down, /healthz answers 503 and names the channel layer as failing."""
    settings.CHANNEL_LAYERS = redis_layer_at("redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failing"] == ["channel_layer"]
    assert body["channel_layer"]["ok"] is False
    assert body["channel_layer"]["backend"] == REDIS_LAYER
    assert body["channel_layer"]["error"]
    assert body["database"]["ok"] is True


@pytest.mark.redis
def test_healthz_reports_ok_on_redis_layer(client, settings):
    """With the Redis channel layer up, the round trip through Redis succeeds."""
    settings.CHANNEL_LAYERS = redis_layer_at(REDIS_TEST_URL)
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["channel_layer"]["backend"] == REDIS_LAYER


HEALTHZ_IN_A_FRESH_PROCESS = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz", HTTP_HOST="127.0.0.1")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_healthz_reports_unreachable_database():
    """With the database server down, /healthz answers 503 naming the database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/hub",  # nothing listens on port 1
        "REDIS_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", HEALTHZ_IN_A_FRESH_PROCESS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["failing"] == ["database"]
    assert answer["body"]["database"]["ok"] is False
    assert answer["body"]["database"]["error"] == "OperationalError"
    assert answer["body"]["channel_layer"]["ok"] is True
