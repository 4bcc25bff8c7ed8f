"""Outreach writes: campaigns and notifications, sending them in batches, their outcomes, unsubscribes, the
workspace's outreach settings and proactive widget rules. Callers own the transaction.

Sending (`do_send_batch`, run by `send_campaign_task`): each due recipient row is decided once — held until
the end of quiet hours in the contact's own time zone, skipped with a reason (no reachable channel, opted out,
no approved template outside WhatsApp's window...), held by the channel's rate limit until the next minute, or
queued on the contact's conversation through the normal outbound path (`queue_outbound`: the message is on the
timeline, a reply threads into it). The channel's delivery result then makes the row delivered or failed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.core import signing
from django.db import DatabaseError, connection
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.channels.registry import adapter_for
from threadline.consent.actions import do_record_unsubscribe
from threadline.consent.queries import read_ahead
from threadline.contacts import preferred
from threadline.contacts.models import Contact
from threadline.conversations.actions import OutboundDraft, queue_outbound_many, record_event
from threadline.conversations.events import ConversationCreated
from threadline.conversations.models import (
    ACTIVE_STATUSES,
    AuthorKind,
    Conversation,
    ConversationEvent,
    DeliveryStatus,
    Status,
)
from threadline.core.errors import Conflict, ValidationFailed
from threadline.core.row_writes import insert_rows
from threadline.core.time import now
from threadline.outreach import segments
from threadline.outreach.models import Campaign, OutreachDelivery, OutreachSettings, ProactiveRule, Purpose
from threadline.outreach.reach import Reacher, Refusal, Route, reason_text, refusal_sentence, render
from threadline.surveys.quiet_hours import quiet_until
from threadline.tenancy.models import Membership, Workspace
from threadline.tenancy.permissions import Permission, require

BATCH = 500
RATE_WINDOW = dt.timedelta(minutes=1)
MAX_MESSAGE = 4000
UNSUBSCRIBE_SALT = "threadline.outreach.unsubscribe"
logger = logging.getLogger(__name__)
Row = OutreachDelivery.Status


# ── settings ─────────────────────────────────────────────────────────────────────────────────────────
def settings_for(workspace_id: int) -> OutreachSettings:
    found = OutreachSettings.objects.filter(workspace_id=workspace_id).first()
    return found or OutreachSettings(workspace_id=workspace_id)


def check_settings(quiet_start: dt.time | None, quiet_end: dt.time | None, default_rate_per_minute: int,
                   rate_limits: Mapping[str, Any], region_defaults: Mapping[str, Any]
                   ) -> tuple[dict[str, int], dict[str, str]]:
    from threadline.surveys.actions import check_quiet_hours

    check_quiet_hours(quiet_start, quiet_end)
    if not 1 <= default_rate_per_minute <= 100_000:
        raise ValidationFailed(_("A rate limit is from 1 to 100000 messages a minute."), code="invalid_rate_limit",
                               field="default_rate_per_minute")
    limits: dict[str, int] = {}
    for kind, value in rate_limits.items():
        if kind not in adapter_kinds() or not isinstance(value, int) or isinstance(value, bool) \
                or not 1 <= value <= 100_000:
            raise ValidationFailed(_("Rate limits are per channel kind, from 1 to 100000 messages a minute."),
                                   code="invalid_rate_limit", field="rate_limits")
        limits[kind] = value
    regions: dict[str, str] = {}
    for region, kind in region_defaults.items():
        region = str(region).upper()
        if len(region) != 2 or not region.isalpha() or kind not in adapter_kinds():
            raise ValidationFailed(_("Region defaults map a two-letter country code to a channel kind."),
                                   code="invalid_region_defaults", field="region_defaults")
        regions[region] = str(kind)
    return limits, regions


def adapter_kinds() -> tuple[str, ...]:
    from threadline.outreach.reach import OUTREACH_KINDS

    return OUTREACH_KINDS


def do_save_settings(actor: Membership, *, quiet_start: dt.time | None, quiet_end: dt.time | None,
                     default_rate_per_minute: int = 600, rate_limits: Mapping[str, Any] | None = None,
                     region_defaults: Mapping[str, Any] | None = None,
                     marketing_requires_opt_in: bool = False) -> OutreachSettings:
    """An admin sets quiet hours, rate limits per channel kind, the channel per region and the opt-in rule."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    limits, regions = check_settings(quiet_start, quiet_end, default_rate_per_minute, rate_limits or {},
                                     region_defaults or {})
    found, _created = OutreachSettings.objects.update_or_create(workspace_id=actor.workspace_id, defaults={
        "quiet_start": quiet_start, "quiet_end": quiet_end, "default_rate_per_minute": default_rate_per_minute,
        "rate_limits": limits, "region_defaults": regions, "marketing_requires_opt_in": marketing_requires_opt_in})
    record_change("outreach_settings.saved", found, {"quiet_start": str(quiet_start or ""),
                                                    "quiet_end": str(quiet_end or ""), "rate_limits": limits,
                                                    "region_defaults": regions}, actor=actor)
    return found


