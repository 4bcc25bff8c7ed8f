"""`threadline channel create-api --workspace SLUG [--name N] [--webhook-url URL] [--secret S]`.

Creates an API channel and prints `{"id": ..., "secret": ..., "inbound_url": ...}` as JSON, for scripts
(the benchmark, the crash test) and for operators without the REST API at hand.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.core.errors import ThreadlineError
from threadline.tenancy.models import Membership, Role


class Command(BaseCommand):
    help = "Manage channels from the command line."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create-api", help="Create an API channel.")
        create.add_argument("--workspace", help="Workspace slug (default: the first workspace).")
        create.add_argument("--name", default="API")
        create.add_argument("--webhook-url", default="", help="Where agents' replies are POSTed.")
        create.add_argument("--secret", help="The HMAC secret (default: a new random one).")

    def handle(self, *args: Any, action: str, workspace: str | None, name: str, webhook_url: str,
               secret: str | None, **options: Any) -> None:
        admins = Membership.objects.filter(role=Role.ADMIN, is_active=True).select_related("workspace")
        if workspace:
            admins = admins.filter(workspace__slug=workspace)
        actor = admins.order_by("workspace_id", "id").first()
        if actor is None:
            raise CommandError("No workspace with an active admin" + (f" named {workspace!r}." if workspace else "."))
        config: dict[str, Any] = {"webhook_url": webhook_url}
        if secret:
            config["secret"] = secret
        try:
            with transaction.atomic():
                channel = do_create_channel(actor, "api", name, config)
        except ThreadlineError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps({
            "id": channel.pk, "workspace": actor.workspace.slug, "secret": channel.config["secret"],
            "inbound_url": f"{settings.PUBLIC_URL}/hooks/api/{channel.pk}/",
        }))
