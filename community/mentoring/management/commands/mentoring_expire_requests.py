"""Remind mentors of requests about to expire and expire overdue ones (run from cron)."""

from typing import Any

from django.core.management.base import BaseCommand

from community.mentoring.services import mentorship_requests_expire


class Command(BaseCommand):
    help = "Send reminders for mentoring requests that expire soon; expire overdue ones."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = mentorship_requests_expire()
        self.stdout.write(f"reminded {counts['reminded']}, expired {counts['expired']}")
