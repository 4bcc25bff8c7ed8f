"""`threadline channel create <kind> [--workspace SLUG] [--name N] [--<field> V ...] [--config JSON]`, and the
shortcuts kept for scripts: `threadline channel create-api [--webhook-url URL] [--secret S]` and
`threadline channel create-email --address A [--alias A ...] [--catch-all DOMAIN ...]`.

`create <kind>` takes one option per field of the kind's config schema (`--phone-number-id`,
`--access-token`...; the same fields as `POST /api/v1/channels`), and reads a field it was not given from the
environment variable `CHANNEL_<FIELD>` (`CHANNEL_ACCESS_TOKEN`), so secrets need not be typed on a command
line. Nested settings (an email channel's `imap`, the voice `flow`, web chat `greetings`) go in `--config`
JSON, which the options override. A `verify_token` left out is generated. It prints one JSON document: the
channel id, the URL to paste at the provider, and the values the provider side needs (`verify_token`,
Telegram's `secret_token`, the API or web chat `secret`).
"""

from __future__ import annotations

import argparse
import json
import os
import types
import typing
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from pydantic import BaseModel

from threadline.channels.actions import do_create_channel
from threadline.channels.models import Channel
from threadline.channels.queries import inbound_webhook_url
from threadline.channels.registry import adapter_for, kinds
from threadline.core import crypto
from threadline.core.errors import ThreadlineError
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, has_permission

SHOWN = ("secret", "secret_token", "verify_token")  # values someone must paste on the provider's or site's side
GENERATED = {"verify_token": lambda: crypto.new_secret(24)}
DEFAULT_NAMES = {"api": "API", "email": "Email", "webchat": "Web chat", "whatsapp": "WhatsApp", "sms": "SMS",
                 "voice": "Phone", "telegram": "Telegram", "line": "LINE", "messenger": "Messenger",
                 "instagram": "Instagram", "wechat": "WeChat"}


