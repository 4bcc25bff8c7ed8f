"""Writes for schedules, SLA policies and SLA timers. Callers own the transaction.

The timer life cycle, driven by `subscribers.on_event`:
    conversation created ──► first response + resolution timers start (business time of the policy's schedule)
    customer writes after an answer ──► next response timer starts
    agent replies ──► first/next response fulfilled
    pending / on hold ──► every live timer pauses (remaining business time kept); open again ──► resumes
    solved / closed ──► resolution fulfilled, the others cancelled
Each due and warning instant is a durable job (`sla_timer_task`); `sla_sweep_task` is the safety net.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.conversations.actions import do_update_conversation, record_event
from threadline.conversations.models import ACTIVE_STATUSES, Conversation, Priority, Status
from threadline.core.batch_cache import cached
from threadline.core.errors import ValidationFailed
from threadline.core.prepared import Prepared
from threadline.core.row_writes import update_columns
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.routing.models import channel_kind_of
from threadline.sla import businesshours
from threadline.sla.businesshours import Calendar
from threadline.sla.events import SlaBreached, SlaNotificationRequested, SlaWarned
from threadline.sla.models import LIVE_STATES, BusinessSchedule, Metric, SlaPolicy, SlaTimer, TimerState
from threadline.tenancy.models import Brand, Workspace
from threadline.tenancy.permissions import Permission, holders

ESCALATION_TYPES = {"notify", "reassign", "set_priority"}
# A conversation's timers, read by the subscriber for each new conversation and message (compiled once, issue 11)
_LIVE_WITH_POLICY = Prepared(lambda conversation_id: SlaTimer.objects.filter(
    conversation_id=conversation_id, state__in=LIVE_STATES).select_related("policy"))
_LIVE_OF_METRIC = Prepared(lambda conversation_id, metric: SlaTimer.objects.filter(
    conversation_id=conversation_id, metric=metric, state__in=LIVE_STATES))
_METRICS_EVER = Prepared(lambda conversation_id: SlaTimer.objects.filter(
    conversation_id=conversation_id).values_list("metric", flat=True))
_NOT_CANCELLED = Prepared(lambda conversation_id: SlaTimer.objects.filter(
    conversation_id=conversation_id).exclude(state=TimerState.CANCELLED).order_by("id"))
CONDITION_KEYS = {"priorities", "channel_kinds", "brand_ids", "languages", "team_ids", "tags", "contact_attributes"}


# ── schedules ────────────────────────────────────────────────────────────────────────────────────────
def check_custom_holidays(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    clean = []
    for item in items:
        try:
            day = dt.date.fromisoformat(str(item.get("date", "")))
        except ValueError as exc:
            raise ValidationFailed(_("Holiday dates are YYYY-MM-DD."), code="invalid_date",
                                   field="custom_holidays") from exc
        clean.append({"date": day.isoformat(), "name": str(item.get("name", ""))[:200]})
    return clean


def check_brand(workspace: Workspace, brand_id: int | None) -> Brand | None:
    if brand_id is None:
        return None
    brand = Brand.objects.filter(workspace=workspace, pk=brand_id).first()
    if brand is None:
        raise ValidationFailed(_("No such brand."), code="invalid_brand", field="brand_id")
    return brand


def do_save_schedule(
    workspace: Workspace, schedule: BusinessSchedule | None, *, name: str, time_zone: str,
    weekly: dict[str, list[list[str]]], holiday_country: str = "", holiday_subdiv: str = "",
    custom_holidays: list[dict[str, Any]] | None = None, brand_id: int | None = None,
) -> BusinessSchedule:
    """Create (schedule None) or replace a schedule; every field is validated before anything is written."""
    name = (name or "").strip()[:200]
    if not name:
        raise ValidationFailed(_("A schedule needs a name."), code="invalid_name", field="name")
    businesshours.check_zone(time_zone)
    weekly = businesshours.check_weekly(weekly)
    country, subdiv = businesshours.check_country(holiday_country, holiday_subdiv)
    holidays = check_custom_holidays(custom_holidays or [])
    brand = check_brand(workspace, brand_id)
    if brand is not None and BusinessSchedule.objects.filter(brand=brand).exclude(
            pk=schedule.pk if schedule else None).exists():
        raise ValidationFailed(_("That brand has a schedule already."), code="brand_has_schedule", field="brand_id")
    created = schedule is None
    schedule = schedule or BusinessSchedule(workspace=workspace)
    schedule.name, schedule.time_zone, schedule.weekly = name, time_zone, weekly
    schedule.holiday_country, schedule.holiday_subdiv = country, subdiv
    schedule.custom_holidays, schedule.brand = holidays, brand
    schedule.save()
    record_change("schedule.created" if created else "schedule.updated", schedule,
                  {"name": name, "time_zone": time_zone, "weekly": weekly, "holiday_country": country,
                   "custom_holidays": len(holidays), "brand_id": brand.pk if brand else None})
    return schedule


# ── policies ─────────────────────────────────────────────────────────────────────────────────────────
def check_conditions(conditions: dict[str, Any]) -> dict[str, Any]:
    unknown = set(conditions) - CONDITION_KEYS
    if unknown:
        raise ValidationFailed(_("Unknown condition %(c)s.") % {"c": ", ".join(sorted(unknown))},
                               code="invalid_condition", field="conditions")
    for key in ("priorities", "channel_kinds", "brand_ids", "languages", "team_ids", "tags"):
        if key in conditions and not isinstance(conditions[key], list):
            raise ValidationFailed(_("%(k)s must be a list.") % {"k": key}, code="invalid_condition",
                                   field="conditions")
    for value in conditions.get("priorities", []):
        if value not in Priority.values:
            raise ValidationFailed(_("Unknown priority %(p)s.") % {"p": value}, code="invalid_priority",
                                   field="conditions")
    if not isinstance(conditions.get("contact_attributes", {}), dict):
        raise ValidationFailed(_("contact_attributes must be an object."), code="invalid_condition",
                               field="conditions")
    return conditions


def check_escalation(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for step in steps:
        if step.get("type") not in ESCALATION_TYPES:
            raise ValidationFailed(_("Unknown escalation %(t)s.") % {"t": step.get("type")},
                                   code="invalid_escalation", field="escalation")
        if step["type"] == "set_priority" and step.get("value") not in Priority.values:
            raise ValidationFailed(_("set_priority needs a known priority value."), code="invalid_escalation",
                                   field="escalation")
    return steps


def do_save_policy(workspace: Workspace, policy: SlaPolicy | None, **fields: Any) -> SlaPolicy:
    """Create or replace an SLA policy; timers already running keep their deadlines."""
    name = (fields.get("name") or "").strip()[:200]
    if not name:
        raise ValidationFailed(_("A policy needs a name."), code="invalid_name", field="name")
    schedule_id = fields.get("schedule_id")
    schedule = None
    if schedule_id is not None:
        schedule = BusinessSchedule.objects.filter(workspace=workspace, pk=schedule_id).first()
        if schedule is None:
            raise ValidationFailed(_("No such schedule."), code="invalid_schedule", field="schedule_id")
    targets = [fields.get(f"{m}_minutes") for m in Metric.values]
    if not any(targets):
        raise ValidationFailed(_("A policy needs at least one target."), code="no_target")
    created = policy is None
    policy = policy or SlaPolicy(workspace=workspace)
    policy.name, policy.schedule = name, schedule
    policy.position = fields.get("position", 0)
    policy.is_active = fields.get("is_active", True)
    policy.conditions = check_conditions(fields.get("conditions") or {})
    policy.first_response_minutes, policy.next_response_minutes, policy.resolution_minutes = targets
    policy.warn_before_minutes = fields.get("warn_before_minutes", 15)
    policy.escalation = check_escalation(fields.get("escalation") or [])
    policy.save()
    record_change("sla_policy.created" if created else "sla_policy.updated", policy,
                  {"name": name, "position": policy.position, "active": policy.is_active,
                   "targets": targets, "schedule_id": policy.schedule_id, "conditions": policy.conditions,
                   "escalation": policy.escalation})
    return policy


# ── choosing a policy ────────────────────────────────────────────────────────────────────────────────
def policy_matches(policy: SlaPolicy, conversation: Conversation) -> bool:
    c = policy.conditions
    if "priorities" in c and conversation.priority not in c["priorities"]:
        return False
    if "channel_kinds" in c and channel_kind_of(conversation) not in c["channel_kinds"]:
        return False
    if "brand_ids" in c and conversation.brand_id not in c["brand_ids"]:
        return False
    if "languages" in c and conversation.language not in c["languages"]:
        return False
    if "team_ids" in c and conversation.team_id not in c["team_ids"]:
        return False
    if "tags" in c and not conversation.tags.filter(name__in=c["tags"]).exists():
        return False
    attributes = conversation.contact.attributes or {}
    return all(attributes.get(k) == v for k, v in c.get("contact_attributes", {}).items())


_ACTIVE_POLICIES = Prepared(lambda workspace_id: SlaPolicy.objects.filter(workspace_id=workspace_id, is_active=True)
                            .select_related("schedule"))


def active_policies(workspace_id: int) -> list[SlaPolicy]:
    """The workspace's active policies by position (read once per batch)."""
    return cached(("sla.policies", workspace_id), lambda: _ACTIVE_POLICIES.all(workspace_id))


