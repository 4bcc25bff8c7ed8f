"""`threadline search`: the search index's maintenance.

    threadline search rebuild [--workspace SLUG] [--restart] [--chunk N]
        index every contact, conversation and message from the rows (resumes an interrupted rebuild)
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from threadline.search.rebuild import CHUNK, rebuild
from threadline.tenancy.models import Workspace


class Command(BaseCommand):
    help = "Search index maintenance: rebuild it from the database's rows."
    # Django's system checks load every URL and schema (~3 s of CPU per command): `serve` runs them once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("rebuild", help="Index every contact, conversation and message again.")
        build.add_argument("--workspace", help="One workspace's slug (default: every workspace).")
        build.add_argument("--restart", action="store_true", help="Start over instead of resuming.")
        build.add_argument("--chunk", type=int, default=CHUNK, help="Rows per transaction.")

    def handle(self, *args: Any, action: str, workspace: str | None = None, restart: bool = False,
               chunk: int = CHUNK, **options: Any) -> None:
        scope = None
        if workspace:
            scope = Workspace.objects.filter(slug=workspace).first()
            if scope is None:
                raise CommandError(f"No workspace {workspace!r}.")
        if chunk < 1:
            raise CommandError("--chunk must be at least 1.")

        def report(kind: str, done: int) -> None:
            self.stderr.write(f"{kind}: {done}")

        counts = rebuild(scope, restart=restart, chunk=chunk, report=report)
        self.stdout.write(json.dumps(counts))
