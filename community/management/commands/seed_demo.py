"""Load a realistic demo community. Safe to run again: existing members are kept."""

import json
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from tqdm import tqdm

from community.forums.demo import seed_forums
from community.mentoring.demo import seed_mentoring
from community.models import User
from community.services import profile_create, profile_update
from workshops.demo import seed_workshops

DATA = Path(__file__).resolve().parents[2] / "data" / "demo_members.json"
DEMO_PASSWORD = "hub-demo-2026"  # noqa: S105 - demo accounts only, printed by `make run`
DEMO_DOMAIN = "demo.workforcehub.example"
ADMIN_USERNAME = "hubadmin"
MODERATOR_USERNAME = "mod.kim"


class Command(BaseCommand):
    help = "Create the demo community (members, profiles, skills). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, quiet: bool = False, **options: Any) -> None:
        members = json.loads(DATA.read_text(encoding="utf-8"))
        password = make_password(DEMO_PASSWORD)  # hash once, share: fast for 60 accounts
        created = 0
        for member in tqdm(members, desc="Demo members", unit="member", disable=quiet):
            with transaction.atomic():
                created += self._member(member, password)
        with transaction.atomic():
            created += self._member(
                {
                    "username": ADMIN_USERNAME,
                    "display_name": "Hub Admin",
                    "headline": "Runs the hub",
                    "roles": ["professional"],
                },
                password,
                staff=True,
            )
            created += self._member(
                {
                    "username": MODERATOR_USERNAME,
                    "display_name": "Kim Moderator",
                    "headline": "Community moderator, QC analytics",
                    "country": "KR",
                    "time_zone": "Asia/Seoul",
                    "roles": ["professional", "facilitator"],
                    "languages": ["en", "ko"],
                },
                password,
            )
            Group.objects.get(name="Moderators").user_set.add(
                User.objects.get(username=MODERATOR_USERNAME)
            )
        total = User.objects.filter(email__endswith="@" + DEMO_DOMAIN).count()
        self.stdout.write(
            self.style.SUCCESS(f"Demo community ready: {created} members created, {total} in all.")
        )
        seed_mentoring(stdout=self.stdout)
        seed_workshops(stdout=self.stdout)
        seed_forums(stdout=self.stdout)

    def _member(self, data: dict[str, Any], password: str, *, staff: bool = False) -> int:
        username = data["username"]
        if User.objects.filter(username=username).exists():
            return 0
        email = f"{username}@{DEMO_DOMAIN}"
        user = User.objects.create(
            username=username,
            email=email,
            password=password,
            is_staff=staff,
            is_superuser=staff,
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        profile = profile_create(
            user=user,
            display_name=data["display_name"],
            time_zone=data.get("time_zone", "UTC"),
            roles=data.get("roles", ["learner"]),
        )
        profile_update(
            actor=user,
            profile=profile,
            data={
                "headline": data.get("headline", ""),
                "organisation": data.get("organisation", ""),
                "country": data.get("country", ""),
                "bio": data.get("bio", ""),
                "visibility": data.get("visibility", "public"),
                "languages": data.get("languages", ["en"]),
                "skills": {s["slug"]: s["level"] for s in data.get("skills", [])},
            },
        )
        return 1
