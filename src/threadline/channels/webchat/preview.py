"""For the widget editor of /app/admin/channels: the install snippet, and the real chat frame with the editor's
unsaved look applied (`?color=...&title=...&greetings=en: Hi`), opening no session and sending nothing."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from pydantic import ValidationError

from threadline.channels.models import Channel
from threadline.channels.webchat.config import WebchatConfig
from threadline.channels.webchat.views import render_frame
from threadline.core import security_headers

LOOK = ("color", "title", "position", "prechat", "offline", "offline_message", "language")


def install_snippet(channel: Channel) -> str:
    return ("<script>\n  window.Threadline = window.Threadline || function () "
            "{ (Threadline.q = Threadline.q || []).push(arguments); };\n</script>\n"
            f'<script src="{settings.PUBLIC_URL}/widget.js" data-channel="{channel.pk}" async></script>')


def previewed(stored: dict, overrides: QueryDict) -> WebchatConfig:
    """The stored config with the editor's fields over it; the stored look while a value is half typed."""
    wanted: dict = {key: overrides[key] for key in LOOK if key in overrides}
    if "greetings" in overrides:  # the editor's "language: text" lines
        pairs = [line.partition(":") for line in overrides["greetings"].splitlines()]
        wanted["greetings"] = {k.strip(): v.strip() for k, sep, v in pairs if sep and v.strip()}
    if "prechat_fields" in overrides:
        wanted["prechat_fields"] = overrides.getlist("prechat_fields")
    try:
        return WebchatConfig.model_validate({**stored, **wanted})
    except ValidationError:
        return WebchatConfig.model_validate(stored)


def preview_response(request: HttpRequest, channel: Channel, overrides: QueryDict) -> HttpResponse:
    config = previewed(channel.config, overrides)
    response = render_frame(request, channel, config, agents_available=overrides.get("online") != "0", preview=True)
    response["Content-Security-Policy"] = security_headers.policy(request, frame_ancestors="'self'")
    return response
