"""Facebook Messenger and Instagram Direct through Meta's Messenger Platform (one code path, two kinds).

Inbound: `POST /hooks/messenger/<id>/` (object `page`) or `/hooks/instagram/<id>/` (object `instagram`),
signed with `X-Hub-Signature-256`; `entry[].messaging[]` events: `message` (text, attachments image/video/
audio/file, stickers, quick replies, replies to a message, edits via `message_edit`, Instagram's
`is_deleted`/`is_unsupported`, story replies `reply_to.story` and `story_mention`s kept as `metadata.story`,
shares), `postback` (buttons), `reaction`, `referral`
(ads, m.me links), `delivery` (mids) and `read` (watermark) receipts; echoes of our own sends are skipped.
The sender's name and picture come from the User Profile API on first contact.
Rules: free text within 24 hours of the customer's last message; after that, with `human_agent_tag` on, a
human agent may still answer for 7 days (tag HUMAN_AGENT); otherwise only a message tag (`template`
name = tag) allowed on that platform.
Outbound: `POST {graph}/{page_id}/messages` (`/me/messages` for Instagram); files are uploaded with the
message (Messenger) or sent as signed links Meta fetches (Instagram).
Public items (`entry[].changes[]`: the Page's `feed`, Instagram `comments` and `mentions`) become
`PublicItemEvent`s, answered and moderated in public through `feed.py`; a private reply to a comment is a
send with `recipient: {comment_id}` (its answer names the person's id, kept as their identity).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar

from django.http import HttpResponse
from django.utils.translation import gettext as _
from pydantic import BaseModel, Field

from threadline.channels import choices, provider_http
from threadline.channels.base import (
    Capabilities,
    ChannelError,
    DeliveryResult,
    DeliveryStatusUpdate,
    InboundItem,
    InboundMessage,
    InboundRequest,
    InboundRoute,
    OutboundMessage,
    PermanentSendError,
)
from threadline.channels.messenger import feed
from threadline.channels.meta import graph, routing
from threadline.channels.meta.window import last_customer_message_at
from threadline.channels.models import Channel
from threadline.channels.sms import media
from threadline.core.errors import ValidationFailed
from threadline.core.time import now

WINDOW = dt.timedelta(hours=24)
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)
MESSENGER_TAGS = ("HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE")
ATTACHMENT_TYPES = {"image": "image", "video": "video", "audio": "audio", "file": "file"}


class MessengerConfig(BaseModel):
    page_id: str = Field(min_length=1, max_length=64, description="Page id (Messenger) or Instagram account id")
    access_token: str = Field(min_length=8, max_length=1000, description="Page access token")
    app_secret: str = Field(min_length=8, max_length=200)
    verify_token: str = Field(min_length=8, max_length=200)
    graph_base_url: str = Field(default="https://graph.facebook.com/v21.0", max_length=500)
    human_agent_tag: bool = Field(default=True, description="Answer up to 7 days with the HUMAN_AGENT tag")


def _at(ms: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC)
    except (TypeError, ValueError):
        return None


def _story(kind: str, story: dict[str, Any]) -> dict[str, str]:
    """The Instagram story a message refers to: its id and Meta's CDN URL (the media is not stored: Meta
    asks that ephemeral story content is only shown from its URL, which stops working when the story ends)."""
    url = str(story.get("url", "") or "")
    return {"kind": kind, "id": str(story.get("id", "") or ""), "url": url if url.startswith("https://") else ""}


class MessengerAdapter:
    kind: ClassVar[str] = "messenger"
    identity_kind: ClassVar[str] = "messenger"
    webhook_object: ClassVar[str] = "page"
    tags: ClassVar[tuple[str, ...]] = MESSENGER_TAGS
    profile_fields: ClassVar[str] = "first_name,last_name,profile_pic"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text=True, media=True, templates=True, read_receipts=True, typing=True, max_length=2000,
        reply_window_hours=24, interactive=True, max_choices=13)
    account_fields: ClassVar[str] = "name"  # what check_connection reads of the Page
    config_schema: ClassVar[type[BaseModel]] = MessengerConfig

    # ── inbound ──
    def verify(self, request: InboundRequest, channel: Channel) -> None:
        graph.verify(request, channel.config["app_secret"])

    def handshake(self, request: InboundRequest, channel: Channel) -> HttpResponse:
        return media.serve(request, channel) or graph.handshake(request, channel)

    # ── one app, many Pages and accounts (meta/routing.py) ──
    def owns(self, channel: Channel, owner_id: str) -> bool:
        return channel.config.get("page_id") == owner_id

    @provider_http.tolerant
    def owner_ids(self, doc: dict[str, Any]) -> list[str]:
        """The Page (Messenger) or Instagram account (Instagram) of each entry carrying messaging events or
        public-item changes (feed, comments, mentions)."""
        return [str(entry.get("id", "")) for entry in routing.entries(doc, self.kind)
                if entry.get("messaging") or feed.changes(entry, self.kind)]

    @provider_http.tolerant
    def route(self, request: InboundRequest, channel: Channel) -> list[InboundRoute]:
        return routing.route(request, channel)

    def _owned(self, request: InboundRequest, channel: Channel) -> list[dict[str, Any]]:
        return [entry for entry in routing.entries(graph.document(request), self.kind)
                if self.owns(channel, str(entry.get("id", "")))]

    @staticmethod
    def _events(owned: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The messaging events of the entries this channel's Page or account owns."""
        return [event for entry in owned for event in entry.get("messaging", []) or [] if isinstance(event, dict)]

    @provider_http.tolerant
    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        ids = []
        owned = self._owned(request, channel)
        for event in self._events(owned):
            for key in ("message", "postback", "reaction", "message_edit"):
                if isinstance(event.get(key), dict) and event[key].get("mid"):
                    item = event[key]
                    ids.append(f"{key}:{item['mid']}:{item.get('num_edit', '')}:{item.get('action', '')}:"
                               f"{item.get('is_deleted', '')}")
            if isinstance(event.get("delivery"), dict):
                ids += [f"delivery:{m}" for m in event["delivery"].get("mids", []) or []]
            if isinstance(event.get("read"), dict):
                ids.append(f"read:{event.get('sender', {}).get('id')}:{event['read'].get('watermark')}")
        for entry in owned:
            ids += feed.change_ids(entry, self.kind)
        return graph.payload_key(ids, request.body)

    @provider_http.tolerant
    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        items: list[InboundItem] = []
        owned = self._owned(request, channel)
        for event in self._events(owned):
            sender = str((event.get("sender") or {}).get("id", ""))
            if not sender or sender == channel.config["page_id"]:
                continue
            if isinstance(event.get("delivery"), dict):
                items += [DeliveryStatusUpdate(mid, "delivered", at=_at(event["delivery"].get("watermark")))
                          for mid in event["delivery"].get("mids", []) or []]
            elif isinstance(event.get("read"), dict):
                items += self._read(channel, sender, _at(event["read"].get("watermark")))
            else:
                message = self._message(channel, event, sender)
                if message is not None:
                    items.append(message)
        for entry in owned:
            items += feed.parse(channel, self.kind, entry)
        return items

    def _read(self, channel: Channel, sender: str, watermark: dt.datetime | None) -> list[InboundItem]:
        """Meta's read receipt names a time, not messages: every reply sent before it was read."""
        from threadline.conversations.models import Message

        if watermark is None:
            return []
        sent = Message.objects.filter(channel=channel, direction="out", identity__address=sender,
                                      status__in=["sent", "delivered"], sent_at__lte=watermark)
        return [DeliveryStatusUpdate(pid, "read", at=watermark)
                for pid in sent.exclude(provider_message_id="").values_list("provider_message_id", flat=True)]

    def _message(self, channel: Channel, event: dict[str, Any], sender: str) -> InboundMessage | None:
        metadata: dict[str, Any] = {}
        attachments = []
        references: tuple[str, ...] = ()
        if isinstance(event.get("message"), dict):
            message = event["message"]
            if message.get("is_echo"):
                return None
            mid, text = message.get("mid", ""), message.get("text", "")
            if message.get("is_deleted"):
                text, metadata["deleted"] = _("(message deleted)"), True
                mid = f"{mid}:deleted"
                references = (message.get("mid", ""),)
            elif message.get("is_unsupported"):
                text = _("(unsupported message)")
            if message.get("quick_reply"):
                metadata["payload"] = message["quick_reply"].get("payload", "")
                metadata["choice"] = str(metadata["payload"])[:200]
            reply_to = message.get("reply_to") or {}
            if reply_to.get("mid"):
                references = (reply_to["mid"],)
            if isinstance(reply_to.get("story"), dict):  # Instagram: a reply to the account's story
                metadata["story"] = _story("reply", reply_to["story"])
            if message.get("sticker_id"):
                text = text or _("(sticker)")
                metadata["sticker_id"] = message["sticker_id"]
            for index, item in enumerate(message.get("attachments", []) or []):
                kind, payload = item.get("type", ""), item.get("payload") or {}
                if kind in ATTACHMENT_TYPES and payload.get("url") and not message.get("sticker_id"):
                    fetched = graph.fetch(channel, payload["url"], filename=f"{kind}-{index}", with_token=False)
                    if fetched is not None:
                        attachments.append(fetched)
                elif kind == "location":
                    coordinates = payload.get("coordinates", {})
                    text = _("Location: %(lat)s, %(lon)s") % {"lat": coordinates.get("lat"),
                                                              "lon": coordinates.get("long")}
                    metadata["location"] = coordinates
                elif kind == "story_mention":  # Instagram: the customer mentioned the account in a story
                    metadata["story"] = _story("mention", payload)
                    text = text or _("(mentioned you in their story)")
                else:  # share, ig_reel, fallback, template
                    metadata.setdefault("shared", []).append(item)
                    text = text or _("(shared %(type)s)") % {"type": kind}
            if not text and not attachments:
                text = _("(unsupported message)")
        elif isinstance(event.get("message_edit"), dict):
            edit = event["message_edit"]
            mid = f"{edit.get('mid')}:edit:{edit.get('num_edit', '')}"
            text = _("(edited) %(text)s") % {"text": edit.get("text", "")}
            metadata["edit_of"] = edit.get("mid")
            references = (edit.get("mid", ""),)
        elif isinstance(event.get("postback"), dict):
            postback = event["postback"]
            mid = postback.get("mid") or f"postback:{event.get('timestamp')}:{sender}"
            text, metadata["payload"] = postback.get("title", ""), postback.get("payload", "")
            metadata["choice"] = str(metadata["payload"])[:200]
            if postback.get("referral"):
                metadata["referral"] = postback["referral"]
        elif isinstance(event.get("reaction"), dict):
            reaction = event["reaction"]
            mid = f"reaction:{reaction.get('mid')}:{reaction.get('action')}:{event.get('timestamp')}"
            emoji = reaction.get("emoji") or reaction.get("reaction", "")
            text = (_("Reacted %(emoji)s") % {"emoji": emoji} if reaction.get("action") == "react"
                    else _("Removed a reaction"))
            metadata["reaction"] = {"message_id": reaction.get("mid"), "emoji": emoji}
            references = (reaction.get("mid", ""),)
        elif isinstance(event.get("referral"), dict):
            referral = event["referral"]
            mid = f"referral:{event.get('timestamp')}:{sender}"
            text = _("Arrived from %(source)s") % {"source": referral.get("source", "")}
        else:
            return None  # optins, handovers, policy notices: acknowledged and recorded
        if isinstance(event.get("referral"), dict) or (event.get("message") or {}).get("referral"):
            metadata["referral"] = event.get("referral") or event["message"]["referral"]
        name, picture = self._profile(channel, sender)
        if picture:
            metadata["sender_picture"] = picture
        return InboundMessage(
            provider_message_id=mid, sender_kind=self.identity_kind, sender_address=sender, sender_name=name,
            sender_verified=True, text=text, sent_at=_at(event.get("timestamp")), attachments=tuple(attachments),
            metadata=metadata, references=tuple(r for r in references if r),
        )

    def _profile(self, channel: Channel, sender: str) -> tuple[str, str]:
        """Name and picture from the User Profile API, asked once per customer; failures are not fatal."""
        from threadline.contacts.models import ContactIdentity

        if ContactIdentity.objects.filter(workspace_id=channel.workspace_id, kind=self.identity_kind,
                                          address=sender).exists():
            return "", ""
        url = f"{channel.config['graph_base_url'].rstrip('/')}/{sender}?fields={self.profile_fields}"
        try:
            profile = graph.get_json(channel, url)
        except ChannelError:  # the profile is a nicety: never hold the message back for it
            return "", ""
        name = profile.get("name") or " ".join(x for x in (profile.get("first_name"), profile.get("last_name")) if x)
        return name or profile.get("username", ""), profile.get("profile_pic", "")

    # ── rules ──
    def _window(self, channel: Channel, address: str) -> tuple[dt.datetime | None, str]:
        """("RESPONSE" | "HUMAN_AGENT" | "", last customer message time)."""
        last = last_customer_message_at(channel, address, self.identity_kind)
        if last is not None and now() - last <= WINDOW:
            return last, "RESPONSE"
        if last is not None and channel.config.get("human_agent_tag", True) and now() - last <= HUMAN_AGENT_WINDOW:
            return last, "HUMAN_AGENT"
        return last, ""

    def check_send(self, conversation: Any, identity: Any, channel: Channel, *, template: dict | None = None) -> None:
        if template is not None and template["name"] != "interactive":
            if template["name"] not in self.tags:
                raise ValidationFailed(_("%(name)s is not a message tag this channel accepts (%(tags)s).")
                                       % {"name": template["name"], "tags": ", ".join(self.tags)},
                                       code="unknown_template", field="template.name")
            return
        last, mode = self._window(channel, identity.address)
        if not mode:
            raise ValidationFailed(
                _("More than %(hours)d hours have passed since the customer last wrote here; "
                  "send with a message tag instead.") % {"hours": 24 * 7 if channel.config.get("human_agent_tag", True)
                                                          else 24},
                code="outside_reply_window", field="template")

    def send_hints(self, conversation: Any, identity: Any, channel: Channel, *, text: str = "") -> dict[str, Any]:
        last, mode = self._window(channel, identity.address)
        return {"window_ends_at": (last + WINDOW).isoformat() if last else None, "window_open": mode == "RESPONSE",
                "human_agent_tag": mode == "HUMAN_AGENT", "tags": list(self.tags)}

    # ── outbound ──
    def check_connection(self, channel: Channel) -> str:
        """GET the Page (Messenger) or the Instagram account the token is for: its name."""
        config = channel.config
        account = graph.get_json(channel, f"{config['graph_base_url'].rstrip('/')}/{config['page_id']}"
                                          f"?fields={self.account_fields}")
        name = account.get("username") or account.get("name")
        if not name:
            raise PermanentSendError("the account has no name")
        return f"@{name}" if account.get("username") else str(name)

    def _endpoint(self, channel: Channel) -> str:
        return f"{channel.config['graph_base_url'].rstrip('/')}/{channel.config['page_id']}/messages"

    # ── public items (social) ──
    def public_reply(self, channel: Channel, target_id: str, text: str, *, kind: str, source: str = "",
                     parent_id: str = "", root_id: str = "") -> str:
        return feed.public_reply(channel, self.kind, target_id, text, item_kind=kind, parent_id=parent_id,
                                 root_id=root_id)

    def hide_public(self, channel: Channel, target_id: str, hidden: bool) -> None:
        feed.hide(channel, self.kind, target_id, hidden)

    def delete_public(self, channel: Channel, target_id: str) -> None:
        feed.delete(channel, target_id)

    def _private_reply(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        """A private reply to a public comment: one message, to the comment; Meta answers with the person's
        id on this Page or account, which becomes their identity (see DeliveryResult.recipient_address)."""
        answer = graph.post_json(channel, self._endpoint(channel), {
            "recipient": {"comment_id": message.metadata["private_reply_to"]}, "message": {"text": message.text}})
        return DeliveryResult(provider_message_id=self._mid(answer),
                              recipient_address=str(answer.get("recipient_id", "") or ""))

    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        if message.metadata.get("private_reply_to"):
            return self._private_reply(message, channel)
        head: dict[str, Any] = {"recipient": {"id": message.recipient_address}}
        interactive = bool(message.template and message.template["name"] == "interactive")
        if message.template and not interactive:
            head.update(messaging_type="MESSAGE_TAG", tag=message.template["name"])
        else:
            _last, mode = self._window(channel, message.recipient_address)
            head.update({"messaging_type": "RESPONSE"} if mode != "HUMAN_AGENT"
                        else {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"})
        first = ""
        if message.text:
            body: dict[str, Any] = {"text": message.text}
            offered = choices.buttons(message)
            if offered:  # quick replies: title <= 20 characters, at most 13
                body["quick_replies"] = [{"content_type": "text", "title": b["title"][:20], "payload": b["id"]}
                                         for b in offered[:self.capabilities.max_choices]]
            answer = graph.post_json(channel, self._endpoint(channel), {**head, "message": body})
            first = self._mid(answer)
        for item in message.metadata.get("attachments", []):
            mid = self._mid(self._send_file(channel, head, item))
            first = first or mid
        return DeliveryResult(provider_message_id=first)

    def _send_file(self, channel: Channel, head: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        from threadline.conversations.models import Attachment

        kind = graph.media_kind(item["content_type"])
        kind = "file" if kind == "document" else kind
        attachment = Attachment.objects.get(pk=item["id"])
        with attachment.file.open("rb") as handle:
            content = handle.read()
        fields = {key: json.dumps(value) if isinstance(value, dict) else value for key, value in head.items()}
        fields["message"] = json.dumps({"attachment": {"type": kind, "payload": {"is_reusable": False}}})
        return graph.upload(channel, self._endpoint(channel), fields, item["filename"], item["content_type"],
                            content, file_field="filedata")

    def _mid(self, answer: dict[str, Any]) -> str:
        if not answer.get("message_id"):
            raise PermanentSendError(f"Meta answered without a message_id: {answer}")
        return str(answer["message_id"])


class InstagramAdapter(MessengerAdapter):
    kind: ClassVar[str] = "instagram"
    identity_kind: ClassVar[str] = "instagram"
    webhook_object: ClassVar[str] = "instagram"
    tags: ClassVar[tuple[str, ...]] = ("HUMAN_AGENT",)
    profile_fields: ClassVar[str] = "name,username,profile_pic"
    account_fields: ClassVar[str] = "username"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text=True, media=True, templates=True, read_receipts=True, max_length=1000, reply_window_hours=24,
        interactive=True, max_choices=13)

    def _send_file(self, channel: Channel, head: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        """Instagram takes no uploads with the message: Meta fetches a signed link to the file."""
        kind = graph.media_kind(item["content_type"])
        payload = {"type": "file" if kind == "document" else kind, "payload": {"url": media.media_link(channel, item["id"])}}
        return graph.post_json(channel, self._endpoint(channel), {**head, "message": {"attachment": payload}})
