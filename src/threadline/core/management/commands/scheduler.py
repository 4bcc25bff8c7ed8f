"""`threadline scheduler`: enqueue periodic jobs. Safe to run twice: only the holder of the lock acts."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from threadline.jobs.scheduler import LOCK_TTL, Scheduler


class Command(BaseCommand):
    help = "Run the periodic-job scheduler (takes a lease lock; a second scheduler waits as a standby)."
    # Django's system checks load every URL and schema (~3 s of CPU per command): `serve` runs them once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between ticks (default 5).")
        parser.add_argument("--lock-ttl", type=float, default=LOCK_TTL.total_seconds(),
                            help="Seconds a lock outlives its holder's last tick (default %(default)s).")

    def handle(self, *args: Any, interval: float, lock_ttl: float, **options: Any) -> None:
        try:
            scheduler = Scheduler(interval=interval, lock_ttl=lock_ttl)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        def stop(sig: int, frame: FrameType | None) -> None:
            scheduler.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        scheduler.run_forever()
