"""The settings form of a channel kind, generated from its adapter's pydantic `config_schema`, and the parsing of
a posted form back into a config.

Each schema field becomes an input by its type (text, number, checkbox, a choice, a list one per line, a
`key: value` map, a nested group such as the email channel's IMAP box, or JSON for deeper structures such as
the voice flow). Secrets (`channels.queries.is_secret`) are password inputs and write-only: an edit form shows
whether one is set and an empty field that keeps the stored value unless something is typed. Labels and help
texts are translatable (`LABELS`, `HELP`); the schema's own description is the fallback help.
"""

from __future__ import annotations

import json
import secrets
import string
import types
import typing
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel

from threadline.channels.queries import is_secret, secret_fields
from threadline.channels.registry import adapter_for
from threadline.core.errors import ValidationFailed

L = gettext_lazy
LABELS: dict[str, str | Promise] = {
    "secret": L("Signing secret"), "webhook_url": L("Reply webhook URL"), "address": L("Support address"),
    "display_name": L("Sender name"), "aliases": L("Other addresses"), "catch_all_domains": L("Catch-all domains"),
    "relay_url": L("SMTP relay"), "imap": L("IMAP mailbox"), "host": L("Server"), "port": L("Port"),
    "username": L("User name"), "password": L("Password"), "security": L("Connection security"),
    "verify_tls": L("Verify the server's certificate"), "mailbox": L("Mailbox"),
    "processed_mailbox": L("Move processed mail to"), "idle": L("Wait for new mail (IDLE)"),
    "dkim_selector": L("DKIM selector"), "dkim_private_key": L("DKIM private key"),
    "max_message_bytes": L("Largest message accepted (bytes)"),
    "sender_rate_limit_per_hour": L("Messages per sender and hour before mail is held"),
    "page_id": L("Page or account id"), "access_token": L("Access token"), "app_secret": L("App secret"),
    "verify_token": L("Verify token"), "graph_base_url": L("Graph API address"),
    "human_agent_tag": L("Answer up to 7 days later (human agent tag)"), "channel_secret": L("Channel secret"),
    "channel_access_token": L("Channel access token"), "api_base_url": L("API address"),
    "data_api_base_url": L("Data API address"), "reply_token_seconds": L("Reply token lifetime (seconds)"),
    "allow_push": L("Push when the reply token has expired (uses quota)"), "account_sid": L("Account SID"),
    "auth_token": L("Auth token"), "from_number": L("Sending number"),
    "messaging_service_sid": L("Messaging service SID"), "status_callbacks": L("Ask for delivery reports"),
    "bot_token": L("Bot token"), "secret_token": L("Webhook secret token"), "phone_number": L("Phone number"),
    "flow": L("Call flow (JSON)"), "identity_verification": L("Require identity verification"),
    "title": L("Title"), "greetings": L("Greeting"), "color": L("Colour"), "position": L("Position"),
    "language": L("Language"), "prechat": L("Pre-chat form"), "prechat_fields": L("Pre-chat fields"),
    "offline": L("When nobody is online"), "offline_message": L("Offline message"),
    "allowed_origins": L("Allowed sites"), "email_channel_id": L("Email channel for replies while away"),
    "app_id": L("App id"), "token": L("Token"), "encoding_aes_key": L("EncodingAESKey"), "mode": L("Message mode"),
    "phone_number_id": L("Phone number id"), "business_account_id": L("WhatsApp business account id"),
}
KIND_LABELS: dict[str, str | Promise] = {  # "<kind>.<field>" where a field means something else in that kind
    "webchat.secret": L("Identity-verification secret"), "api.secret": L("Signing secret"),
    "instagram.page_id": L("Instagram account id"), "messenger.page_id": L("Page id"),
}
HELP: dict[str, str | Promise] = {
    "webhook_url": L("Where agents' replies are posted to your system; empty sends nothing."),
    "address": L("The address customers write to, e.g. support@example.com."),
    "aliases": L("One address per line; mail to any of them arrives here."),
    "catch_all_domains": L("One domain per line: mail to any address there arrives here once the domain is verified."),
    "relay_url": L("smtp://user:password@host:587 for your mail provider; empty uses the installation's relay."),
    "processed_mailbox": L("Empty: processed mail is marked as read and left where it is."),
    "dkim_selector": L("The name of the DKIM key, e.g. threadline; generate a key below."),
    "dkim_private_key": L("PEM; generated below, or pasted from your mail provider."),
    "page_id": L("The Facebook Page id (Messenger) or the Instagram professional account id."),
    "access_token": L("A long-lived token (a system user's, or the Page's), from Meta for Developers."),
    "verify_token": L("Any long random text; paste the same value at the provider."),
    "business_account_id": L("Needed to sync message templates."),
    "human_agent_tag": L("Meta allows a person to answer up to 7 days after the customer's last message."),
    "reply_token_seconds": L("How long after a message its free reply token is used."),
    "allow_push": L("Without it, a reply after the reply token expired fails."),
    "from_number": L("E.164, e.g. +14155550100; or use a messaging service SID."),
    "token": L("The Token of WeChat's server configuration."),
    "encoding_aes_key": L("43 characters, from WeChat's server configuration; needed for safe mode."),
    "identity_verification": L("Only a token your server signs with the identity-verification secret may say who "
                               "a visitor is."),
    "greetings": L("One per line as language: text, e.g. en: Hi! How can we help?"),
    "allowed_origins": L("One per line, e.g. https://shop.example; empty allows any site."),
    "language": L("en, he, fa, th or cs; empty follows the visitor's browser."),
    "prechat_fields": L("What the pre-chat form asks."),
    "offline_message": L("Empty says: No one is online right now."),
    "email_channel_id": L("The id of the email channel replies go out on while the visitor is away; empty: the "
                          "first one."),
    "flow": L("The IVR menus, voicemail and callback options; see docs/channels/voice.md."),
}
HELP_NEW: dict[str, str | Promise] = {  # only on a creation form: what happens to a field left empty
    "verify_token": L("Generated when left empty."), "secret_token": L("Generated when left empty."),
    "token": L("Generated when left empty."), "secret": L("Generated when left empty."),
}
CHOICE_LABELS: dict[str, str | Promise] = {
    "right": L("Right"), "left": L("Left"), "off": L("Off"), "optional": L("Optional"), "required": L("Required"),
    "name": L("Name"), "email": L("Email"), "ask_email": L("Ask for an email and answer there"),
    "message": L("Say so; messages still arrive"), "hide": L("Hide the chat button"), "tls": L("TLS"),
    "starttls": L("STARTTLS"), "none": L("None (not encrypted)"), "plain": L("Plain"),
    "compatible": L("Compatible"), "safe": L("Safe"),
}
ADVANCED = {"graph_base_url", "api_base_url", "data_api_base_url", "max_message_bytes", "sender_rate_limit_per_hour",
            "reply_token_seconds", "flow", "email_channel_id", "mode"}