def has_policies(workspace_id: int) -> bool:
    return bool(active_policies(workspace_id))


def select_policy(conversation: Conversation) -> SlaPolicy | None:
    """The first active policy (by position) whose conditions hold for the conversation."""
    return next((p for p in active_policies(conversation.workspace_id) if policy_matches(p, conversation)), None)


def calendar_for(policy: SlaPolicy, conversation: Conversation) -> Calendar | None:
    """The policy's schedule, else the conversation's team's, else its brand's, else None (24/7)."""
    from threadline.routing.models import TeamPolicy

    if policy.schedule is not None:
        return policy.schedule.calendar()
    if conversation.team_id:
        team_policy = TeamPolicy.objects.filter(team_id=conversation.team_id, schedule__isnull=False).select_related(
            "schedule").first()
        if team_policy is not None:
            return team_policy.schedule.calendar()
    if conversation.brand_id:
        schedule = BusinessSchedule.objects.filter(brand_id=conversation.brand_id).first()
        if schedule is not None:
            return schedule.calendar()
    return None


# ── timers ───────────────────────────────────────────────────────────────────────────────────────────
def _schedule_checks(timer: SlaTimer) -> None:
    from threadline.sla.tasks import sla_timer_task

    for kind, moment in (("warn", timer.warn_at), ("due", timer.due_at)):
        if moment is not None:
            sla_timer_task.enqueue(timer.pk, run_after=moment,
                                   unique_key=f"sla:{timer.pk}:{kind}:{int(moment.timestamp())}")


