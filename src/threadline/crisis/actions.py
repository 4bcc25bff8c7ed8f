"""Crisis writes: counting a public mention (the detector's state, opening and closing crises), closing one by
hand, and what a team switches on during one: a holding reply (a canned reply, through replies' actions), the
workspace notice (a banner in the chat widget and the help center), a known-issue draft campaign (through
outreach's actions, when that domain is installed). The caller owns the transaction; events and mail go out
after commit."""

from __future__ import annotations

import dataclasses
import datetime as dt
from importlib import import_module
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.core.errors import Conflict, ValidationFailed
from threadline.core.time import now
from threadline.crisis import detector
from threadline.crisis.events import CrisisClosed, CrisisOpened
from threadline.crisis.models import Crisis, Kind, Mention, Notice, Series, Status
from threadline.events.bus import publish
from threadline.replies.actions import do_save_template
from threadline.replies.models import Template
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

PARAMS = detector.Params()
GROUP_WINDOW = dt.timedelta(hours=2)  # an alarm this soon after a crisis opened joins it instead of opening another
MAX_NOTICE = 500


def _state(row: Series) -> detector.SeriesState:
    return detector.SeriesState(**row.state) if row.state else detector.SeriesState()


def _bucket_time(bucket: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(bucket * PARAMS.bucket_seconds, tz=dt.UTC)


def _figures(signal: detector.Signal) -> dict[str, Any]:
    return {"kind": signal.kind, "count": signal.count, "negative": signal.negative, "baseline": signal.mean,
            "std": signal.std, "z": signal.z, "share": signal.share, "baseline_share": signal.baseline_share,
            "bucket_start": _bucket_time(signal.bucket).isoformat(), "bucket_minutes": PARAMS.bucket_minutes}


def headline(key: str) -> int:
    """Which series names a crisis best: a topic, then a channel, then every mention."""
    return 0 if key.startswith("topic:") else 1 if key.startswith("channel:") else 2


def _open(workspace_id: int, key: str, signal: detector.Signal, at: dt.datetime,
          keys: tuple[str, ...] = ()) -> Crisis:
    """Open a crisis for an alarm on `key`, or join the recent one of the same wave: any open crisis of the
    last two hours, unless both are named by topics and the mention that raised the alarm (its `keys`) is not
    on the other's topic (two topics rising apart are two crises)."""
    from threadline.crisis import tasks

    recent = next((c for c in Crisis.objects.select_for_update().filter(
        workspace_id=workspace_id, status=Status.OPEN, opened_at__gte=at - GROUP_WINDOW).order_by("-opened_at")
        if not (key.startswith("topic:") and c.key.startswith("topic:") and c.key not in (key, *keys))), None)
    if recent is not None:
        recent.why = {**recent.why, "series": {**recent.why.get("series", {}), key: _figures(signal)},
                      "open_series": sorted({*recent.why.get("open_series", []), key})}
        if headline(key) < headline(recent.key):
            recent.key, recent.kind = key, signal.kind
        recent.save(update_fields=["why", "key", "kind", "updated_at"])
        return recent
    crisis = Crisis.objects.create(workspace_id=workspace_id, key=key, kind=signal.kind, opened_at=at,
                                   bucket_start=_bucket_time(signal.bucket),
                                   why={"series": {key: _figures(signal)}, "open_series": [key],
                                        "params": dataclasses.asdict(PARAMS)})
    publish(CrisisOpened(workspace_id=workspace_id, crisis_id=crisis.pk, key=key, kind=signal.kind))
    tasks.mail_crisis_task.enqueue(crisis.pk, unique_key=f"crisis:opened:{crisis.pk}")
    return crisis


def _open_crises(workspace_id: int) -> list[Crisis]:
    """The workspace's open crises, locked (a workspace has few at a time)."""
    return list(Crisis.objects.select_for_update().filter(workspace_id=workspace_id, status=Status.OPEN)
                .order_by("pk"))


def _close_series(workspace_id: int, key: str, at: dt.datetime) -> None:
    for crisis in [c for c in _open_crises(workspace_id) if key in c.why.get("open_series", [])]:
        remaining = [k for k in crisis.why.get("open_series", []) if k != key]
        crisis.why = {**crisis.why, "open_series": remaining}
        if remaining:
            crisis.save(update_fields=["why", "updated_at"])
        else:
            _close(crisis, at, "calm", None)


def _close(crisis: Crisis, at: dt.datetime, reason: str, actor: Membership | None) -> None:
    crisis.status, crisis.closed_at, crisis.closed_why, crisis.closed_by = Status.CLOSED, at, reason, actor
    crisis.save(update_fields=["status", "closed_at", "closed_why", "closed_by", "updated_at"])
    publish(CrisisClosed(workspace_id=crisis.workspace_id, crisis_id=crisis.pk, key=crisis.key, reason=reason))


def _parse_time(value: Any) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return now()
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def do_count_mention(workspace_id: int, outbox_id: int, payload: dict[str, Any]) -> list[Crisis]:
    """Count one `social.item_received` in each of its series; open or close crises as the detector says.
    Idempotent per outbox id. Answers the crises this mention opened or joined."""
    posted = _parse_time(payload.get("created_at"))
    topics = [str(t) for t in payload.get("topics") or [] if isinstance(t, str)]
    sentiment = payload.get("sentiment")
    sentiment = float(sentiment) if isinstance(sentiment, (int, float)) and not isinstance(sentiment, bool) else None
    category = str(payload.get("category") or "")
    negative = detector.is_negative(category, sentiment)
    keys = detector.series_keys(str(payload.get("channel_kind") or ""), topics)
    _mention, created = Mention.objects.get_or_create(outbox_id=outbox_id, defaults={
        "workspace_id": workspace_id, "item_id": int(payload.get("item_id") or 0),
        "channel_kind": str(payload.get("channel_kind") or "")[:40], "category": category[:16],
        "sentiment": sentiment, "negative": negative, "keys": keys, "posted_at": posted})
    if not created:
        return []
    touched: list[Crisis] = []
    at = now()
    for key in keys:
        row, _new = Series.objects.select_for_update().get_or_create(workspace_id=workspace_id, key=key)
        state = _state(row)
        for signal in detector.observe(state, posted.timestamp(), negative, PARAMS):
            if signal.action == "open":
                touched.append(_open(workspace_id, key, signal, at, tuple(keys)))
            else:
                _close_series(workspace_id, key, at)
        row.state = dataclasses.asdict(state)
        row.save(update_fields=["state", "updated_at"])
    counted = [c.pk for c in _open_crises(workspace_id) if set(keys) & set(c.why.get("open_series", []))]
    if counted:
        Crisis.objects.filter(pk__in=counted).update(mentions=F("mentions") + 1)
    return list(dict.fromkeys(touched))


def do_close_crisis(actor: Membership, crisis: Crisis) -> Crisis:
    """Close a crisis by hand (admin.automations); its holding reply is switched off and its notice taken down."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    if crisis.status != Status.OPEN:
        raise Conflict(_("This crisis is closed already."), code="crisis_closed")
    _close(crisis, now(), "person", actor)
    if crisis.holding_reply_id:
        do_switch_holding_reply(actor, crisis, on=False)
    notice = Notice.objects.filter(workspace_id=crisis.workspace_id, crisis=crisis, active=True).first()
    if notice is not None:
        do_save_notice(actor, texts=notice.texts, active=False, crisis=crisis)
    record_change("crisis.closed", crisis, {"key": crisis.key}, actor=actor)
    return crisis


def do_open_crisis(actor: Membership, topic: str) -> Crisis:
    """Open a crisis by hand on a topic (admin.automations), when the team knows before the detector does."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    topic = " ".join(str(topic).split()).lower()[:80]
    if not topic:
        raise ValidationFailed(_("Name the topic of the crisis."), code="invalid_topic", field="topic")
    moment = now()
    crisis = Crisis.objects.create(workspace_id=actor.workspace_id, key=f"topic:{topic}", kind=Kind.VOLUME,
                                   opened_at=moment, bucket_start=moment, why={"manual": True, "open_series": []})
    publish(CrisisOpened(workspace_id=actor.workspace_id, crisis_id=crisis.pk, key=crisis.key, kind=crisis.kind))
    record_change("crisis.opened", crisis, {"key": crisis.key}, actor=actor)
    return crisis


def holding_text(crisis: Crisis) -> str:
    return _("We know about a problem with %(topic)s and are working on it. We will post an update here as soon "
             "as we know more. Thank you for your patience.") % {"topic": crisis.key.partition(":")[2] or "our service"}


def do_switch_holding_reply(actor: Membership, crisis: Crisis, *, on: bool, text: str = "",
                            language: str = "") -> Template | None:
    """Switch the crisis's holding reply on (a canned reply `crisis-<id>` agents insert with "/"; created or
    updated through replies' actions) or off (kept, inactive)."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    if on and crisis.status != Status.OPEN:
        raise Conflict(_("This crisis is closed already."), code="crisis_closed")
    template = crisis.holding_reply
    if not on:
        if template is not None and template.is_active:
            variants = _variants(template)
            do_save_template(template.workspace, template, name=template.name, kind=template.kind, variants=variants,
                             shortcut=template.shortcut, is_active=False)
        return template
    body = (text or "").strip() or holding_text(crisis)
    language = language or actor.workspace.default_language or "en"
    variants = [] if template is None else [v for v in _variants(template) if v["language"] != language]
    template = do_save_template(actor.workspace, template, name=_("Crisis %(id)d: holding reply") % {"id": crisis.pk},
                                kind=Template.Kind.CANNED, shortcut=f"crisis-{crisis.pk}",
                                variants=[*variants, {"language": language, "subject": "", "text": body}])
    if crisis.holding_reply_id != template.pk:
        crisis.holding_reply = template
        crisis.save(update_fields=["holding_reply", "updated_at"])
    return template


def _variants(template: Template) -> list[dict[str, str]]:
    return [{"language": v.language, "subject": v.subject, "text": v.text, "html": v.html}
            for v in template.variants.order_by("pk")]


def check_notice_texts(texts: dict[str, str]) -> dict[str, str]:
    clean = {str(lang)[:16]: " ".join(str(text).split())[:MAX_NOTICE] for lang, text in texts.items()
             if str(text).strip()}
    if len(clean) > 20:
        raise ValidationFailed(_("A notice has at most 20 languages."), code="invalid_notice", field="texts")
    return clean


def do_save_notice(actor: Membership, *, texts: dict[str, str], active: bool, crisis: Crisis | None = None) -> Notice:
    """The workspace notice shown as a banner in the chat widget and the help center (admin.automations)."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    clean = check_notice_texts(texts)
    if active and not clean:
        raise ValidationFailed(_("Write the notice before showing it."), code="invalid_notice", field="texts")
    notice = Notice.objects.select_for_update().filter(workspace_id=actor.workspace_id).first() or Notice(
        workspace_id=actor.workspace_id)
    notice.texts, notice.active, notice.crisis = clean, active, crisis if active else notice.crisis
    notice.save()
    record_change("crisis.notice_saved", notice, {"active": active, "languages": sorted(clean)}, actor=actor)
    workspace_id = actor.workspace_id
    transaction.on_commit(lambda: _refresh_help_center(workspace_id))
    return notice


def _refresh_help_center(workspace_id: int) -> None:
    if apps.is_installed("threadline.helpcenter"):
        from threadline.helpcenter.pagecache import bump

        bump(workspace_id)


def outreach_available() -> bool:
    return apps.is_installed("threadline.outreach")


def do_draft_known_issue(actor: Membership, crisis: Crisis, texts: dict[str, str]) -> int:
    """A known-issue draft campaign in outreach (its actions, `source="crisis"`), for a person to give a segment
    and start there; answers the campaign's id. Needs the outreach domain."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    if not outreach_available():
        raise Conflict(_("Proactive outreach is not installed here."), code="outreach_unavailable")
    if crisis.campaign_id:
        raise Conflict(_("This crisis has its known-issue campaign already."), code="campaign_exists")
    outreach = import_module("threadline.outreach.actions")
    campaign = outreach.do_create_campaign(actor.workspace_id, name=_("Known issue: %(what)s") % {
        "what": crisis.key.partition(":")[2] or crisis.key}, messages=check_notice_texts(texts), actor=actor,
        source="crisis")
    crisis.campaign_id = campaign.pk
    crisis.save(update_fields=["campaign_id", "updated_at"])
    return campaign.pk
