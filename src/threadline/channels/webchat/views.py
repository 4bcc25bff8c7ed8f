"""The widget's HTTP side: `/widget.js` (the loader), the chat frame, and the frame's small JSON API.

The frame is served by Threadline, so its requests are same-origin; the visitor token travels in the
`X-Visitor-Token` header (no cookies, hence no CSRF exposure). Only `/widget.js` and the config are read
cross-origin by the loader on the customer's site. Errors are JSON `{"code", "message"}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from threadline.channels.base import InboundAttachment
from threadline.channels.models import Channel
from threadline.channels.webchat import actions, queries
from threadline.channels.webchat.config import LANGUAGES, WebchatConfig, load
from threadline.channels.webchat.models import Visitor
from threadline.conversations.attachments import attachment_response
from threadline.conversations.models import Attachment
from threadline.core import jsonsafe, security_headers
from threadline.core.client_address import client_address
from threadline.core.errors import NotFound, PermissionDenied, RateLimited, ThreadlineError, ValidationFailed
from threadline.crisis.queries import active_notice
from threadline.outreach.queries import widget_rules
from threadline.realtime.dispatch import send_to_group
from threadline.realtime.groups import contact_group

TOKEN_HEADER = "X-Visitor-Token"
MAX_FILES = 5
SESSIONS_PER_MINUTE = 60


def error(exc: ThreadlineError) -> JsonResponse:
    return JsonResponse({"code": exc.code, "message": exc.message}, status=exc.status)


def language_for(config: WebchatConfig, channel: Channel, asked: str) -> str:
    """The channel's fixed language, else the visitor's browser language when we have it, else the
    workspace's default, else English."""
    for code in (config.language, (asked or "")[:2].lower(), channel.workspace.default_language):
        if code in LANGUAGES:
            return code
    return "en"


def greeting(config: WebchatConfig, language: str) -> str:
    return config.greetings.get(language) or config.greetings.get("en") or _("Hi! How can we help you today?")


def _channel(channel_id: int) -> tuple[Channel, WebchatConfig]:
    channel = queries.live_channel(channel_id)
    if channel is None:
        raise NotFound(_("No such chat."), code="channel_not_found")
    return channel, load(channel.config)


def _visitor(request: HttpRequest, channel: Channel, *, lapsed_ok: bool = False) -> Visitor:
    """The visitor of the request's token; an identified visitor whose identity token expired is refused
    (`identity_expired`) except by identify itself, which renews it."""
    token = request.headers.get(TOKEN_HEADER) or request.GET.get("token", "")
    visitor = queries.visitor_for_token(channel, token)
    if visitor is None:
        raise NotFound(_("This chat session has expired."), code="invalid_visitor_token")
    if not lapsed_ok:
        queries.check_identity_current(visitor)
    return visitor


