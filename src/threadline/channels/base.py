"""The channel adapter contract: what every channel kind implements, and the DTOs that cross it.

Core domains speak only these types; a channel's folder turns a provider's payloads into them and back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

if TYPE_CHECKING:
    from threadline.channels.models import Channel


# ── errors ───────────────────────────────────────────────────────────────────────────────────────────
class ChannelError(Exception):
    """Base of every channel error."""


class VerificationError(ChannelError):
    """The inbound request is not authentic (signature missing, wrong or stale): answer 401/403, store nothing."""


class PayloadError(ChannelError):
    """The inbound request is authentic but malformed: answer 400 with the reason."""


class TransientSendError(ChannelError):
    """Sending failed in a way that may pass (timeout, 5xx): retried with backoff."""


class RateLimited(TransientSendError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StatusBeforeItsMessage(TransientSendError):
    """A provider's status names a message id not recorded yet while a send on that channel is in flight (the
    callback overtook the send job's write of the id): the status is applied on a later try, not dropped."""


class PermanentSendError(ChannelError):
    """Sending can never succeed as is (4xx, blocked recipient): shown on the message."""


# ── DTOs ─────────────────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class InboundRequest:
    """What an edge received, before any parsing: the raw bytes are what signatures cover."""

    body: bytes
    headers: dict[str, str]  # lower-cased names
    method: str = "POST"
    query: dict[str, str] = field(default_factory=dict)
    url: str = ""
    # The body as JSON, when the edge parsed it already (its nesting check): adapters may use it instead of
    # parsing the same bytes again. None when not parsed (or not JSON); the bytes stay what is verified.
    parsed: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class InboundMessage:
    """One message from a customer, channel-neutral. `provider_message_id` is the idempotency key."""

    provider_message_id: str
    sender_kind: str  # an IdentityKind
    sender_address: str
    text: str = ""
    html: str = ""
    sender_name: str = ""
    sender_verified: bool = False
    subject: str = ""
    sent_at: dt.datetime | None = None
    references: tuple[str, ...] = ()  # provider ids of earlier messages this one answers (email References)
    conversation_hint: int | None = None  # a conversation the channel has authenticated (a signed reply token)
    # A conversation the provider names apart from the sender (a group chat's id): the messages with one key on
    # one channel are one conversation, never the sender's one-to-one one; replies go back into it.
    thread_key: str = ""
    attachments: tuple[InboundAttachment, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryStatusUpdate:
    """A provider's callback about a message Threadline sent."""

    provider_message_id: str
    status: str  # sent / delivered / read / failed
    reason: str = ""
    at: dt.datetime | None = None


@dataclass(frozen=True)
class CallEvent:
    """A phone call's progress as the provider reports it (Twilio-compatible voice webhooks).

    `event` is one of: `started` (the call reached the IVR), `answered`, `completed`, `missed`
    (no-answer/busy/failed/canceled, or the caller hung up before reaching anyone), `voicemail` (with
    `recording`), `transcription`, `callback_requested` (with `callback_number`), `queued` (sent to a
    team's queue), `survey` (the digits keyed in after the call, `metadata` {"survey_kind", "score"}). Each
    becomes a `call_<event>` row on the caller's conversation timeline.
    """

    provider_call_id: str
    event: str
    caller_kind: str  # an IdentityKind (phone)
    caller_address: str
    caller_name: str = ""
    direction: str = "inbound"
    status: str = ""  # the provider's own status word (CallStatus)
    duration_seconds: int | None = None
    recording: InboundAttachment | None = None
    recording_url: str = ""
    transcription: str = ""
    callback_number: str = ""
    team_id: int | None = None
    at: dt.datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PublicItemEvent:
    """A public post, comment, reply or mention (a Page's feed, Instagram comments and mentions, a listening
    source pushing through the API channel), or a change to one (`action` edited, remove, hide, unhide).

    Not a message: it becomes a `social.PublicItem` with its thread, author and reach; (channel, source,
    external_id) is its idempotency key. `author_kind`/`author_address` is the identity the provider gives
    (a Page-scoped or Instagram-scoped id), `author_handle` the public name or @handle.
    """

    source: str  # facebook, instagram, x, youtube, reddit, trustpilot...
    external_id: str
    action: str = "add"  # add / edited / remove / hide / unhide
    kind: str = "comment"  # post / comment / reply / mention
    parent_external_id: str = ""
    root_external_id: str = ""  # the post or media the thread hangs from
    author_kind: str = "external"  # an IdentityKind
    author_address: str = ""
    author_handle: str = ""
    author_name: str = ""
    author_reach: int | None = None  # followers, where the provider gives them
    text: str = ""
    url: str = ""
    language: str = ""
    created_at: dt.datetime | None = None
    own: bool = False  # written by the channel's own Page or account (our public replies coming back)
    metadata: dict[str, Any] = field(default_factory=dict)


InboundItem = InboundMessage | DeliveryStatusUpdate | CallEvent | PublicItemEvent


@dataclass(frozen=True)
class InboundRoute:
    """Where a verified request (or the part of it one account owns) is stored: see the `route` hook.

    `channel` None parks the request on the channel it arrived at, `failed` with `reason`, applied nowhere.
    """

    channel: Channel | None
    key: str
    reason: str = ""


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int
    conversation_id: int
    recipient_kind: str
    recipient_address: str
    text: str
    html: str = ""
    subject: str = ""
    in_reply_to: str = ""  # provider id of the customer's last message, where the channel threads on it
    thread_key: str = ""  # the group chat to answer in (the conversation's InboundMessage.thread_key), if any
    metadata: dict[str, Any] = field(default_factory=dict)
    # An approved provider template instead of free text: {"name", "language", "variables": [...]} or
    # {"name", "language", "components": [...]} in the provider's own component shape; or, with the name
    # "interactive", reply buttons under the text: {"name": "interactive", "buttons": [{"id", "title"}]}.
    template: dict[str, Any] | None = None
    # The same on every attempt of this reply's delivery (a new one only when an agent sends a failed reply
    # again): an adapter whose provider documents a key for deduplicating retries sends it there, so a reply
    # sent again after a crash (its first send's outcome not recorded) reaches the customer once.
    idempotency_key: str = ""


@dataclass(frozen=True)
class DeliveryResult:
    provider_message_id: str
    status: str = "sent"
    # The recipient's id as the provider now names them, when it differs from the address sent to (a Messenger
    # private reply to a comment answers with the person's Page-scoped id): kept as the contact's identity.
    recipient_address: str = ""


@dataclass(frozen=True)
class Capabilities:
    text: bool = True
    media: bool = False
    templates: bool = False
    typing: bool = False
    read_receipts: bool = False
    max_length: int | None = None
    reply_window_hours: int | None = None
    interactive: bool = False  # buttons / lists
    consent_required: bool = False  # sends are blocked after the recipient opted out (STOP)
    # How many reply choices (the bot's, a survey's scores) the channel shows as native buttons; more are cut
    # to this many by the adapter. 0: none, choices go as numbered text ("Reply 1 for …", channels/choices.py).
    # The answer bot and surveys read this one number.
    max_choices: int = 0


@dataclass(frozen=True)
class PublishedRecord:
    """A DNS record an admin publishes for a channel (see the optional `published_records`)."""

    purpose: str  # for a person: "DKIM signature", "Domain verification"
    name: str
    value: str
    kind: str = "TXT"
    verified: bool | None = None  # None: not checked


@dataclass
class ProviderTemplates:
    """A channel's provider-approved templates (see the optional `provider_templates`): rows with `name`,
    `language`, `category`, `status` and `variables`, when they were last synced, and whether a sync can run."""

    templates: list[Any]
    synced_at: dt.datetime | None
    can_sync: bool


@runtime_checkable
class ChannelAdapter(Protocol):
    kind: ClassVar[str]
    identity_kind: ClassVar[str]  # the IdentityKind of this channel's senders
    capabilities: ClassVar[Capabilities]
    config_schema: ClassVar[type[BaseModel]]

    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        """A key unique to this delivery of this payload (a duplicate is acknowledged and dropped)."""

    def verify(self, request: InboundRequest, channel: Channel) -> None:
        """Raise VerificationError unless the request is authentic. Works on the raw bytes only."""

    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        """Turn a verified request into channel-neutral items; raise PayloadError when malformed."""

    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        """Deliver; raise TransientSendError (retried) or PermanentSendError (shown on the message)."""


# Optional adapter methods (looked up with hasattr, so a channel implements only what it needs):
#   handshake(request, channel) -> HttpResponse
#       answers a provider's GET subscription check (Meta hub.challenge, WeChat echostr).
#   route(request, channel) -> list[InboundRoute]
#       for providers with one callback URL for many accounts (a Meta app's numbers and Pages): called after
#       verify instead of idempotency_key; the request is stored once per owning channel (which then parses
#       only its own part) and parked on `channel` for the parts no channel owns.
#   handle_sync(request, channel) -> HttpResponse
#       a webhook whose answer is computed now (voice TwiML); the adapter still stores an InboundEvent.
#   check_send(conversation, identity, channel, *, template=None) -> None
#       raises threadline.core.errors.ValidationFailed with a stable code (`outside_reply_window`,
#       `no_consent`, `template_required`, `unknown_template`...) and a translatable message when a reply
#       may not go out on this channel now. Called before a reply is stored and by the reachability query.
#   cannot_deliver(channel) -> str
#       a translatable reason when the channel's set-up cannot deliver any reply (an API channel without a
#       webhook URL), else "". The reachability query shows the channel as unreachable with it
#       (`cannot_deliver`), so the composer never pre-selects it.
#   start_listener(*, host, smtp_port) -> Callable[[], None] | None
#       starts an edge with a port of its own in `threadline serve` / `threadline worker` (the SMTP listener,
#       IMAP watchers); returns the function that stops it.
#   check_connection(channel) -> str
#       one cheap, documented, read-only provider call with the channel's credentials (Telegram getMe, the
#       WhatsApp phone number, the Twilio account...) through the provider HTTP client; returns what the
#       provider says the account is ("@support_bot"), raises a ChannelError when it refuses or cannot be
#       reached. Kinds without it answer "not available" (`channels.connection.check`).
#   register_webhook(channel, url) -> str
#       for providers whose webhook is set by an API call rather than in their console (Telegram setWebhook):
#       registers `url` (with the channel's secret token); returns the provider's answer.
#   send_test(actor, channel, to) -> str
#       sends one real test message to the address `to` the way the channel's replies leave (email: through
#       its SMTP relay, DKIM-signed); returns its id; raises ValidationFailed or a ChannelError.
#   published_records(channel) -> list[PublishedRecord]
#       the DNS records to publish for the channel (email: its DKIM key, catch-all domain verification).
#   new_signing_key(actor, channel, selector) -> None
#       generates and stores a signing key pair (email: DKIM); `published_records` then shows its public half.
#   provider_templates(channel) -> ProviderTemplates
#       the message templates the provider approved for the channel, as last synced (WhatsApp's), for the
#       administration screens; `sync_templates(channel) -> int` fetches them again now (a ChannelError when
#       the provider refuses or cannot be reached) and returns how many there are.
#   public_reply(channel, target_id, text, *, kind) -> str
#       answers a public item (a comment, a post, a mention) in public; returns the new item's id.
#   hide_public(channel, target_id, hidden) -> None / delete_public(channel, target_id) -> None
#       moderate a public comment (hide or show it, delete it). Kinds without them cannot.
#   contact_label(contact) -> str
#       how the workspace names a contact known only through this channel (web chat: the email the visitor
#       left, else the page they are on); "" when it has nothing to say.
#   contact_context(contact) -> dict | None
#       what the contact panel shows about the contact's presence on this channel (web chat: current page,
#       pages seen, browser, locale, the site's attributes; template `web/_visitor.html`).
#   install_snippet(channel) -> str
#       what a site pastes to show the channel (web chat: the widget's script tags).
#   preview(request, channel, overrides) -> HttpResponse
#       the customer-facing view with unsaved settings (`overrides`, a QueryDict) applied, opening nothing
#       (web chat: its frame); served to admins only, framed by the widget editor.
#   config_saved(channel, config) -> None
#       runs after a channel's config is written, inside the caller's transaction: checks that need the
#       database or the network (an email address owned by another workspace: Conflict; a private outbound
#       host: ValidationFailed). Raising rolls the write back.
