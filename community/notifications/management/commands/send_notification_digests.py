"""Send the daily notification digests that are due. Run it from cron (hourly is
right): a member gets at most one digest per day, at the first run after their digest
hour, and a notification is e-mailed at most once, so running it again does nothing."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from community.notifications.services import notification_digests_send


class Command(BaseCommand):
    help = "Send the daily notification digests that are due (idempotent; run hourly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            action="store_true",
            help="Send every digest-mode member's pending digest now, whatever their hour.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = notification_digests_send(force=options["now"])
        self.stdout.write(f"Sent {sent} digest e-mail(s).")