TEXTAREA_AT = 2000  # a str field longer than this is a textarea (keys, certificates)


def _alnum(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _i in range(n))


# Values someone pastes on the provider's side, generated when the admin leaves them empty (the others that
# need generating have a default_factory in their schema).
GENERATED = {"verify_token": lambda: _alnum(32), "token": lambda: _alnum(32)}


@dataclass
class FormField:
    name: str  # the input's name: "imap.host" for a nested field
    label: str | Promise
    widget: str  # text, password, textarea, number, checkbox, select, checkboxes, lines, map, json, group
    help: str | Promise = ""
    required: bool = False
    secret: bool = False
    secret_set: bool = False
    secret_hint: str = ""  # what of a set secret may be shown: a URL's scheme, user and host, never its password
    value: Any = ""
    choices: list[tuple[str, str | Promise]] = field(default_factory=list)
    minimum: int | None = None
    maximum: int | None = None
    advanced: bool = False
    default: Any = None  # what an emptied field goes back to
    nullable: bool = False
    children: list[FormField] = field(default_factory=list)


def url_hint(value: str) -> str:
    """`smtp://user:********@host:587` for a URL carrying a password; "" for anything else."""
    parsed = urlsplit(value)
    if not (parsed.scheme and parsed.hostname):
        return ""
    user = f"{parsed.username}:********@" if parsed.username else ""
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{user}{parsed.hostname}{port}"


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (rest[0] if len(rest) == 1 else annotation), True
    return annotation, False


