"""Send the 24 h and 1 h workshop reminder e-mails that are due (run from cron, e.g.
every 5 minutes: each reminder goes out once, whatever the schedule)."""

from typing import Any

from django.core.management.base import BaseCommand

from workshops.services import workshop_reminders_send


class Command(BaseCommand):
    help = "Send due workshop reminders (24 hours and 1 hour before the start), each once."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = workshop_reminders_send()
        self.stdout.write(f"sent {sent['24h']} 24-hour and {sent['1h']} 1-hour reminders")