def _set_deadlines(timer: SlaTimer, calendar: Calendar | None, start: dt.datetime, remaining: int) -> None:
    policy = timer.policy
    timer.due_at = businesshours.add_business_time(calendar, start, dt.timedelta(seconds=remaining))
    warn_seconds = remaining - policy.warn_before_minutes * 60
    timer.warn_at = None
    if timer.warned_at is None and policy.warn_before_minutes and warn_seconds > 0:
        timer.warn_at = businesshours.add_business_time(calendar, start, dt.timedelta(seconds=warn_seconds))


def do_start_timer(conversation: Conversation, policy: SlaPolicy, metric: str, started_at: dt.datetime) -> SlaTimer | None:
    """Start one target unless the policy has none for `metric` or one is live already."""
    minutes = policy.target_minutes(metric)
    if not minutes or _LIVE_OF_METRIC.exists(conversation.pk, str(metric)):
        return None
    timer = SlaTimer(workspace_id=conversation.workspace_id, conversation=conversation, policy=policy, metric=metric,
                     started_at=started_at, target_seconds=minutes * 60)
    _set_deadlines(timer, calendar_for(policy, conversation), started_at, timer.target_seconds)
    if conversation.status in (Status.PENDING, Status.ON_HOLD):
        timer.state, timer.paused_at, timer.remaining_seconds = TimerState.PAUSED, started_at, timer.target_seconds
        timer.warn_at = timer.due_at = None
    timer.save()
    record_event(conversation, "sla_started", metric=metric, policy_id=policy.pk,
                 due_at=timer.due_at.isoformat() if timer.due_at else None)
    _schedule_checks(timer)
    return timer


