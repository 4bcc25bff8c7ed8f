"""`threadline analytics`: the analytics facts' maintenance.

    threadline analytics rebuild [--workspace SLUG] [--chunk N]
        recompute every fact from the conversations, messages, timeline and events tables
    threadline analytics refresh
        recompute the conversations marked stale now, instead of waiting for the scheduler's minute
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from threadline.analytics.refresh import BATCH, rebuild
from threadline.analytics.tasks import refresh_facts_task
from threadline.tenancy.models import Workspace


class Command(BaseCommand):
    help = "Analytics facts: rebuild them from the database's rows, or refresh the stale ones."
    # Django's system checks load every URL and schema (~3 s of CPU per command): `serve` runs them once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("rebuild", help="Recompute every fact from scratch.")
        build.add_argument("--workspace", help="One workspace's slug (default: every workspace).")
        build.add_argument("--chunk", type=int, default=BATCH, help="Conversations per transaction.")
        sub.add_parser("refresh", help="Recompute the conversations marked stale.")

    def handle(self, *args: Any, action: str, workspace: str | None = None, chunk: int = BATCH,
               **options: Any) -> None:
        if action == "refresh":
            self.stdout.write(json.dumps({"conversations": refresh_facts_task.func()}))
            return
        workspaces = Workspace.objects.order_by("pk")
        if workspace:
            workspaces = workspaces.filter(slug=workspace)
            if not workspaces.exists():
                raise CommandError(f"No workspace {workspace!r}.")
        if chunk < 1:
            raise CommandError("--chunk must be at least 1.")
        for scope in workspaces:
            def report(kind: str, done: int, slug: str = scope.slug) -> None:
                self.stderr.write(f"{slug} {kind}: {done}")

            counts = rebuild(scope.pk, chunk=chunk, report=report)
            self.stdout.write(json.dumps({"workspace": scope.slug, **counts}))