def _bounds(info: Any) -> tuple[int | None, int | None]:
    low = high = None
    for item in info.metadata:
        low = getattr(item, "ge", low)
        high = getattr(item, "le", high)
    return low, high


def _max_length(info: Any) -> int | None:
    return next((item.max_length for item in info.metadata if getattr(item, "max_length", None)), None)


def _widget(annotation: Any, info: Any, secret: bool) -> tuple[str, list[Any]]:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "select", list(typing.get_args(annotation))
    if origin is list:
        inner = typing.get_args(annotation)[0]
        if typing.get_origin(inner) is typing.Literal:
            return "checkboxes", list(typing.get_args(inner))
        return "lines", []
    if origin is dict:
        return "map", []
    if annotation is bool:
        return "checkbox", []
    if annotation is int:
        return "number", []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        flat = all(_widget(_strip_optional(i.annotation)[0], i, False)[0] not in ("json", "group")
                   for i in annotation.model_fields.values())
        return ("group" if flat else "json"), []
    if annotation is str:
        long = (_max_length(info) or 0) > TEXTAREA_AT
        if secret:
            return ("textarea" if long else "password"), []
        return ("textarea" if long else "text"), []
    return "json", []


def _shown(widget: str, value: Any) -> Any:
    if value is None:
        return ""
    if widget == "lines":
        return "\n".join(str(v) for v in value)
    if widget == "map":
        return "\n".join(f"{k}: {v}" for k, v in value.items())
    if widget == "json":
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        return json.dumps(value, ensure_ascii=False, indent=2)
    return value


def _help(name: str, new: bool) -> str:
    parts = [str(HELP.get(name, "")), str(HELP_NEW.get(name, "")) if new else ""]
    return " ".join(p for p in parts if p)


def _fields(schema: type[BaseModel], stored: dict[str, Any] | None, declared: set[str], prefix: str = "",
            kind: str = "") -> list[FormField]:
    found = []
    for name, info in schema.model_fields.items():
        annotation, optional = _strip_optional(info.annotation)
        secret = annotation is str and is_secret(name, declared if not prefix else frozenset())
        widget, choices = _widget(annotation, info, secret)
        if name == "color" and widget == "text":
            widget = "color"
        if stored is not None and name in stored:
            value = stored[name]
        elif info.default_factory is not None and not secret:
            value = info.default_factory()  # type: ignore[call-arg]
        else:
            value = None if info.is_required() else info.default
        low, high = _bounds(info)
        item = FormField(
            name=f"{prefix}{name}", widget=widget, help=_help(name, stored is None and not prefix),
            label=KIND_LABELS.get(f"{kind}.{name}") or LABELS.get(name, name.replace("_", " ").capitalize()),
            required=info.is_required() and not optional,
            secret=secret, choices=[(str(c), CHOICE_LABELS.get(str(c), str(c))) for c in choices],
            minimum=low, maximum=high, advanced=name in ADVANCED,
            default=None if info.is_required() or info.default_factory is not None else info.default,
            nullable=optional,
        )
        if secret:
            item.secret_set = stored is not None and bool(stored.get(name))
            item.secret_hint = url_hint(stored.get(name, "")) if item.secret_set else ""
            item.required = item.required and stored is None and name not in GENERATED
        elif widget == "group":
            item.children = _fields(annotation, value if isinstance(value, dict) else None, declared, f"{name}.", kind)
            item.value = value is not None
        else:
            item.value = _shown(widget, value)
        found.append(item)
    return found


