"""`threadline channel create-api --workspace SLUG [--name N] [--webhook-url URL] [--secret S]` and
`threadline channel create-email --workspace SLUG --address A [--alias A ...] [--catch-all DOMAIN ...]`.

Creates a channel and prints it as JSON (`{"id": ..., "secret": ..., "inbound_url": ...}` for the API
channel), for scripts (the benchmark, the crash test) and for operators without the REST API at hand. An
address or domain another workspace owns is refused with its reason.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.channels.models import Channel
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
        email = sub.add_parser("create-email", help="Create an email channel.")
        email.add_argument("--workspace", help="Workspace slug (default: the first workspace).")
        email.add_argument("--name", default="Email")
        email.add_argument("--address", required=True, help="The support address.")
        email.add_argument("--alias", action="append", default=[], help="Another address (repeatable).")
        email.add_argument("--catch-all", action="append", default=[], dest="catch_all",
                           help="A catch-all domain (repeatable); it receives mail once verified.")

    def handle(self, *args: Any, action: str, workspace: str | None, name: str, **options: Any) -> None:
        actor = self._admin(workspace)
        if action == "create-email":
            config: dict[str, Any] = {"address": options["address"], "aliases": options["alias"],
                                      "catch_all_domains": options["catch_all"]}
            channel = self._create(actor, "email", name, config)
            self.stdout.write(json.dumps({"id": channel.pk, "workspace": actor.workspace.slug,
                                          "address": channel.config["address"]}))
            return
        config = {"webhook_url": options["webhook_url"]}
        if options.get("secret"):
            config["secret"] = options["secret"]
        channel = self._create(actor, "api", name, config)
        self.stdout.write(json.dumps({
            "id": channel.pk, "workspace": actor.workspace.slug, "secret": channel.config["secret"],
            "inbound_url": f"{settings.PUBLIC_URL}/hooks/api/{channel.pk}/",
        }))

    def _admin(self, workspace: str | None) -> Membership:
        admins = Membership.objects.filter(role=Role.ADMIN, is_active=True).select_related("workspace")
        if workspace:
            admins = admins.filter(workspace__slug=workspace)
        actor = admins.order_by("workspace_id", "id").first()
        if actor is None:
            raise CommandError("No workspace with an active admin" + (f" named {workspace!r}." if workspace else "."))
        return actor

    def _create(self, actor: Membership, kind: str, name: str, config: dict[str, Any]) -> Channel:
        try:
            with transaction.atomic():
                return do_create_channel(actor, kind, name, config)
        except ThreadlineError as exc:
            raise CommandError(str(exc)) from exc
