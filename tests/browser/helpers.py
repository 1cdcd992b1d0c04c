"""Small helpers shared by the browser tests."""

import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes
from pathlib import Path
from typing import Any, TypeVar

from django.db import connection
from playwright.sync_api import Page

from community.models import CompetencyArea, Skill
from tests.conftest import REDIS_TEST_URL, LiveServer
from tests.factories import PASSWORD

T = TypeVar("T")

SHOTS_DIR = Path("/tmp/hub-shots")  # noqa: S108 (outside the repo, to look at)
CATALOGUE = Path(__file__).resolve().parents[2] / "community" / "data" / "competencies.json"

# Every form control a person can reach must have a non-empty accessible label:
# a <label> (for= or wrapping), aria-label, or aria-labelledby pointing at text.
UNLABELLED_CONTROLS_JS = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type))
  .filter(el => {
    const viaLabel = [...(el.labels || [])].some(l => l.textContent.trim() !== '');
    const viaAria = (el.getAttribute('aria-label') || '').trim() !== '';
    const viaLabelledBy = (el.getAttribute('aria-labelledby') || '').split(/\\s+/)
      .some(id => id && document.getElementById(id)
                  && document.getElementById(id).textContent.trim() !== '');
    return !(viaLabel || viaAria || viaLabelledBy);
  })
  .map(el => el.outerHTML.slice(0, 160))
"""


def off_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` in a fresh thread, where no event loop runs (Playwright's sync API
    keeps one running on the main thread, and ``async_to_sync`` refuses to run there)."""

    def call() -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result(timeout=60)


def log_in(page: Page, server: LiveServer, login: str, password: str = PASSWORD) -> None:
    """Log in through the login form, as a person would."""
    page.goto(f"{server.url}/accounts/login/")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password", exact=False).first.fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_selector("body[data-member]")


def newest_mail(mail_dir: Path, *, since: float) -> str:
    """The plain-text body of the newest e-mail written at or after ``since``."""
    deadline = time.monotonic() + 10
    while True:
        files = [p for p in mail_dir.glob("*.log") if p.stat().st_mtime >= since]
        if files:
            newest = max(files, key=lambda p: p.stat().st_mtime)
            message = message_from_bytes(newest.read_bytes())
            texts = []
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    payload = part.get_payload(decode=True)
                    if isinstance(payload, bytes):
                        texts.append(payload.decode(part.get_content_charset() or "utf-8"))
            return "\n".join(texts)
        if time.monotonic() > deadline:
            raise AssertionError(f"no e-mail arrived in {mail_dir}")
        time.sleep(0.1)


def confirmation_link(text: str) -> str:
    match = re.search(r"https?://\S+/accounts/confirm-email/\S+", text)
    assert match, f"no confirmation link in the e-mail:\n{text}"
    return match.group(0)


def redis_channel_layers() -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_TEST_URL], "prefix": "hub"},
        }
    }


def load_catalogue() -> None:
    """The shipped competency catalogue (transactional tests flush the migration's copy)."""
    for area_pos, area_data in enumerate(json.loads(CATALOGUE.read_text(encoding="utf-8"))):
        area, _ = CompetencyArea.objects.update_or_create(
            slug=area_data["slug"],
            defaults={
                "name": area_data["name"],
                "description": area_data["description"],
                "position": area_pos,
            },
        )
        for skill_pos, skill in enumerate(area_data["skills"]):
            Skill.objects.update_or_create(
                slug=skill["slug"],
                defaults={
                    "area": area,
                    "name": skill["name"],
                    "description": skill["description"],
                    "position": skill_pos,
                },
            )