# ── campaigns ────────────────────────────────────────────────────────────────────────────────────────
def check_campaign(*, name: str, kind: str, event: str, purpose: str, messages: Mapping[str, Any],
                   segment: Any, whatsapp_template: Mapping[str, Any] | None,
                   template_variables: list[Any] | None) -> dict[str, Any]:
    name = " ".join((name or "").split())[:200]
    if not name:
        raise ValidationFailed(_("A campaign needs a name."), code="invalid_name", field="name")
    if kind not in Campaign.Kind.values:
        raise ValidationFailed(_("The kind is campaign or notification."), code="invalid_kind", field="kind")
    event = (event or "").strip()[:64]
    if kind == Campaign.Kind.NOTIFICATION and not event:
        raise ValidationFailed(_("A notification names the event that sends it, such as order_delayed."),
                               code="invalid_event", field="event")
    if purpose not in Purpose.values:
        raise ValidationFailed(_("The purpose is marketing or transactional."), code="invalid_purpose",
                               field="purpose")
    texts = {str(lang).strip()[:16]: str(text).strip()[:MAX_MESSAGE] for lang, text in (messages or {}).items()
             if str(text).strip() and str(lang).strip()}
    if not texts:
        raise ValidationFailed(_("Write the message in at least one language."), code="empty_message",
                               field="messages")
    template = {}
    if whatsapp_template and str(whatsapp_template.get("name") or "").strip():
        template = {"name": str(whatsapp_template["name"]).strip()[:512],
                    "language": str(whatsapp_template.get("language") or "").strip()[:16]}
    variables = [str(v).strip()[:64] for v in template_variables or [] if str(v).strip()][:20]
    return {"name": name, "kind": kind, "event": event if kind == Campaign.Kind.NOTIFICATION else "",
            "purpose": purpose, "messages": texts, "segment": segments.check_segment(segment),
            "whatsapp_template": template, "template_variables": variables}


def do_create_campaign(workspace: Workspace | int, *, name: str, messages: Mapping[str, str],
                       segment: dict[str, Any] | None = None, purpose: str = Purpose.TRANSACTIONAL,
                       kind: str = Campaign.Kind.CAMPAIGN, event: str = "", subject: str = "",
                       whatsapp_template: Mapping[str, Any] | None = None,
                       template_variables: list[str] | None = None, actor: Membership | None = None,
                       source: str = "") -> Campaign:
    """A draft campaign (or, with `kind="notification"`, the message an API event sends). People pass `actor`
    (admin.automations); other domains (a crisis's known-issue message) pass `source` instead. Nothing is sent
    until `do_start_campaign`; a notification is active at once."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    if actor is not None:
        require(actor, Permission.ADMIN_AUTOMATIONS)
        if actor.workspace_id != workspace_id:
            raise ValidationFailed(_("That workspace is not yours."), code="invalid_workspace")
    fields = check_campaign(name=name, kind=kind, event=event, purpose=purpose, messages=messages,
                            segment=segment, whatsapp_template=whatsapp_template,
                            template_variables=template_variables)
    if kind == Campaign.Kind.NOTIFICATION and Campaign.objects.filter(
            workspace_id=workspace_id, kind=kind, event=fields["event"], state=Campaign.State.ACTIVE).exists():
        raise Conflict(_("Another notification already answers the event %(event)s.") % {"event": fields["event"]},
                       code="event_taken")
    campaign = Campaign.objects.create(
        workspace_id=workspace_id, subject=" ".join(subject.split())[:300], created_by=actor, source=source[:32],
        state=Campaign.State.ACTIVE if kind == Campaign.Kind.NOTIFICATION else Campaign.State.DRAFT, **fields)
    record_change("campaign.created", campaign, {"name": campaign.name, "kind": kind, "source": source},
                  actor=actor)
    return campaign


def do_update_campaign(actor: Membership, campaign: Campaign, **changes: Any) -> Campaign:
    """Edit a draft campaign or a notification (not one that is sending or sent)."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    if campaign.state not in (Campaign.State.DRAFT, Campaign.State.ACTIVE):
        raise Conflict(_("Only a draft can be changed."), code="campaign_not_draft")
    current = {k: getattr(campaign, k) for k in ("name", "kind", "event", "purpose", "messages", "segment",
                                                 "whatsapp_template", "template_variables")}
    fields = check_campaign(**{**current, **{k: v for k, v in changes.items() if k in current}})
    fields.pop("kind")
    for key, value in fields.items():
        setattr(campaign, key, value)
    if "subject" in changes:
        campaign.subject = " ".join(str(changes["subject"]).split())[:300]
    campaign.save()
    record_change("campaign.updated", campaign, {"name": campaign.name}, actor=actor)
    return campaign


