"""/app/admin/channels: the workspace's channels, a guided set-up per kind, and each channel's page.

The list shows each channel's kind, status, last payload received, open conversations and payloads that need
attention. "Add a channel" picks a kind, then a form generated from the kind's config schema
(`admin_channel_forms`) with what to configure at the provider. A channel's page edits it (secrets are
write-only), shows the webhook URL and values to paste at the provider, a live "last event received", a
connection test, and what the kind's optional adapter methods offer (email: the DKIM key's DNS record and "send a
test"; web chat: the widget editor with its live preview and install snippet); disabling asks for confirmation, saying what happens to its open conversations.
Everything writes through the channels domain's actions (audited there).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from threadline.channels import connection, overview
from threadline.channels.actions import (
    do_create_channel,
    do_rotate_channel_secret,
    do_set_channel_active,
    do_update_channel,
)
from threadline.channels.base import ChannelError
from threadline.channels.models import Channel
from threadline.channels.queries import access_channel, inbound_webhook_url, needs_attention
from threadline.channels.registry import adapter_for, kinds
from threadline.core import crypto
from threadline.core.errors import NotFound, ThreadlineError
from threadline.tenancy.permissions import Permission
from threadline.web import admin_channel_forms as forms
from threadline.web.session import wants_json
from threadline.web.views_admin import admin_screen, render_admin

L = gettext_lazy
KINDS: dict[str, tuple[str | Promise, str | Promise]] = {
    "email": (L("Email"), L("A support address: mail forwarded or delivered to Threadline, or an IMAP mailbox.")),
    "webchat": (L("Web chat"), L("A chat button on your website or in your web app.")),
    "whatsapp": (L("WhatsApp"), L("A WhatsApp Business number through Meta's Cloud API.")),
    "sms": (L("SMS"), L("Text messages to and from a Twilio number.")),
    "voice": (L("Phone"), L("Calls to a Twilio number: menus, voicemail and callbacks.")),
    "messenger": (L("Messenger"), L("Messages to a Facebook Page.")),
    "instagram": (L("Instagram"), L("Direct messages to an Instagram professional account.")),
    "telegram": (L("Telegram"), L("A Telegram bot.")),
    "line": (L("LINE"), L("A LINE Official Account (Messaging API).")),
    "wechat": (L("WeChat"), L("A WeChat Official Account.")),
    "api": (L("API"), L("Messages your own system posts, signed with a shared secret.")),
}
ONCE_FIELDS = ("verify_token", "secret_token", "secret", "token")  # generated values that may be rotated


SECTION = "/app/admin/channels"  # every page here marks the Channels section in the navigation


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return render_admin(request, template, {"current": SECTION, **context}, status=status)


def _kind_label(kind: str) -> str | Promise:
    return KINDS.get(kind, (kind, ""))[0]


def _agent(request: HttpRequest) -> Any:
    return request.agent  # type: ignore[attr-defined]


def _flash(request: HttpRequest) -> tuple[str, str]:
    """The message left by the last POST (Django's messages): (notice, error)."""
    notice = error = ""
    for item in messages.get_messages(request):
        if item.level >= messages.ERROR:
            error = str(item)
        else:
            notice = str(item)
    return notice, error


# ── the list and "add a channel" ─────────────────────────────────────────────────────────────────────
@require_GET
@admin_screen(Permission.ADMIN_CHANNELS)
def channels_view(request: HttpRequest) -> HttpResponse:
    rows = [{"row": row, "kind_label": _kind_label(row.channel.kind)} for row in overview.channel_rows(_agent(request))]
    notice, error = _flash(request)
    return _render(request, "web/admin/channels.html", {"rows": rows, "message": notice, "error": error})


@require_GET
@admin_screen(Permission.ADMIN_CHANNELS)
def new_view(request: HttpRequest) -> HttpResponse:
    choices = [{"kind": kind, "label": label, "about": about} for kind, (label, about) in KINDS.items()
               if kind in kinds()]
    return _render(request, "web/admin/channel_new.html", {"choices": choices})


def _form_context(kind: str, fields: list[forms.FormField]) -> dict[str, Any]:
    return {"kind": kind, "kind_label": _kind_label(kind), "fields": [f for f in fields if not f.advanced],
            "schema_fields": list(adapter_for(kind).config_schema.model_fields),
            "advanced": [f for f in fields if f.advanced], "public_url": settings.PUBLIC_URL}


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_CHANNELS)
def create_view(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in kinds():
        raise NotFound(_("Unknown channel kind %(kind)s.") % {"kind": kind}, code="unknown_channel_kind")
    agent = _agent(request)
    context = {**_form_context(kind, forms.form_fields(kind)), "name": str(_kind_label(kind))}
    if request.method == "GET":
        return _render(request, "web/admin/channel_create.html", context)
    name = request.POST.get("name", "")
    try:
        config = forms.parse(kind, request.POST)
        with transaction.atomic():
            channel = do_create_channel(agent, kind, name, config)
    except ThreadlineError as exc:
        context.update(_form_context(kind, forms.with_posted(forms.form_fields(kind), request.POST)))
        context.update(name=name, error=exc.message, error_field=exc.field)
        return _render(request, "web/admin/channel_create.html", context, status=exc.status)
    return _channel_page(request, channel, once=forms.shown_once(kind, channel.config), status=201,
                         message=_("The channel is ready. Copy the values below now: secrets are not shown again."))


# ── one channel ──────────────────────────────────────────────────────────────────────────────────────
def _hook(channel: Channel, name: str) -> Any:
    """An optional adapter method (see channels/base.py), or None; 404 where a view needs it and it is absent."""
    return getattr(adapter_for(channel.kind), name, None)


def _required_hook(channel: Channel, name: str) -> Any:
    hook = _hook(channel, name)
    if hook is None:
        raise NotFound(_("This channel has no such feature."), code="not_available")
    return hook


def _kind_context(channel: Channel, config: dict[str, Any]) -> dict[str, Any]:
    """The sections a kind's optional adapter methods add to its page."""
    context: dict[str, Any] = {"can_send_test": _hook(channel, "send_test") is not None,
                               "can_sign": _hook(channel, "new_signing_key") is not None,
                               "has_preview": _hook(channel, "preview") is not None,
                               "can_register": _hook(channel, "register_webhook") is not None}
    if config and _hook(channel, "published_records") is not None:
        context["records"] = _hook(channel, "published_records")(channel)
    if _hook(channel, "install_snippet") is not None:
        context["snippet"] = _hook(channel, "install_snippet")(channel)
    host = settings.PUBLIC_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    context["mail_host"] = host
    context["has_relay"] = bool(config.get("relay_url") or getattr(settings, "SMTP_RELAY_URL", ""))
    return context


def _channel_page(request: HttpRequest, channel: Channel, *, once: list[Any] | None = None, status: int = 200,
                  message: str = "", error: str = "", fields: list[forms.FormField] | None = None,
                  error_field: str = "") -> HttpResponse:
    try:
        config = channel.config
    except ValueError:  # encrypted under another SECRET_KEY: it can only be set again
        config = {}
    context: dict[str, Any] = {
        **_form_context(channel.kind, fields if fields is not None else forms.form_fields(channel.kind, config)),
        "channel": channel, "name": channel.name, "editing": True,
        "once": [(label, value, f"once-{i}") for i, (label, value) in enumerate(once or [])], "webhook_url": inbound_webhook_url(channel),
        "open_conversations": overview.open_conversations_of(channel).count(),
        "attention": channel.inbound_events.filter(needs_attention()).count(),
        "can_test": hasattr(adapter_for(channel.kind), "check_connection"),
        "rotatable": [(forms.label_of(channel.kind, n), n) for n in ONCE_FIELDS
                      if n in adapter_for(channel.kind).config_schema.model_fields],
        "config": {k: v for k, v in config.items() if not forms.is_secret(k, forms.secret_fields(channel.kind))},
        "message": message, "error": error, "error_field": error_field,
    }
    context.update(_kind_context(channel, config))
    flashed_notice, flashed_error = _flash(request)
    context["message"] = context["message"] or flashed_notice
    context["error"] = context["error"] or flashed_error
    return _render(request, "web/admin/channel.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_CHANNELS)
def channel_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    agent = _agent(request)
    channel = access_channel(agent, channel_id)
    if request.method == "GET":
        return _channel_page(request, channel)
    try:
        stored = channel.config
        config = forms.parse(channel.kind, request.POST, stored)
        changed = {key: value for key, value in config.items() if stored.get(key) != value}  # what the audit names
        with transaction.atomic():
            do_update_channel(agent, channel, name=request.POST.get("name", channel.name), config=changed)
    except ThreadlineError as exc:
        channel.refresh_from_db()
        fields = forms.with_posted(forms.form_fields(channel.kind, channel.config), request.POST)
        return _channel_page(request, channel, status=exc.status, error=exc.message, fields=fields,
                             error_field=exc.field or "")
    messages.success(request, _("Saved."))
    return redirect(f"/app/admin/channels/{channel.pk}")


@require_GET
@admin_screen(Permission.ADMIN_CHANNELS)
def status_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The live "last event received" indicator's data (polled by admin_channels.js)."""
    channel = access_channel(_agent(request), channel_id)
    last = channel.last_event_at
    return JsonResponse({"last_event_at": last.isoformat() if last else None, "is_active": channel.is_active,
                         "attention": channel.inbound_events.filter(needs_attention()).count()})


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_CHANNELS)
def disable_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    agent = _agent(request)
    channel = access_channel(agent, channel_id)
    effects = overview.disable_effects(channel)
    if request.method == "GET":
        return _render(request, "web/admin/channel_disable.html", {
            "channel": channel, "kind_label": _kind_label(channel.kind), "effects": effects,
            "unreachable": effects.open_conversations - effects.reachable_elsewhere})
    with transaction.atomic():
        do_set_channel_active(agent, channel, False, open_conversations=effects.open_conversations)
    messages.success(request, _("The channel is disabled."))
    return redirect(f"/app/admin/channels/{channel.pk}")


def _provider_answer(request: HttpRequest, result: Any, back: str) -> HttpResponse:
    """A provider call's result (connection test, webhook registration): JSON for the page's script, else a
    message on the channel's page."""
    if wants_json(request):
        return JsonResponse({"available": result.available, "ok": result.ok, "message": result.message})
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect(back)


@require_POST
@admin_screen(Permission.ADMIN_CHANNELS)
def enable_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    agent = _agent(request)
    channel = access_channel(agent, channel_id)
    with transaction.atomic():
        do_set_channel_active(agent, channel, True)
    messages.success(request, _("The channel is enabled."))
    return redirect(f"/app/admin/channels/{channel.pk}")


@require_POST
@admin_screen(Permission.ADMIN_CHANNELS)
def test_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The connection test: one cheap provider call with the stored credentials."""
    channel = access_channel(_agent(request), channel_id)
    result = connection.check(channel)
    return _provider_answer(request, result, f"/app/admin/channels/{channel.pk}#test")


@require_POST
@admin_screen(Permission.ADMIN_CHANNELS)
def register_webhook_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    """Register the webhook URL at the provider, where that is an API call (Telegram's setWebhook)."""
    channel = access_channel(_agent(request), channel_id)
    _required_hook(channel, "register_webhook")
    result = connection.register_webhook(channel)
    return _provider_answer(request, result, f"/app/admin/channels/{channel.pk}#guide-title")


@require_POST
@admin_screen(Permission.ADMIN_CHANNELS)
def send_test_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    """"Send a test": one real message to the address the admin typed (email: through the relay)."""
    channel = access_channel(_agent(request), channel_id)
    send = _required_hook(channel, "send_test")
    to = request.POST.get("to", "")
    try:
        send(_agent(request), channel, to)
    except ThreadlineError as exc:
        messages.error(request, exc.message)
    except ChannelError as exc:
        messages.error(request, _("The test message was not sent: %(reason)s") % {
            "reason": connection.scrubbed(str(exc), channel)})
    else:
        messages.success(request, _("A test message went to %(to)s.") % {"to": to.strip()})
    return redirect(f"/app/admin/channels/{channel.pk}#send-test")


@require_POST
@admin_screen(Permission.ADMIN_CHANNELS)
def signing_key_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    """A new signing key pair (email: DKIM): the private half stored write-only, the page shows the record."""
    agent = _agent(request)
    channel = access_channel(agent, channel_id)
    generate = _required_hook(channel, "new_signing_key")
    try:
        with transaction.atomic():
            generate(agent, channel, request.POST.get("selector", ""))
    except ThreadlineError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("A new key is stored. Publish the DNS record below; mail is signed with it "
                                    "from now on."))
    return redirect(f"/app/admin/channels/{channel.pk}#records")


@require_POST
@admin_screen(Permission.ADMIN_CHANNELS)
def rotate_view(request: HttpRequest, channel_id: int, field: str) -> HttpResponse:
    """A new generated secret (identity-verification key, verify token...), shown once on the answer."""
    agent = _agent(request)
    channel = access_channel(agent, channel_id)
    if field not in ONCE_FIELDS or field not in adapter_for(channel.kind).config_schema.model_fields:
        raise NotFound(_("This channel has no such setting."), code="unknown_field")
    make = forms.GENERATED.get(field, lambda: crypto.new_secret(32).replace("=", ""))
    with transaction.atomic():
        do_rotate_channel_secret(agent, channel, field, make())
    once = [(label, value) for label, value in forms.shown_once(channel.kind, channel.config)
            if label == forms.label_of(channel.kind, field)]
    return _channel_page(request, channel, once=once, message=_(
        "A new value is stored. Copy it now and replace the old one where it is used: it is not shown again."))


@xframe_options_sameorigin
@require_GET
@admin_screen(Permission.ADMIN_CHANNELS)
def preview_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The widget editor's live preview: the kind's own customer-facing view with the editor's unsaved
    settings applied (`?color=...&title=...`); it opens no session and sends nothing."""
    channel = access_channel(_agent(request), channel_id)
    return _required_hook(channel, "preview")(request, channel, request.GET)