def _json(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > settings.THREADLINE["INBOUND_MAX_BYTES"]:
        raise ValidationFailed(_("The request is too large."), code="payload_too_large")
    try:
        document = jsonsafe.loads(request.body or b"{}")
    except jsonsafe.Unreadable as exc:
        raise ValidationFailed(_("The request is not JSON."), code="invalid_json") from exc
    if not isinstance(document, dict):
        raise ValidationFailed(_("The request is not a JSON object."), code="invalid_json")
    return document


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    return response


def visitor_state(channel: Channel, visitor: Visitor) -> dict[str, Any]:
    contact = queries.contact_of(visitor)
    return {"identified": queries.is_identified(visitor), "email": visitor.email, "name": visitor.name,
            "conversation_id": queries.current_conversation_id(channel, contact)}


# ── loader and frame ─────────────────────────────────────────────────────────────────────────────────
@require_GET
def widget_js(request: HttpRequest) -> HttpResponse:
    path = finders.find("webchat/widget.js")
    response = HttpResponse(Path(path).read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return _cors(response)


@require_GET
def config_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    try:
        channel, config = _channel(channel_id)
    except ThreadlineError as exc:
        return _cors(error(exc))
    language = language_for(config, channel, request.GET.get("lang", ""))
    with translation.override(language):
        body = {
            "channel_id": channel.pk, "title": config.title or channel.workspace.name, "color": config.color,
            "text_color": config.text_color(), "position": config.position, "language": language,
            "direction": "rtl" if translation.get_language_bidi() else "ltr",
            "greeting": greeting(config, language), "prechat": config.prechat,
            "prechat_fields": config.prechat_fields, "offline": config.offline,
            "agents_available": queries.agents_available(channel),
            "launcher_label": _("Chat with us"),
            "notice": active_notice(channel.workspace_id, language, channel.workspace.default_language),
            "proactive": widget_rules(channel.workspace_id, language), "dismiss_label": _("Dismiss"),
        }
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return _cors(response)


FRAME_STRINGS = {
    "send": lambda: _("Send"),
    "placeholder": lambda: _("Write a message…"),
    "attach": lambda: _("Attach a file"),
    "close": lambda: _("Close"),
    "online": lambda: _("We're online and reply in a few minutes."),
    "offline": lambda: _("No one is online right now."),
    "offline_ask": lambda: _("Leave your email and we will answer you there."),
    "offline_saved": lambda: _("Thanks! We will reply to %(email)s."),
    "prechat_ask": lambda: _("Before we start, how can we reach you?"),
    "name": lambda: _("Your name"),
    "email": lambda: _("Your email"),
    "save": lambda: _("Save"),
    "skip": lambda: _("Skip"),
    "portal": lambda: _("See all your requests"),
    "typing": lambda: _("%(name)s is typing…"),
    "someone": lambda: _("An agent"),
    "bot": lambda: _("Assistant"),
    "you": lambda: _("You"),
    "seen": lambda: _("Seen"),
    "delivered": lambda: _("Delivered"),
    "sending": lambda: _("Sending…"),
    "failed": lambda: _("Not sent. Tap to retry."),
    "reconnecting": lambda: _("Reconnecting…"),
    "rate_limited": lambda: _("You are sending messages too quickly. Wait a moment."),
}


@xframe_options_exempt
@require_GET
def frame_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    try:
        channel, config = _channel(channel_id)
    except ThreadlineError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
    response = render_frame(request, channel, config, agents_available=queries.agents_available(channel))
    ancestors = " ".join(config.allowed_origins) if config.allowed_origins else "*"
    response["Content-Security-Policy"] = security_headers.policy(request, frame_ancestors=ancestors)
    return response


def render_frame(request: HttpRequest, channel: Channel, config: WebchatConfig, *, agents_available: bool,
                 preview: bool = False) -> HttpResponse:
    """The chat frame of `channel` with `config`; a `preview` (the admin's widget editor) opens no session."""
    language = language_for(config, channel, request.GET.get("lang", ""))
    with translation.override(language):
        strings = {key: str(make()) for key, make in FRAME_STRINGS.items()}
        if config.offline_message:
            strings["offline"] = config.offline_message
        context = {
            "language": language, "bidi": translation.get_language_bidi(), "config": config,
            "title": config.title or channel.workspace.name, "greeting": greeting(config, language),
            "text_color": config.text_color(), "strings": strings,
            "notice": active_notice(channel.workspace_id, language, channel.workspace.default_language),
            "boot": {"channel_id": channel.pk, "language": language, "prechat": config.prechat,
                     "prechat_fields": config.prechat_fields, "offline": config.offline,
                     "agents_available": agents_available, "preview": preview},
        }
        return render(request, "webchat/frame.html", context)


# ── the frame's API ──────────────────────────────────────────────────────────────────────────────────
def _widget_api(view: Any) -> Any:
    """Resolve the channel, turn ThreadlineErrors into JSON errors, and run the view in a transaction."""

    @csrf_exempt
    def wrapped(request: HttpRequest, channel_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            channel, config = _channel(channel_id)
            language = language_for(config, channel, request.headers.get("Accept-Language", ""))
            with translation.override(language), transaction.atomic():
                return view(request, channel, *args, **kwargs)
        except ThreadlineError as exc:
            return error(exc)

    wrapped.__name__ = view.__name__
    return wrapped


@require_POST
@_widget_api
def session_view(request: HttpRequest, channel: Channel) -> HttpResponse:
    """Resume the visitor of a valid token, or start a new anonymous visitor."""
    document = _json(request)
    visitor = queries.visitor_for_token(channel, str(document.get("token") or ""))
    token = str(document.get("token") or "")
    expired = visitor is not None and queries.identity_lapsed(visitor)
    if expired:
        visitor = None  # the signed-in user's identity expired: start over anonymously (identify renews it)
    if visitor is None:
        key = f"tl:webchat:sessions:{client_address(request)}"
        cache.add(key, 0, 60)
        if cache.incr(key) > SESSIONS_PER_MINUTE:
            raise RateLimited(_("Too many new chats from this address; try again in a minute."), retry_after=60)
        visitor, token = actions.do_start_visitor(channel, locale=str(document.get("locale") or ""),
                                                  page_url=str(document.get("page_url") or ""))
    actions.do_record_visit(visitor, page_url=str(document.get("page_url") or ""),
                            user_agent=request.headers.get("User-Agent", ""), locale=str(document.get("locale") or ""))
    return JsonResponse({"token": token, "visitor": visitor_state(channel, visitor), "identity_expired": expired})


@require_POST
@_widget_api
def identify_view(request: HttpRequest, channel: Channel) -> HttpResponse:
    document = _json(request)
    visitor = _visitor(request, channel, lapsed_ok=True)
    visitor, token = actions.do_identify(channel, visitor, token=document.get("token") or "",
                                         email=str(document.get("email") or ""), name=str(document.get("name") or ""),
                                         legacy_hash=bool(document.get("user_hash")))
    body: dict[str, Any] = {"visitor": visitor_state(channel, visitor)}
    if token:
        body["token"] = token  # another user signed in on this browser: a visitor of their own
    return JsonResponse(body)


@require_POST
@_widget_api
def details_view(request: HttpRequest, channel: Channel) -> HttpResponse:
    document = _json(request)
    visitor = actions.do_leave_details(_visitor(request, channel), email=str(document.get("email") or ""),
                                       name=str(document.get("name") or ""))
    return JsonResponse({"visitor": visitor_state(channel, visitor)})


@require_POST
@_widget_api
def attributes_view(request: HttpRequest, channel: Channel) -> HttpResponse:
    actions.do_set_attributes(_visitor(request, channel), _json(request).get("attributes"))
    return JsonResponse({"status": "ok"})


@require_POST
@_widget_api
def track_view(request: HttpRequest, channel: Channel) -> HttpResponse:
    document = _json(request)
    event = actions.do_track_event(_visitor(request, channel), document.get("name"), document.get("properties"))
    return JsonResponse({"id": event.pk}, status=201)


@require_http_methods(["GET", "POST"])
@_widget_api
def messages_view(request: HttpRequest, channel: Channel) -> HttpResponse:
    """GET: the visitor's history. POST (multipart): a message with attachments."""
    visitor = _visitor(request, channel)
    if request.method == "GET":
        return JsonResponse({"messages": queries.history(channel, visitor), "visitor": visitor_state(channel, visitor)})
    files = request.FILES.getlist("files")
    if len(files) > MAX_FILES:
        raise ValidationFailed(_("At most %(n)d files at once.") % {"n": MAX_FILES}, code="too_many_files")
    attachments = tuple(InboundAttachment(f.name or "file", f.content_type or "", f.read()) for f in files)
    message = actions.do_receive_visitor_message(channel, visitor, client_id=request.POST.get("client_id"),
                                                 text=request.POST.get("text", ""), attachments=attachments)
    payload = queries.message_payload(message)
    contact_id = message.conversation.contact_id
    transaction.on_commit(lambda: send_to_group(contact_group(contact_id),
                                                {"type": "visitor.message", "message": payload}))
    return JsonResponse({"message": payload}, status=201)


@require_GET
@_widget_api
def attachment_view(request: HttpRequest, channel: Channel, attachment_id: int) -> HttpResponse:
    visitor = _visitor(request, channel)
    attachment = Attachment.objects.filter(pk=attachment_id, workspace_id=channel.workspace_id,
                                           pk__in=queries.visible_attachment_ids(channel, visitor)).first()
    if attachment is None:
        raise NotFound(_("No such file."), code="attachment_not_found")
    return attachment_response(attachment, inline_images=True)


@require_POST
@_widget_api
def portal_link_view(request: HttpRequest, channel: Channel) -> HttpResponse:
    """"See all your requests": a short-lived, single-use link into the customer portal, for a visitor the
    site identified with a signed identity token (an anonymous visitor proved nothing: 403)."""
    from threadline.portal.links import do_issue_widget_link

    visitor = _visitor(request, channel)
    contact = queries.contact_of(visitor)
    if not queries.is_identified(visitor) or contact is None:
        raise PermissionDenied(_("Sign in on the site first."), code="not_identified")
    return JsonResponse({"url": do_issue_widget_link(channel.workspace, contact, email=visitor.verified_email)})