def _flag_type(annotation: Any) -> tuple[Any, dict[str, Any]] | None:
    """How an option parses a schema field, or None for a nested one (set through --config)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _flag_type(rest[0]) if len(rest) == 1 else None
    if typing.get_origin(annotation) is typing.Literal:
        return str, {"choices": [str(a) for a in typing.get_args(annotation)]}
    if typing.get_origin(annotation) is list and typing.get_args(annotation) == (str,):
        return list, {}
    if annotation is bool:
        return bool, {}
    if annotation in (str, int):
        return annotation, {}
    return None


def _to_bool(value: str) -> bool:
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {value!r}")


def _schema_fields(kind: str) -> dict[str, tuple[Any, Any]]:
    """field name → (parsed type, pydantic field info) for every field an option can set."""
    schema: type[BaseModel] = adapter_for(kind).config_schema
    found = {}
    for name, info in schema.model_fields.items():
        parsed = _flag_type(info.annotation)
        if parsed is not None:
            found[name] = (parsed, info)
    return found


def _parse(kind_type: Any, raw: str) -> Any:
    if kind_type is bool:
        return _to_bool(raw)
    if kind_type is int:
        return int(raw)
    if kind_type is list:
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def _add_kind_parser(create: Any, kind: str) -> None:
    parser = create.add_parser(kind, help=f"Create a {kind} channel.")
    parser.add_argument("--workspace", help="Workspace slug (default: the first workspace).")
    parser.add_argument("--name", default=DEFAULT_NAMES.get(kind, kind))
    parser.add_argument("--config", default="{}", help="Config as JSON (nested settings); options override it.")
    for name, ((kind_type, extra), info) in _schema_fields(kind).items():
        required = " Required." if info.is_required() and name not in GENERATED else ""
        generated = " Generated when omitted." if name in GENERATED or info.default_factory else ""
        listed = " Comma-separated." if kind_type is list else ""
        parser.add_argument(
            f"--{name.replace('_', '-')}", dest=f"field_{name}", default=None, metavar=name.upper(), **extra,
            help=f"{info.description or name}.{required}{generated}{listed} Env: CHANNEL_{name.upper()}.",
        )


def _actor(workspace: str | None) -> Membership:
    members = Membership.objects.filter(is_active=True).select_related("workspace", "custom_role")
    if workspace:
        members = members.filter(workspace__slug=workspace)
    actor = next((m for m in members.order_by("workspace_id", "id") if has_permission(m, Permission.ADMIN_CHANNELS)),
                 None)
    if actor is None:
        raise CommandError("No workspace with an active admin" + (f" named {workspace!r}." if workspace else "."))
    return actor


def _create(actor: Membership, kind: str, name: str, config: dict[str, Any]) -> Channel:
    try:
        with transaction.atomic():
            return do_create_channel(actor, kind, name, config)
    except ThreadlineError as exc:
        raise CommandError(str(exc)) from exc


def config_from(kind: str, options: dict[str, Any], environ: dict[str, str]) -> dict[str, Any]:
    """The config of a new `kind` channel: --config JSON, then CHANNEL_<FIELD> variables, then options."""
    try:
        config = json.loads(options.get("config") or "{}")
    except json.JSONDecodeError as exc:
        raise CommandError(f"--config is not valid JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise CommandError("--config must be a JSON object.")
    for name, ((kind_type, _extra), _info) in _schema_fields(kind).items():
        raw = options.get(f"field_{name}")
        if raw is None:
            raw = environ.get(f"CHANNEL_{name.upper()}")
        if raw is not None:
            try:
                config[name] = _parse(kind_type, raw)
            except (ValueError, argparse.ArgumentTypeError) as exc:
                raise CommandError(f"--{name.replace('_', '-')}: {exc}") from exc
    for name, make in GENERATED.items():
        if name in adapter_for(kind).config_schema.model_fields and not config.get(name):
            config[name] = make()
    return config


def created(channel: Channel, actor: Membership) -> dict[str, Any]:
    """What the operator needs next: the id, where the provider posts, and the values to paste there."""
    config = channel.config
    answer: dict[str, Any] = {"id": channel.pk, "kind": channel.kind, "name": channel.name,
                              "workspace": actor.workspace.slug}
    if channel.kind == "email":
        answer["address"] = config["address"]
        answer["inbound"] = ("mail to this address reaching `threadline serve --smtp-port N`"
                             + (", or the IMAP mailbox configured" if config.get("imap") else ""))
    elif channel.kind == "webchat":
        answer["widget"] = f'<script src="{settings.PUBLIC_URL}/widget.js" data-channel="{channel.pk}" async></script>'
    elif channel.kind == "portal":  # customers write in the portal and the public forms; no provider posts
        answer["portal_url"] = f"{settings.PUBLIC_URL}/portal/{actor.workspace.slug}/"
    else:
        answer["inbound_url"] = inbound_webhook_url(channel)
    answer.update({name: config[name] for name in SHOWN if config.get(name)})
    return answer


class Command(BaseCommand):
    help = "Manage channels from the command line."
    # Django's system checks load every URL and schema (~3 s of CPU per command): `serve` runs them once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create_api = sub.add_parser("create-api", help="Create an API channel (same as `create api`).")
        create_api.add_argument("--workspace", help="Workspace slug (default: the first workspace).")
        create_api.add_argument("--name", default="API")
        create_api.add_argument("--webhook-url", default="", help="Where agents' replies are POSTed.")
        create_api.add_argument("--secret", help="The HMAC secret (default: a new random one).")
        email = sub.add_parser("create-email", help="Create an email channel (see also `create email`).")
        email.add_argument("--workspace", help="Workspace slug (default: the first workspace).")
        email.add_argument("--name", default="Email")
        email.add_argument("--address", required=True, help="The support address.")
        email.add_argument("--alias", action="append", default=[], help="Another address (repeatable).")
        email.add_argument("--catch-all", action="append", default=[], dest="catch_all",
                           help="A catch-all domain (repeatable); it receives mail once verified.")
        create = sub.add_parser("create", help="Create a channel of any kind; `channel create <kind> --help`.")
        by_kind = create.add_subparsers(dest="kind", required=True, metavar="KIND")
        for kind in kinds():
            _add_kind_parser(by_kind, kind)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        actor = _actor(options.get("workspace"))
        if action == "create-api":
            config: dict[str, Any] = {"webhook_url": options["webhook_url"]}
            if options.get("secret"):
                config["secret"] = options["secret"]
            channel = _create(actor, "api", options["name"], config)
            self.stdout.write(json.dumps({
                "id": channel.pk, "workspace": actor.workspace.slug, "secret": channel.config["secret"],
                "inbound_url": inbound_webhook_url(channel),
            }))
            return
        if action == "create-email":
            config = {"address": options["address"], "aliases": options["alias"],
                      "catch_all_domains": options["catch_all"]}
            channel = _create(actor, "email", options["name"], config)
            self.stdout.write(json.dumps({"id": channel.pk, "workspace": actor.workspace.slug,
                                          "address": channel.config["address"]}))
            return
        kind = options["kind"]
        channel = _create(actor, kind, options["name"], config_from(kind, options, dict(os.environ)))
        self.stdout.write(json.dumps(created(channel, actor), ensure_ascii=False))