def do_apply_policy(conversation: Conversation, at: dt.datetime) -> SlaPolicy | None:
    """Bring the conversation's timers in line with the policy its current fields select.

    Idempotent. A different policy (say priority became urgent) replaces live timers, counted from their
    original start; a conversation with no matching policy has its live timers cancelled.
    """
    policy = select_policy(conversation) if conversation.status in ACTIVE_STATUSES else None
    live = _LIVE_WITH_POLICY.all(conversation.pk)
    changed = False
    for timer in live:
        if policy is None or timer.policy_id != policy.pk:
            timer.state = TimerState.CANCELLED
            timer.save(update_fields=["state", "updated_at"])
            changed = True
            if policy is not None:
                do_start_timer(conversation, policy, timer.metric, timer.started_at)
    if policy is not None:
        ever = set(_METRICS_EVER.all(conversation.pk))
        if conversation.first_response_at is None and Metric.FIRST_RESPONSE not in ever:
            changed |= do_start_timer(conversation, policy, Metric.FIRST_RESPONSE, conversation.created_at) is not None
        if Metric.RESOLUTION not in ever:
            changed |= do_start_timer(conversation, policy, Metric.RESOLUTION, conversation.created_at) is not None
        elif not _LIVE_OF_METRIC.exists(conversation.pk, str(Metric.RESOLUTION)):
            changed |= do_start_timer(conversation, policy, Metric.RESOLUTION, at) is not None  # reopened
    if changed or not conversation.sla_state:  # every change of a timer mirrors itself: unchanged stays true
        sync_sla_state(conversation)
    return policy


def do_start_next_response(conversation: Conversation, at: dt.datetime) -> SlaTimer | None:
    """The customer wrote again after being answered: the next-response clock starts."""
    if conversation.first_response_at is None:
        return None
    if SlaTimer.objects.filter(conversation=conversation, metric=Metric.FIRST_RESPONSE,
                               state__in=LIVE_STATES).exists():
        return None
    policy = select_policy(conversation)
    timer = do_start_timer(conversation, policy, Metric.NEXT_RESPONSE, at) if policy else None
    if timer is not None:
        sync_sla_state(conversation)
    return timer


def do_fulfil(conversation: Conversation, metrics: list[str], at: dt.datetime) -> int:
    """Mark live timers of `metrics` as met at `at` (a late answer is still recorded as met, and breached)."""
    done = 0
    for timer in SlaTimer.objects.filter(conversation=conversation, metric__in=metrics, state__in=LIVE_STATES):
        timer.state, timer.fulfilled_at = TimerState.FULFILLED, at
        timer.save(update_fields=["state", "fulfilled_at", "updated_at"])
        record_event(conversation, "sla_fulfilled", metric=timer.metric, late=timer.breached_at is not None)
        done += 1
    if done:
        sync_sla_state(conversation)
    return done


def do_cancel(conversation: Conversation, metrics: list[str]) -> None:
    SlaTimer.objects.filter(conversation=conversation, metric__in=metrics, state__in=LIVE_STATES).update(
        state=TimerState.CANCELLED, updated_at=now())
    sync_sla_state(conversation)


def do_pause(conversation: Conversation, at: dt.datetime) -> int:
    """Pending or on hold: stop every running clock and keep the business time left."""
    paused = 0
    for timer in SlaTimer.objects.filter(conversation=conversation, state=TimerState.RUNNING).select_related("policy"):
        calendar = calendar_for(timer.policy, conversation)
        left = businesshours.business_time_between(calendar, at, timer.due_at) if timer.due_at else dt.timedelta(0)
        timer.state, timer.paused_at = TimerState.PAUSED, at
        timer.remaining_seconds = int(left.total_seconds())
        timer.due_at = timer.warn_at = None
        timer.save(update_fields=["state", "paused_at", "remaining_seconds", "due_at", "warn_at", "updated_at"])
        paused += 1
    if paused:
        record_event(conversation, "sla_paused", status=conversation.status)
    sync_sla_state(conversation)
    return paused


def do_resume(conversation: Conversation, at: dt.datetime) -> int:
    """Open again: each paused clock continues with the business time it had left."""
    resumed = 0
    for timer in SlaTimer.objects.filter(conversation=conversation, state=TimerState.PAUSED).select_related("policy"):
        _set_deadlines(timer, calendar_for(timer.policy, conversation), at, max(0, timer.remaining_seconds or 0))
        timer.state, timer.paused_at, timer.remaining_seconds = TimerState.RUNNING, None, None
        timer.save(update_fields=["state", "paused_at", "remaining_seconds", "due_at", "warn_at", "updated_at"])
        _schedule_checks(timer)
        resumed += 1
    if resumed:
        record_event(conversation, "sla_resumed")
        sync_sla_state(conversation)  # no paused timer, nothing changed: the mirror is as it was
    return resumed


