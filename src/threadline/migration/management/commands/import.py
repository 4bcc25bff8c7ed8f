"""`threadline import zendesk|freshdesk|helpscout`: a help desk's history into a workspace.

    threadline import zendesk   --workspace SLUG --url https://acme.zendesk.com --user admin@acme.com  (ZENDESK_API_TOKEN)
    threadline import freshdesk --workspace SLUG --url https://acme.freshdesk.com                       (FRESHDESK_API_KEY)
    threadline import helpscout --workspace SLUG --user APP_ID                                           (HELPSCOUT_APP_SECRET)
      [--dry-run] [--restart] [--invite-agents] [--no-reindex] [--json] [--page-size N]

Resumable: each page is committed with its checkpoint; run the same command again after a crash or a stop.
Idempotent: what was imported is never imported twice. See docs/migration.md.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from threadline.core.errors import ThreadlineError
from threadline.migration.runner import run_import
from threadline.migration.sources import build_reader
from threadline.tenancy.models import Workspace


class Command(BaseCommand):
    help = "Import a Zendesk, Freshdesk or Help Scout account's history into a workspace."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", choices=["zendesk", "freshdesk", "helpscout"])
        parser.add_argument("--workspace", required=True, help="The workspace's slug.")
        parser.add_argument("--url", default="", help="The account's API base URL.")
        parser.add_argument("--user", default="", help="Zendesk: the agent's email; Help Scout: the app id.")
        parser.add_argument("--secret", default="", help="API token / key / app secret (better: the environment).")
        parser.add_argument("--dry-run", action="store_true", help="Report what would be imported; write nothing.")
        parser.add_argument("--restart", action="store_true", help="Read the source from its start again.")
        parser.add_argument("--invite-agents", action="store_true", help="Mail the imported agents' invitations.")
        parser.add_argument("--no-reindex", action="store_true", help="Skip the search and analytics rebuild.")
        parser.add_argument("--force", action="store_true",
                            help="Start although another run of this source looks alive (you know it is not).")
        parser.add_argument("--page-size", type=int, default=100)
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, source: str, workspace: str, **options: Any) -> None:
        target = Workspace.objects.filter(slug=workspace).first()
        if target is None:
            raise CommandError(f"No workspace {workspace!r}.")
        try:
            reader = build_reader(source, url=options["url"], user=options["user"], secret=options["secret"],
                                  page_size=max(1, min(options["page_size"], 1000)))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        try:
            report = run_import(target, reader, dry_run=options["dry_run"], invite=options["invite_agents"],
                                restart=options["restart"], reindex=not options["no_reindex"], force=options["force"],
                                progress=None if options["json"] else lambda line: self.stderr.write(line))
        except ThreadlineError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            self.stdout.write("\n".join(report.lines()))
        if report.error:
            raise CommandError(report.error)
