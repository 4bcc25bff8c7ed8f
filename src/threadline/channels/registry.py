"""Channel kinds by slug. Adding a channel is one folder and one line here; core never names a kind."""

from __future__ import annotations

from importlib import import_module

from django.utils.translation import gettext as _

from threadline.channels.base import ChannelAdapter
from threadline.core.errors import NotFound

ADAPTERS: dict[str, str] = {
    "api": "threadline.channels.api.adapter:ApiAdapter",
    "email": "threadline.channels.email.adapter:EmailAdapter",
    "sms": "threadline.channels.sms.adapter:SmsAdapter",
    "whatsapp": "threadline.channels.whatsapp.adapter:WhatsAppAdapter",
    "voice": "threadline.channels.voice.adapter:VoiceAdapter",
    "telegram": "threadline.channels.telegram.adapter:TelegramAdapter",
    "messenger": "threadline.channels.messenger.adapter:MessengerAdapter",
    "instagram": "threadline.channels.messenger.adapter:InstagramAdapter",
    "line": "threadline.channels.line.adapter:LineAdapter",
    "wechat": "threadline.channels.wechat.adapter:WeChatAdapter",
    "webchat": "threadline.channels.webchat.adapter:WebchatAdapter",
    "portal": "threadline.channels.portal.adapter:PortalAdapter",
}

_instances: dict[str, ChannelAdapter] = {}


def adapter_for(kind: str) -> ChannelAdapter:
    if kind not in ADAPTERS:
        raise NotFound(_("Unknown channel kind %(kind)s.") % {"kind": kind}, code="unknown_channel_kind")
    if kind not in _instances:
        module, _sep, attr = ADAPTERS[kind].partition(":")
        _instances[kind] = getattr(import_module(module), attr)()
    return _instances[kind]


def kinds() -> list[str]:
    return sorted(ADAPTERS)
