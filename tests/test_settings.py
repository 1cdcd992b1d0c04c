"""Production settings refuse unsafe configurations; pages carry the security headers.

The production settings are loaded in subprocesses, with an environment built from
scratch, exactly as a deployment would start them.
"""

import json
import os
import re
import secrets
import subprocess
import sys

import pytest

from tests.conftest import ROOT

REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL")
# Variables of the surrounding shell that would change what production sees.
SCRUBBED = {*REQUIRED, "DJANGO_SETTINGS_MODULE", "DEBUG", "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD", "EMAIL_URL", "EMAIL_BACKEND"}  # fmt: skip


def production_env(**overrides: str) -> dict[str, str]:
    """A complete production environment (a fresh 60-character secret), then overrides."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(45),
        ALLOWED_HOSTS="hub.example.org,www.hub.example.org",
        DATABASE_URL="postgres://hub:s3cret@db.internal:5432/hub",
        REDIS_URL="redis://cache.internal:6379/0",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def without(*names: str, **overrides: str) -> dict[str, str]:
    env = production_env(**overrides)
    for name in names:
        env.pop(name)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The ImproperlyConfigured message a refused start printed."""
    assert result.returncode != 0, result.stdout
    match = re.search(r"ImproperlyConfigured: (.*)", result.stderr)
    assert match, result.stderr[-2000:]
    return match.group(1)


def test_production_without_environment_names_every_missing_variable():
    """Started with none of the four required variables, production says which ones."""
    message = refusal(manage("check", env=without(*REQUIRED)))
    assert "SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL" in message


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_names_the_one_missing_variable(missing):
    """With one variable missing (or empty), only that one is named."""
    message = refusal(manage("check", env=production_env(**{missing: ""})))
    assert missing in message
    for present in set(REQUIRED) - {missing}:
        assert present not in message


@pytest.mark.parametrize("hosts", ["*", "hub.example.org,*"])
def test_production_refuses_wildcard_allowed_hosts(hosts):
    """ALLOWED_HOSTS may not contain '*' in production."""
    message = refusal(manage("check", env=production_env(ALLOWED_HOSTS=hosts)))
    assert "ALLOWED_HOSTS" in message
    assert "'*'" in message


@pytest.mark.parametrize(
    "secret",
    ["too-short-secret-0123456789", "ab" * 30],
    ids=["short", "repetitive"],
)
def test_production_refuses_weak_secret_key(secret):
    """A short or repetitive SECRET_KEY is refused."""
    message = refusal(manage("check", env=production_env(SECRET_KEY=secret)))
    assert "SECRET_KEY" in message


def test_deploy_check_is_clean():
    """`manage.py check --deploy --fail-level WARNING` passes with a complete environment."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


PRINT_SECURITY_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in [
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "ALLOWED_HOSTS", "SECURE_PROXY_SSL_HEADER",
]}))
"""


def test_debug_cannot_be_switched_on_in_production():
    """DEBUG=true in the environment does not turn on debug pages in production."""
    env = production_env(DEBUG="true")
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SECURITY_SETTINGS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["ALLOWED_HOSTS"] == ["hub.example.org", "www.hub.example.org"]


# --- security headers on pages (in-process; the policy lives in the base settings) --------------
def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
NONCE_ATTR = re.compile(r"""\bnonce=["']([^"']+)["']""")

HUB_PAGES = [
    ("/", False),
    ("/forums/", False),
    ("/workshops/", False),
    ("/mentoring/", False),
    ("/projects/", False),
    ("/members/", True),
    ("/members/amina/", True),
    ("/catalogue/", False),
    ("/settings/profile/", True),
    ("/accounts/login/", False),
    ("/accounts/signup/", False),
    ("/accounts/password/reset/", False),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "signed_in"), HUB_PAGES, ids=[p for p, _ in HUB_PAGES])
def test_page_scripts_carry_the_csp_nonce(client, member, path, signed_in):
    """Each page's CSP allows scripts by a fresh nonce (no 'unsafe-inline') that its tags carry."""
    if signed_in:
        client.force_login(member.user)
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    script_src = csp_directives(response["Content-Security-Policy"])["script-src"]
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    nonces = [s[len("'nonce-") : -1] for s in script_src if s.startswith("'nonce-")]
    assert len(nonces) == 1, script_src
    tags = SCRIPT_TAG.findall(response.content.decode())
    assert tags, "the page loads no script"
    for attrs in tags:
        found = NONCE_ATTR.search(attrs)
        assert found, f"<script{attrs}> has no nonce"
        assert found.group(1) == nonces[0]
    again = client.get(path)
    assert nonces[0] not in again["Content-Security-Policy"], "the nonce is reused"


OTHER_HTML = [
    ("/admin/login/", False),
    ("/api/v1/docs/", False),
    ("/no-such-page/", False),
    ("/members/nobody-here/", True),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "signed_in"), HUB_PAGES + OTHER_HTML, ids=[p for p, _ in HUB_PAGES + OTHER_HTML]
)
def test_html_responses_carry_security_headers(client, member, path, signed_in):
    """Every HTML response forbids framing, sniffing and inline script."""
    if signed_in:
        client.force_login(member.user)
    response = client.get(path)
    assert response["Content-Type"].startswith("text/html")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = csp_directives(response["Content-Security-Policy"])
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    # Scripts without the page's nonce may only load from our own origin, never inline.
    for attrs in SCRIPT_TAG.findall(response.content.decode()):
        if not NONCE_ATTR.search(attrs):
            src = re.search(r"""\bsrc=["']([^"']+)["']""", attrs)
            assert src, f"inline <script{attrs}> without the nonce"
            assert src.group(1).startswith("/"), f"<script{attrs}> from another origin"