def do_start_campaign(actor: Membership | None, campaign: Campaign) -> Campaign:
    """Send a draft campaign: one recipient row per contact in its segment now, sent in batches by jobs."""
    if actor is not None:
        require(actor, Permission.ADMIN_AUTOMATIONS)
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.kind != Campaign.Kind.CAMPAIGN or locked.state != Campaign.State.DRAFT:
        raise Conflict(_("Only a draft campaign can be sent."), code="campaign_not_draft")
    ids = segments.contacts_in(locked.workspace_id, locked.segment).order_by("id").values_list("id", flat=True)
    total = 0
    chunk: list[int] = []
    for contact_id in ids.iterator(chunk_size=2000):
        chunk.append(contact_id)
        if len(chunk) == 2000:
            total += _add_recipients(locked, chunk)
            chunk = []
    total += _add_recipients(locked, chunk)
    locked.state, locked.started_at, locked.recipients = Campaign.State.SENDING, now(), total
    locked.save(update_fields=["state", "started_at", "recipients", "updated_at"])
    record_change("campaign.started", locked, {"recipients": total}, actor=actor)
    _enqueue(locked.pk)
    return locked


def _add_recipients(campaign: Campaign, contact_ids: list[int]) -> int:
    OutreachDelivery.objects.bulk_create([OutreachDelivery(workspace_id=campaign.workspace_id, campaign=campaign,
                                                           contact_id=cid) for cid in contact_ids], batch_size=500)
    return len(contact_ids)