def form_fields(kind: str, stored: dict[str, Any] | None = None) -> list[FormField]:
    """The form of a `kind` channel; `stored` is the config being edited (None for a new channel)."""
    return _fields(adapter_for(kind).config_schema, stored, secret_fields(kind), kind=kind)


def with_posted(fields: list[FormField], data: QueryDict) -> list[FormField]:
    """The same form showing what was posted (after a refusal), secrets never echoed."""
    for item in fields:
        if item.widget == "group":
            item.value = data.get(f"{item.name}.enabled") == "on"
            with_posted(item.children, data)
        elif item.widget == "checkboxes":
            item.value = data.getlist(item.name)
        elif item.widget == "checkbox":
            item.value = data.get(item.name) == "on"
        elif not item.secret:
            item.value = data.get(item.name, "")
    return fields


def _parse_value(item: FormField, data: QueryDict) -> Any:
    raw = data.get(item.name, "")
    if item.widget == "checkbox":
        return data.get(item.name) == "on"
    if item.widget == "checkboxes":
        return data.getlist(item.name)
    if item.widget == "select" and not raw:
        return None
    if item.widget == "lines":
        return [line.strip() for line in raw.replace(",", "\n").splitlines() if line.strip()]
    if item.widget == "map":
        pairs = [line.partition(":") for line in raw.splitlines() if line.strip()]
        if any(not sep for _k, sep, _v in pairs):
            raise ValidationFailed(_("Write one per line as key: text."), code="invalid_config", field=item.name)
        return {k.strip(): v.strip() for k, _sep, v in pairs if v.strip()}
    if item.widget == "json":
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(_("This is not valid JSON: %(error)s") % {"error": exc.msg},
                                   code="invalid_config", field=item.name) from exc
    if item.widget == "number":
        if not raw.strip():
            return None
        try:
            return int(raw)
        except ValueError as exc:
            raise ValidationFailed(_("Write a whole number."), code="invalid_config", field=item.name) from exc
    return raw.strip() if not item.secret else raw


def parse(kind: str, data: QueryDict, stored: dict[str, Any] | None = None) -> dict[str, Any]:
    """The config a posted form asks for. A secret left empty keeps the stored value (on an edit) or is
    generated (on a creation, where the schema or `GENERATED` can); other empty fields take their default."""
    return _parse(form_fields(kind, stored), data, stored, kind)


def _parse(fields: list[FormField], data: QueryDict, stored: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for item in fields:
        key = item.name.rpartition(".")[2]
        if item.widget == "group":
            if data.get(f"{item.name}.enabled") != "on":
                config[key] = None
                continue
            inner = stored.get(key) if stored else None
            config[key] = _parse(item.children, data, inner if isinstance(inner, dict) else None, kind)
            continue
        if item.widget != "checkbox" and not data.getlist(item.name):
            if item.secret and stored is None and key in GENERATED and "." not in item.name:
                config[key] = GENERATED[key]()
            elif item.secret and stored is not None and stored.get(key):
                config[key] = stored[key]
            continue  # not in the form (or no choice made): the stored value, else the schema's default
        value = _parse_value(item, data)
        if item.secret and not value:
            if stored is not None and stored.get(key):
                config[key] = stored[key]  # left empty on an edit: unchanged
            elif key in GENERATED and item.required is False and stored is None and "." not in item.name:
                config[key] = GENERATED[key]()
            continue
        if value is None or (value == "" and item.widget in ("text", "textarea")):
            if item.default is not None or item.nullable:
                config[key] = item.default  # emptied: back to the schema's default
            continue
        config[key] = value
    return config


def shown_once(kind: str, config: dict[str, Any]) -> list[tuple[str | Promise, str]]:
    """The generated values someone must paste at the provider or in their site (shown once, at creation)."""
    names = ("verify_token", "secret_token", "secret", "token")
    schema = adapter_for(kind).config_schema.model_fields
    return [(label_of(kind, n), str(config[n])) for n in names if n in schema and config.get(n)]


def label_of(kind: str, name: str) -> str | Promise:
    return KIND_LABELS.get(f"{kind}.{name}") or LABELS.get(name, name)
