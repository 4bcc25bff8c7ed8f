"""`threadline doctor`: check configuration and connectivity; exit code 0 when every check passes, else 1."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from threadline.core.health import doctor_checks, render_table


class Command(BaseCommand):
    help = "Check settings, data directory, database, migrations, queue, Redis, secret key and public URL."
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        checks = doctor_checks()
        self.stdout.write(render_table(checks))
        failed = [c.name for c in checks if not c.ok]
        self.stdout.write(f"\n{len(failed)} of {len(checks)} checks failed: {', '.join(failed)}" if failed
                          else f"\nAll {len(checks)} checks passed.")
        if failed:
            sys.exit(1)
