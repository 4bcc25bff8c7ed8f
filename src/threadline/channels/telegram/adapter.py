"""Telegram through the Bot API.

Inbound: `POST /hooks/telegram/<channel_id>/` registered with `setWebhook(url, secret_token=...)`; Telegram
sends `X-Telegram-Bot-Api-Secret-Token` with that secret (compared in constant time; there is no body
signature). One `Update` per request, keyed by `update_id`: `message` (text, photo, document, audio, voice,
video, video_note, animation, sticker, location, venue, contact), `edited_message`, `callback_query`
(inline buttons), `message_reaction`; other update types are acknowledged and recorded. Files are fetched
with `getFile` then `/file/bot<token>/<file_path>`.
Outbound: `sendMessage` (with an inline keyboard when the reply has buttons), `sendPhoto`, `sendDocument`,
`sendAudio`, `sendVideo` (multipart uploads). Telegram has no delivery receipts for bots.
Groups and supergroups: their messages are one conversation per chat (`thread_key` = the chat id, the title as
subject), each sender still their own identity; replies in it go to the group's `chat_id`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any, ClassVar

from django.utils.translation import gettext as _
from pydantic import BaseModel, Field

from threadline.channels import choices, provider_http
from threadline.channels.base import (
    Capabilities,
    DeliveryResult,
    InboundAttachment,
    InboundItem,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    RateLimited,
    TransientSendError,
    VerificationError,
)
from threadline.channels.models import Channel
from threadline.core import crypto, http
from threadline.core.errors import ValidationFailed

logger = logging.getLogger(__name__)
SECRET_HEADER = "x-telegram-bot-api-secret-token"
FILE_FIELDS = ("document", "audio", "voice", "video", "video_note", "animation", "sticker")
SEND_METHODS = {"image": ("sendPhoto", "photo"), "audio": ("sendAudio", "audio"), "video": ("sendVideo", "video")}


class TelegramConfig(BaseModel):
    bot_token: str = Field(min_length=10, max_length=200)
    secret_token: str = Field(min_length=16, max_length=256, pattern=r"^[A-Za-z0-9_-]+$",
                              default_factory=lambda: crypto.new_secret(32).replace("=", ""))
    api_base_url: str = Field(default="https://api.telegram.org", max_length=500)


def _at(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (TypeError, ValueError):
        return None


GROUP_TYPES = ("group", "supergroup")


def _group(chat: Any) -> str:
    """The thread key of a group or supergroup chat (its id), "" for a private chat."""
    return str(chat.get("id", "")) if isinstance(chat, dict) and chat.get("type") in GROUP_TYPES else ""


def _label(query: dict[str, Any]) -> str:
    """The text of the inline button the customer pressed (from the message it was under)."""
    markup = (query.get("message") or {}).get("reply_markup") or {}
    for row in markup.get("inline_keyboard") or []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == query.get("data"):
                return str(button.get("text", ""))
    return ""


def _name(user: dict[str, Any]) -> str:
    return " ".join(x for x in (user.get("first_name"), user.get("last_name")) if x) or user.get("username", "")


class TelegramAdapter:
    kind: ClassVar[str] = "telegram"
    identity_kind: ClassVar[str] = "telegram"
    capabilities: ClassVar[Capabilities] = Capabilities(text=True, media=True, typing=True, max_length=4096,
                                                        interactive=True, max_choices=100)
    config_schema: ClassVar[type[BaseModel]] = TelegramConfig

    def verify(self, request: InboundRequest, channel: Channel) -> None:
        given = request.headers.get(SECRET_HEADER, "")
        if not given:
            raise VerificationError("missing X-Telegram-Bot-Api-Secret-Token header")
        if not crypto.constant_time_equals(given, channel.config["secret_token"]):
            raise VerificationError("X-Telegram-Bot-Api-Secret-Token does not match")

    def _update(self, request: InboundRequest) -> dict[str, Any]:
        try:
            update = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PayloadError(f"body is not JSON: {exc}") from exc
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise PayloadError("an Update with an integer update_id is required")
        return update

    @provider_http.tolerant
    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        return str(self._update(request)["update_id"])

    @provider_http.tolerant
    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        update = self._update(request)
        if isinstance(update.get("message"), dict):
            return [self._message(channel, update["message"])]
        if isinstance(update.get("edited_message"), dict):
            return [self._message(channel, update["edited_message"], edited=True)]
        if isinstance(update.get("callback_query"), dict):
            query = update["callback_query"]
            user = query.get("from") or {}
            self._answer_callback(channel, query)
            label = _label(query)
            return [InboundMessage(
                provider_message_id=f"callback:{query.get('id')}", sender_kind="telegram",
                sender_address=str(user.get("id", "")), sender_name=_name(user), sender_verified=True,
                text=label or _("Pressed: %(data)s") % {"data": query.get("data", "")},
                metadata=choices.picked({"type": "callback_query", "data": query.get("data", ""),
                                         "language": user.get("language_code", "")}, query.get("data")),
                thread_key=_group((query.get("message") or {}).get("chat")),
            )]
        if isinstance(update.get("message_reaction"), dict):
            reaction = update["message_reaction"]
            user = reaction.get("user") or {}
            if not user:
                return []  # anonymous (channel) reactions name nobody
            emojis = [r.get("emoji", "") for r in reaction.get("new_reaction", []) if r.get("type") == "emoji"]
            text = _("Reacted %(emoji)s") % {"emoji": " ".join(emojis)} if emojis else _("Removed a reaction")
            chat = (reaction.get("chat") or {}).get("id")
            return [InboundMessage(
                provider_message_id=f"reaction:{update['update_id']}", sender_kind="telegram",
                sender_address=str(user.get("id", "")), sender_name=_name(user), sender_verified=True, text=text,
                sent_at=_at(reaction.get("date")),
                metadata={"type": "reaction", "reaction": {"message_id": f"{chat}:{reaction.get('message_id')}",
                                                           "emoji": emojis}},
                thread_key=_group(reaction.get("chat")),
            )]
        return []  # my_chat_member, poll, channel_post...: acknowledged, nothing to show

    def _message(self, channel: Channel, message: dict[str, Any], *, edited: bool = False) -> InboundMessage:
        user = message.get("from") or {}
        chat = message.get("chat") or {}
        text = message.get("text") or message.get("caption") or ""
        metadata: dict[str, Any] = {"chat_id": chat.get("id"), "chat_type": chat.get("type", ""),
                                    "language": user.get("language_code", "")}
        attachments: list[InboundAttachment] = []
        if message.get("photo"):
            largest = max(message["photo"], key=lambda p: p.get("file_size", 0) or p.get("width", 0))
            attachments += self._file(channel, largest, f"photo-{message.get('message_id')}.jpg", "image/jpeg")
        for field in FILE_FIELDS:
            item = message.get(field)
            if isinstance(item, dict):
                name = item.get("file_name") or f"{field}-{message.get('message_id')}"
                attachments += self._file(channel, item, name, item.get("mime_type", ""))
                metadata["type"] = field
        if message.get("sticker"):
            text = text or _("(sticker %(emoji)s)") % {"emoji": message["sticker"].get("emoji", "")}
        if isinstance(message.get("location"), dict) and not message.get("venue"):
            loc = message["location"]
            text = _("Location: %(lat)s, %(lon)s") % {"lat": loc.get("latitude"), "lon": loc.get("longitude")}
            metadata["location"] = loc
        if isinstance(message.get("venue"), dict):
            venue = message["venue"]
            text = _("Location: %(title)s, %(address)s") % {"title": venue.get("title", ""),
                                                             "address": venue.get("address", "")}
            metadata["location"] = venue
        if isinstance(message.get("contact"), dict):
            contact = message["contact"]
            text = _("Contact: %(name)s %(phone)s") % {"name": _name(contact), "phone": contact.get("phone_number", "")}
            metadata["contact"] = contact
        if not text and not attachments:
            kinds = [k for k in message if k not in ("message_id", "from", "chat", "date")]
            text = _("(unsupported Telegram message: %(type)s)") % {"type": ", ".join(kinds[:3]) or "empty"}
        provider_id = f"{chat.get('id')}:{message.get('message_id')}"
        references: tuple[str, ...] = ()
        if isinstance(message.get("reply_to_message"), dict):
            references = (f"{chat.get('id')}:{message['reply_to_message'].get('message_id')}",)
        if edited:
            metadata["edit_of"] = provider_id
            provider_id = f"{provider_id}:edit:{message.get('edit_date', '')}"
            text = _("(edited) %(text)s") % {"text": text}
            references = (metadata["edit_of"],)
        group = _group(chat)
        if group:
            metadata["chat_title"] = chat.get("title", "")
        return InboundMessage(
            provider_message_id=provider_id, sender_kind="telegram", sender_address=str(user.get("id", "")),
            sender_name=_name(user), sender_verified=True, text=text, sent_at=_at(message.get("date")),
            attachments=tuple(attachments), metadata=metadata, references=references,
            thread_key=group, subject=chat.get("title", "") if group else "",
        )

    def _answer_callback(self, channel: Channel, query: dict[str, Any]) -> None:
        """answerCallbackQuery, so the customer's app stops showing the button as pending. Best effort: the
        pick is stored whether or not Telegram takes the answer (it expires after a while anyway)."""
        if not query.get("id"):
            return
        try:
            self._post(channel, "answerCallbackQuery", json_body={"callback_query_id": str(query["id"])})
        except (PermanentSendError, TransientSendError) as exc:
            logger.info("answerCallbackQuery failed on channel %s: %s", channel.pk, exc)

    def _api(self, channel: Channel, method: str) -> str:
        config = channel.config
        return f"{config['api_base_url'].rstrip('/')}/bot{config['bot_token']}/{method}"

    def _file(self, channel: Channel, item: dict[str, Any], filename: str, content_type: str) -> list[InboundAttachment]:
        from urllib.parse import quote

        file_id = item.get("file_id")
        if not file_id:
            return []
        answer = provider_http.json_of(provider_http.call(
            "Telegram", lambda: http.get(f"{self._api(channel, 'getFile')}?file_id={quote(file_id)}")))
        path = (answer.get("result") or {}).get("file_path")
        if not path:
            return []
        config = channel.config
        url = f"{config['api_base_url'].rstrip('/')}/file/bot{config['bot_token']}/{path}"
        response = provider_http.call("Telegram", lambda: http.get(url))
        ctype = content_type or response.headers.get("content-type", "") or "application/octet-stream"
        if "." not in filename and "." in path:
            filename += "." + path.rsplit(".", 1)[1]
        return [InboundAttachment(filename, ctype, response.body)]

    def check_connection(self, channel: Channel) -> str:
        """getMe: the bot the token belongs to."""
        answer = provider_http.json_of(provider_http.call("Telegram", lambda: http.get(self._api(channel, "getMe"))))
        bot = answer.get("result") or {}
        if not answer.get("ok") or not bot.get("username"):
            raise PermanentSendError(str(answer.get("description") or "getMe gave no bot"))
        return f"@{bot['username']}"

    def register_webhook(self, channel: Channel, url: str) -> str:
        """setWebhook with the channel's URL and secret token (Telegram has no console for it)."""
        answer = self._post(channel, "setWebhook", json_body={"url": url, "secret_token": channel.config["secret_token"]})
        if not answer.get("ok"):
            raise PermanentSendError(str(answer.get("description") or "setWebhook failed"))
        return str(answer.get("description") or "ok")

    def check_send(self, conversation: Any, identity: Any, channel: Channel, *, template: dict | None = None) -> None:
        if template is not None and template["name"] != "interactive":
            raise ValidationFailed(_("Telegram has no templates; write the message (buttons are allowed)."),
                                   code="templates_unsupported", field="template")

    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        from threadline.conversations.models import Attachment

        chat_id = message.thread_key or message.recipient_address  # a group's conversation answers in the group
        files = message.metadata.get("attachments", [])
        first = ""
        if message.text and (not files or len(message.text) > 1024):
            body: dict[str, Any] = {"chat_id": chat_id, "text": message.text[:4096]}
            buttons = choices.buttons(message)
            if buttons:
                body["reply_markup"] = {"inline_keyboard": [[{"text": b["title"], "callback_data": b["id"]}]
                                                            for b in buttons]}
            first = self._result(self._post(channel, "sendMessage", json_body=body))
        for index, item in enumerate(files):
            attachment = Attachment.objects.get(pk=item["id"])
            method, field = SEND_METHODS.get(item["content_type"].split("/")[0], ("sendDocument", "document"))
            with attachment.file.open("rb") as handle:
                content = handle.read()
            data = {"chat_id": chat_id}
            if index == 0 and message.text and not first:
                data["caption"] = message.text[:1024]
            sent = self._post(channel, method, form=data, files={field: (item["filename"], content, item["content_type"])})
            first = first or self._result(sent)
        return DeliveryResult(provider_message_id=first)

    def _post(self, channel: Channel, method: str, *, json_body: dict[str, Any] | None = None,
              form: dict[str, Any] | None = None, files: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self._api(channel, method)
        if json_body is not None:
            raw = json.dumps(json_body, ensure_ascii=False).encode()
            request = lambda: http.post(url, content=raw, headers={"Content-Type": "application/json"})  # noqa: E731
        else:
            request = lambda: http.post_form(url, data=form or {}, files=files)  # noqa: E731
        try:
            return provider_http.json_of(provider_http.call("Telegram", request))
        except RateLimited:
            raise
        except (PermanentSendError, TransientSendError) as exc:  # never show the bot token in a reason
            raise type(exc)(str(exc).replace(channel.config["bot_token"], "<token>")) from exc

    def _result(self, answer: dict[str, Any]) -> str:
        result = answer.get("result") or {}
        if not answer.get("ok") or "message_id" not in result:
            raise PermanentSendError(f"Telegram answered {answer}")
        return f"{(result.get('chat') or {}).get('id')}:{result['message_id']}"