def do_check_timer(timer: SlaTimer, at: dt.datetime) -> str | None:
    """Record a warning or a breach that is due at `at`, once each; returns what happened."""
    if timer.state != TimerState.RUNNING:
        return None
    conversation = timer.conversation
    if timer.due_at is not None and timer.due_at <= at and timer.breached_at is None:
        claimed = SlaTimer.objects.filter(pk=timer.pk, breached_at__isnull=True).update(breached_at=at, warn_at=None)
        if not claimed:
            return None
        timer.breached_at, timer.warn_at = at, None
        record_event(conversation, "sla_breached", metric=timer.metric, due_at=timer.due_at.isoformat())
        publish(SlaBreached(workspace_id=timer.workspace_id, conversation_id=conversation.pk, timer_id=timer.pk,
                            metric=timer.metric, due_at=timer.due_at.isoformat(), policy_id=timer.policy_id))
        do_escalate(timer)
        sync_sla_state(conversation)
        return "breached"
    if timer.warn_at is not None and timer.warn_at <= at and timer.warned_at is None:
        if not SlaTimer.objects.filter(pk=timer.pk, warned_at__isnull=True).update(warned_at=at):
            return None
        timer.warned_at = at
        record_event(conversation, "sla_warning", metric=timer.metric, due_at=timer.due_at.isoformat())
        publish(SlaWarned(workspace_id=timer.workspace_id, conversation_id=conversation.pk, timer_id=timer.pk,
                          metric=timer.metric, due_at=timer.due_at.isoformat()))
        sync_sla_state(conversation)
        return "warned"
    return None


def _recipients(conversation: Conversation) -> list[int]:
    if conversation.assignee_id:
        ids = {conversation.assignee_id}
    elif conversation.team_id:
        ids = set(conversation.team.members.filter(is_active=True).values_list("id", flat=True))
    else:
        ids = set()
    ids |= set(holders(conversation.workspace_id, Permission.ADMIN_ROUTING).values_list("id", flat=True))
    return sorted(ids)


def do_escalate(timer: SlaTimer) -> None:
    """Run the policy's escalation steps for a breach: notify, reassign, raise priority."""
    conversation = timer.conversation
    for step in timer.policy.escalation:
        if step["type"] == "notify":
            publish(SlaNotificationRequested(workspace_id=conversation.workspace_id, conversation_id=conversation.pk,
                                             metric=timer.metric, recipient_ids=_recipients(conversation)))
        elif step["type"] == "set_priority":
            do_update_conversation(None, conversation, priority=step["value"])
        elif step["type"] == "reassign":
            from threadline.routing.actions import do_reassign

            do_reassign(conversation, reason="sla_breached")
        record_event(conversation, "sla_escalated", metric=timer.metric, step=step)


def state_of(conversation: Conversation) -> dict[str, Any]:
    """The SLA summary shown on the conversation: one entry per metric, the latest timer of each."""
    metrics: dict[str, Any] = {}
    policy_id = None
    for timer in _NOT_CANCELLED.all(conversation.pk):
        policy_id = timer.policy_id
        metrics[timer.metric] = {
            "state": timer.state,
            "due_at": timer.due_at.isoformat() if timer.due_at else None,
            "started_at": timer.started_at.isoformat(),
            "warned": timer.warned_at is not None,
            "breached": timer.breached_at is not None,
            "fulfilled_at": timer.fulfilled_at.isoformat() if timer.fulfilled_at else None,
            "remaining_seconds": timer.remaining_seconds,
        }
    return {"policy_id": policy_id, "metrics": metrics}


def sync_sla_state(conversation: Conversation) -> None:
    """Mirror the timers into `Conversation.sla_state` (read by lists and the API without a join)."""
    state = state_of(conversation)
    if conversation.sla_state == state:  # read in this transaction (the subscribers lock it): nothing to write
        return
    conversation.sla_state = state
    update_columns(conversation, ["sla_state"])


def overdue_timers(at: dt.datetime) -> Any:
    """Running timers whose warning or deadline has passed without being recorded (for the sweep)."""
    return SlaTimer.objects.filter(state=TimerState.RUNNING).filter(
        Q(due_at__lte=at, breached_at__isnull=True) | Q(warn_at__lte=at, warned_at__isnull=True)
    )


def do_delete_schedule(schedule: BusinessSchedule) -> None:
    """An admin deletes a business-hours schedule. The caller holds the transaction and has checked the actor is an admin."""
    record_change("schedule.deleted", schedule, {"name": schedule.name})
    schedule.delete()


def do_delete_policy(policy: SlaPolicy) -> None:
    """An admin deletes an SLA policy. The caller holds the transaction and has checked the actor is an admin."""
    record_change("sla_policy.deleted", policy, {"name": policy.name})
    policy.delete()
