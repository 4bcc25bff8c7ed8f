"""`threadline worker [--burst]`: run queued jobs until SIGTERM/SIGINT (or, with --burst, until none is left)."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from threadline.jobs.worker import Worker, recover_orphans


class Command(BaseCommand):
    help = "Run background jobs. Any number of workers may run against one database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--burst", action="store_true", help="Exit once no job is ready.")
        parser.add_argument("--idle-sleep", type=float, default=0.5,
                            help="Seconds to wait for new jobs when the queue is empty (default 0.5).")

    def handle(self, *args: Any, burst: bool, idle_sleep: float, **options: Any) -> None:
        recovered = recover_orphans()
        if recovered:
            self.stderr.write(f"Requeued {recovered} jobs left running by a stopped worker.")
        worker = Worker(idle_sleep=idle_sleep)
        if burst:
            count = worker.run_until_idle()
            self.stdout.write(f"Ran {count} jobs.")
            return

        def stop(sig: int, frame: FrameType | None) -> None:
            worker.stop()  # the job in hand is finished first

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker.run_forever()