def do_cancel_campaign(actor: Membership, campaign: Campaign) -> Campaign:
    """Stop a campaign: recipients not sent yet are skipped (`cancelled`); a notification stops answering."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.state in (Campaign.State.DONE, Campaign.State.CANCELLED):
        raise Conflict(_("This campaign is over already."), code="campaign_over")
    OutreachDelivery.objects.filter(campaign=locked, status__in=[Row.PENDING, Row.HELD]).update(
        status=Row.SKIPPED, reason_code="cancelled", reason=_("The campaign was cancelled."), due_at=None,
        finished_at=now(), updated_at=now())
    locked.state, locked.finished_at = Campaign.State.CANCELLED, now()
    locked.save(update_fields=["state", "finished_at", "updated_at"])
    record_change("campaign.cancelled", locked, {}, actor=actor)
    return locked


def _enqueue(campaign_id: int, at: dt.datetime | None = None) -> None:
    """A batch job for the campaign now, or at `at` (one job per campaign and moment: notifications held until
    the same moment wake it once)."""
    from threadline.outreach.tasks import send_campaign_task

    later = at is not None and at > now()
    send_campaign_task.enqueue(campaign_id, run_after=at,
                               unique_key=f"outreach:{campaign_id}:{at.isoformat()}" if later and at else None)


# ── notifications ────────────────────────────────────────────────────────────────────────────────────
def check_variables(variables: Mapping[str, Any] | None) -> dict[str, str]:
    variables = variables or {}
    if len(variables) > 50 or not all(isinstance(k, str) and len(k) <= 64 for k in variables):
        raise ValidationFailed(_("Variables are at most 50 names of up to 64 characters."),
                               code="invalid_variables", field="variables")
    return {k: str(v)[:1000] for k, v in variables.items()}


def do_notify(actor: Membership, event: str, contact: Contact, *, variables: Mapping[str, Any] | None = None,
              key: str = "", purpose: str = "") -> tuple[OutreachDelivery, bool]:
    """An event from the caller's system (order_delayed...) for one contact: a recipient row of the event's
    notification, sent by a job under the same rules as a campaign (`purpose`, when given, instead of the
    notification's: which consent applies). (row, created): a repeated `key` returns the first row."""
    require(actor, Permission.REPLY)
    if purpose and purpose not in Purpose.values:
        raise ValidationFailed(_("The purpose is marketing or transactional."), code="invalid_purpose",
                               field="purpose")
    campaign = Campaign.objects.filter(workspace_id=actor.workspace_id, kind=Campaign.Kind.NOTIFICATION,
                                       event=event, state=Campaign.State.ACTIVE).first()
    if campaign is None:
        raise ValidationFailed(_("No active notification answers the event %(event)s.") % {"event": event[:64]},
                               code="unknown_event", field="event")
    clean = check_variables(variables)
    key = key.strip()[:200]
    if key:
        found = OutreachDelivery.objects.filter(campaign=campaign, key=key).first()
        if found is not None:
            return found, False
    row = OutreachDelivery.objects.create(workspace_id=actor.workspace_id, campaign=campaign, contact=contact,
                                          variables=clean, key=key, purpose=purpose)
    Campaign.objects.filter(pk=campaign.pk).update(recipients=campaign.recipients + 1)
    _enqueue(campaign.pk)
    return row, True


# ── sending ──────────────────────────────────────────────────────────────────────────────────────────
class _Limits:
    """Per channel: how many more outreach messages may go this minute, and, past that, the minute each of
    the rest may go in (rate limits are a schedule: a held row is decided again once, when its slot opens,
    not every minute until one does)."""

    def __init__(self, workspace_id: int, settings: OutreachSettings, moment: dt.datetime) -> None:
        self.workspace_id, self.settings, self.moment = workspace_id, settings, moment
        self.left: dict[int, int] = {}
        self.over: dict[int, int] = {}
        self.oldest: dict[int, dt.datetime] = {}

    def limit(self, kind: str) -> int:
        return int((self.settings.rate_limits or {}).get(kind) or self.settings.default_rate_per_minute)

    def take(self, channel: Any) -> dt.datetime | None:
        """None when a message may go now on `channel` (counted), else when this one may."""
        if channel.pk not in self.left:
            sent = OutreachDelivery.objects.filter(channel=channel, sent_at__gt=self.moment - RATE_WINDOW).count()
            self.left[channel.pk] = self.limit(channel.kind) - sent
        if self.left[channel.pk] > 0:
            self.left[channel.pk] -= 1
            return None
        if channel.pk not in self.oldest:
            oldest = (OutreachDelivery.objects.filter(channel=channel, sent_at__gt=self.moment - RATE_WINDOW)
                      .order_by("sent_at").values_list("sent_at", flat=True).first())
            self.oldest[channel.pk] = oldest or self.moment
        over = self.over.get(channel.pk, 0)
        self.over[channel.pk] = over + 1
        return self.oldest[channel.pk] + RATE_WINDOW * (1 + over // self.limit(channel.kind))


def _due(campaign: Campaign, moment: dt.datetime) -> Any:
    return OutreachDelivery.objects.filter(campaign=campaign, status__in=[Row.PENDING, Row.HELD]).exclude(
        due_at__gt=moment)


def do_send_batch(campaign_id: int, *, size: int = BATCH) -> tuple[int, dt.datetime | None]:
    """Decide up to `size` due recipients of a campaign (see the module docstring). (how many were decided,
    when the next batch is due: now when more are due, the earliest hold, or None when nothing waits)."""
    moment = now()
    query = Campaign.objects.select_related("workspace")
    if connection.features.has_select_for_update:  # one batch of a campaign at a time
        query = query.select_for_update(of=("self",))
    campaign = query.filter(pk=campaign_id).first()
    if campaign is None or campaign.state not in (Campaign.State.SENDING, Campaign.State.ACTIVE):
        return 0, None
    rows = list(_due(campaign, moment).select_related("contact").order_by("id")[:size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if rows:
        _decide(campaign, rows, moment)
    if more:
        return len(rows), moment
    waiting = (OutreachDelivery.objects.filter(campaign=campaign, status__in=[Row.PENDING, Row.HELD])
               .order_by("due_at").values_list("due_at", flat=True).first())
    if waiting is None and campaign.kind == Campaign.Kind.CAMPAIGN and not OutreachDelivery.objects.filter(
            campaign=campaign, status__in=[Row.PENDING, Row.HELD]).exists():
        campaign.state, campaign.finished_at = Campaign.State.DONE, moment
        campaign.save(update_fields=["state", "finished_at", "updated_at"])
    return len(rows), waiting


ROW_FIELDS = ["status", "reason_code", "reason", "channel", "channel_choice", "address", "message", "segments",
              "as_template", "sent_at", "due_at", "finished_at", "updated_at"]
ERROR_WAIT = dt.timedelta(minutes=15)


@dataclass
class _Sending:
    row: OutreachDelivery
    route: Route
    conversation: Conversation
    text: str
    language: str


def _decide(campaign: Campaign, rows: list[OutreachDelivery], moment: dt.datetime) -> None:
    """Decide the rows, then write the batch in bulk: the new conversations, their messages and deliveries
    (`queue_outbound_many`: a few delivery jobs), timeline rows, events (`publish_many`) and the rows."""
    workspace = campaign.workspace
    settings = settings_for(campaign.workspace_id)
    reacher = Reacher.for_campaign(campaign, settings)
    limits = _Limits(campaign.workspace_id, settings, moment)
    contact_ids = [r.contact_id for r in rows]
    contacts = {c.pk: c for c in Contact.objects.filter(pk__in=contact_ids).prefetch_related("identities")}
    learned: dict[int, str] = {}
    for contact_id, kind in (Conversation.objects.filter(contact_id__in=contact_ids,
                                                         last_inbound_channel__isnull=False)
                             .order_by("contact_id", "-last_inbound_at", "-id")
                             .values_list("contact_id", "last_inbound_channel__kind")):
        learned.setdefault(contact_id, kind)
    active: dict[int, Conversation] = {}
    for conversation in (Conversation.objects.filter(contact_id__in=contact_ids, status__in=ACTIVE_STATUSES,
                                                     merged_into__isnull=True, thread_key="")
                         .order_by("contact_id", "-last_message_at", "-id")):
        active.setdefault(conversation.contact_id, conversation)
    sending: list[_Sending] = []
    addresses = [(i.kind, i.address) for c in contacts.values() for i in c.identities.all()]
    with read_ahead(campaign.workspace_id, addresses):
        for row in rows:
            sending.extend(_decide_row(campaign, workspace, settings, reacher, limits, row, contacts, learned,
                                       active, moment))
    _write(campaign, rows, sending, moment)


def _decide_row(campaign: Campaign, workspace: Workspace, settings: OutreachSettings, reacher: Reacher,
                limits: _Limits, row: OutreachDelivery, contacts: dict[int, Contact], learned: dict[int, str],
                active: dict[int, Conversation], moment: dt.datetime) -> list[_Sending]:
    """`_decide_one`, or, when it raises anything but a database error, the row held visibly."""
    try:
        found = _decide_one(campaign, workspace, settings, reacher, limits, row, contacts.get(row.contact_id),
                            learned, active, moment)
    except DatabaseError:
        raise  # the batch is undone and its job retried
    except Exception as exc:  # noqa: BLE001 - this recipient alone waits, visibly, and is decided again later
        logger.exception("outreach row %s of campaign %s could not be decided", row.pk, campaign.pk)
        _hold(row, "processing_error", moment + ERROR_WAIT, f"{type(exc).__name__}: {exc}")
        return []
    return [found] if found is not None else []


def _decide_one(campaign: Campaign, workspace: Workspace, settings: OutreachSettings, reacher: Reacher,
                limits: _Limits, row: OutreachDelivery, contact: Contact | None, learned: dict[int, str],
                active: dict[int, Conversation], moment: dt.datetime) -> _Sending | None:
    """One row's decision: held or skipped (the row changed in memory), or what to send (None otherwise)."""
    if contact is None or contact.merged_into_id:
        _skip(row, Refusal("contact_merged"), moment)
        return None
    identities = list(contact.identities.all())
    zone = preferred.zone_of(contact, identities, workspace.time_zone)
    until = quiet_until(settings, zone, moment)
    if until is not None:
        _hold(row, "quiet_hours", until)
        return None
    variables = {"name": contact.name, **(row.variables or {})}
    conversation = active.get(contact.pk) or Conversation(
        workspace_id=contact.workspace_id, contact=contact, status=Status.SOLVED, solved_at=moment,
        subject=(campaign.subject or campaign.name)[:500], language=contact.language)
    route = reacher.choose(contact, identities, learned.get(contact.pk, ""), conversation, variables, row.purpose)
    if isinstance(route, Refusal):
        _skip(row, route, moment)
        return None
    text, language = render(campaign, contact.language, workspace.default_language, variables)
    if not text:
        _skip(row, Refusal("empty_message", channel=route.channel), moment)
        return None
    wait = limits.take(route.channel)
    if wait is not None:
        _hold(row, "rate_limited", wait)
        return None
    if conversation.pk is None and contact.pk not in active:
        conversation.origin_channel = route.channel
        active[contact.pk] = conversation  # saved with the batch; a second row of this contact shares it
    return _Sending(row, route, conversation, text, language)


def _write(campaign: Campaign, rows: list[OutreachDelivery], sending: list[_Sending], moment: dt.datetime) -> None:
    created = list({id(s.conversation): s.conversation for s in sending if s.conversation.pk is None}.values())
    if created:
        Conversation.objects.bulk_create(created)
    drafts = []
    events = [ConversationEvent(workspace_id=c.workspace_id, conversation=c, kind="created",
                                data={"channel_id": c.origin_channel_id, "channel_kind": c.origin_channel.kind,
                                      "outreach_campaign_id": campaign.pk}) for c in created]
    for item in sending:
        row, route = item.row, item.route
        metadata: dict[str, Any] = {"outreach": {"campaign_id": campaign.pk, "delivery_id": row.pk}}
        text = item.text
        if route.template is not None:
            metadata["template"] = route.template
            text = f"{_('Template %(name)s') % {'name': route.template['name']}}: {text}"[:MAX_MESSAGE]
        if route.channel.kind == "email":
            metadata["bulk"] = (row.purpose or campaign.purpose) == Purpose.MARKETING
            metadata["list_unsubscribe_url"] = unsubscribe_url(row.pk)
        hints = getattr(adapter_for(route.channel.kind), "send_hints", None)
        segments_count = 0
        if route.channel.kind == "sms" and hints is not None:
            segmentation = hints(item.conversation, route.identity, route.channel, text=text).get("segmentation") or {}
            segments_count = int(segmentation.get("segments") or 0)
        drafts.append(OutboundDraft(item.conversation, route.channel, route.identity, text, item.language, metadata))
        events.append(ConversationEvent(workspace_id=row.workspace_id, conversation=item.conversation,
                                        kind="outreach_sent", data={
                                            "campaign_id": campaign.pk, "delivery_id": row.pk,
                                            "channel_id": route.channel.pk, "template": route.template is not None}))
        row.status, row.channel, row.channel_choice, row.address = Row.QUEUED, route.channel, route.choice, \
            route.identity.address
        row.segments, row.as_template, row.sent_at, row.due_at = segments_count, route.template is not None, \
            moment, None
        row.reason_code, row.reason = "", ""
    messages = queue_outbound_many(drafts, author_kind=AuthorKind.SYSTEM, publish_first=[ConversationCreated(
        workspace_id=c.workspace_id, conversation_id=c.pk, contact_id=c.contact_id, channel_id=c.origin_channel_id,
        previous_id=None) for c in created])
    for item, message in zip(sending, messages, strict=True):
        item.row.message = message
    insert_rows(events)
    for row in rows:
        row.updated_at = moment
    OutreachDelivery.objects.bulk_update(rows, ROW_FIELDS, batch_size=BATCH)


def _skip(row: OutreachDelivery, refusal: Refusal, moment: dt.datetime) -> None:
    row.status, row.reason_code, row.reason = Row.SKIPPED, refusal.code, refusal_sentence(refusal)
    row.channel, row.due_at, row.finished_at = refusal.channel, None, moment


def _hold(row: OutreachDelivery, code: str, until: dt.datetime, detail: str = "") -> None:
    sentence = reason_text(code)
    row.status, row.reason_code, row.due_at = Row.HELD, code, until
    row.reason = f"{sentence} {detail}"[:1000] if detail else sentence


DELIVERED = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


def do_record_outcome(message_id: int, status: str, reason: str) -> int:
    """The channel's word on a message outreach queued: its row becomes delivered or failed (how many rows)."""
    if status in DELIVERED:
        return OutreachDelivery.objects.filter(message_id=message_id, status=Row.QUEUED).update(
            status=Row.DELIVERED, finished_at=now(), updated_at=now())
    if status == DeliveryStatus.FAILED:
        return OutreachDelivery.objects.filter(message_id=message_id, status__in=[Row.QUEUED, Row.DELIVERED]).update(
            status=Row.FAILED, reason_code="delivery_failed", reason=(reason or reason_text("delivery_failed"))[:1000],
            finished_at=now(), updated_at=now())
    return 0


# ── unsubscribe (RFC 8058) ───────────────────────────────────────────────────────────────────────────
def unsubscribe_token(delivery_id: int) -> str:
    return signing.dumps(delivery_id, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(delivery_id: int) -> str:
    return f"{django_settings.PUBLIC_URL}/outreach/unsubscribe/{unsubscribe_token(delivery_id)}/"


def read_unsubscribe_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def do_unsubscribe(delivery: OutreachDelivery) -> bool:
    """The recipient withdrew consent through the link of a message: an opt-out on that channel and address
    for the campaign's purpose (True when it changed anything)."""
    if delivery.channel is None or delivery.message is None or delivery.message.identity is None:
        return False
    identity = delivery.message.identity
    purpose = delivery.purpose or delivery.campaign.purpose
    record = do_record_unsubscribe(delivery.channel, identity.kind, identity.address, purpose=purpose,
                                   note=_("Unsubscribe link of the campaign %(name)s") % {"name": delivery.campaign.name})
    if record is not None:
        record_event(delivery.message.conversation, "outreach_unsubscribed", campaign_id=delivery.campaign_id,
                     channel_id=delivery.channel_id, purpose=purpose)
    return record is not None


# ── proactive widget messages ────────────────────────────────────────────────────────────────────────
def check_proactive_rule(*, name: str, trigger: str, url_pattern: str, seconds: int, call_name: str,
                         messages: Mapping[str, Any]) -> dict[str, Any]:
    name = " ".join((name or "").split())[:200]
    if not name:
        raise ValidationFailed(_("A rule needs a name."), code="invalid_name", field="name")
    if trigger not in ProactiveRule.Trigger.values:
        raise ValidationFailed(_("The trigger is url, time or call."), code="invalid_trigger", field="trigger")
    url_pattern, call_name = (url_pattern or "").strip()[:500], (call_name or "").strip()[:64]
    if trigger == ProactiveRule.Trigger.URL and not url_pattern:
        raise ValidationFailed(_("Give the page address pattern, such as */pricing*."), code="invalid_url_pattern",
                               field="url_pattern")
    if trigger == ProactiveRule.Trigger.TIME and not 1 <= int(seconds or 0) <= 3600:
        raise ValidationFailed(_("Time on page is from 1 to 3600 seconds."), code="invalid_seconds",
                               field="seconds")
    if trigger == ProactiveRule.Trigger.CALL and not call_name.replace("_", "").replace("-", "").isalnum():
        raise ValidationFailed(_("The call name is letters, digits, - and _."), code="invalid_call_name",
                               field="call_name")
    texts = {str(k).strip()[:16]: str(v).strip()[:500] for k, v in (messages or {}).items()
             if str(v).strip() and str(k).strip()}
    if not texts:
        raise ValidationFailed(_("Write the message in at least one language."), code="empty_message",
                               field="messages")
    return {"name": name, "trigger": trigger, "url_pattern": url_pattern, "seconds": int(seconds or 0),
            "call_name": call_name, "messages": texts}


def do_save_proactive_rule(actor: Membership, rule: ProactiveRule | None, *, enabled: bool = True,
                           **fields: Any) -> ProactiveRule:
    """Create (rule None) or change a proactive widget rule."""
    require(actor, Permission.ADMIN_CHANNELS)
    clean = check_proactive_rule(**fields)
    if rule is None:
        rule = ProactiveRule(workspace_id=actor.workspace_id)
    for key, value in clean.items():
        setattr(rule, key, value)
    rule.enabled = enabled
    rule.save()
    record_change("proactive_rule.saved", rule, {"name": rule.name, "trigger": rule.trigger,
                                                 "enabled": enabled}, actor=actor)
    return rule


def do_delete_proactive_rule(actor: Membership, rule: ProactiveRule) -> None:
    require(actor, Permission.ADMIN_CHANNELS)
    record_change("proactive_rule.deleted", rule, {"name": rule.name}, actor=actor)
    rule.delete()
