"""Survey writes: an admin saves a survey; a solved conversation gets one (throttled, consent respected); an
answer is recorded once. The caller owns the transaction; events are published after commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.channels import registry
from threadline.consent.queries import is_opted_out
from threadline.contacts.models import ContactIdentity
from threadline.conversations.actions import check_send_allowed, queue_outbound, record_event, reply_target
from threadline.conversations.models import AuthorKind, Conversation, Message, Status
from threadline.core.errors import ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.redaction.ingest import mask_text
from threadline.surveys import links, template_survey, wording
from threadline.surveys.events import SurveyAnswered
from threadline.surveys.models import (
    ORDER,
    SCALES,
    Kind,
    Survey,
    SurveyRequest,
    SurveyResponse,
    SurveySettings,
    Trigger,
)
from threadline.surveys.quiet_hours import quiet_until
from threadline.tenancy.models import Membership, Workspace
from threadline.tenancy.permissions import Permission, require

# Every channel kind can carry a survey: score buttons up to the adapter's `capabilities.max_choices`, else
# "reply with a number"; email and the portal get signed rating links; voice asks for DTMF digits after the
# call (`surveys/voice.py`), never when the conversation is solved. The API channel is a machine integration:
# it gets surveys (its outbound JSON carries the `choices`) only when a survey names it among its channel kinds.
LINK_KINDS = ("email", "portal")
OPT_IN_KINDS = ("api",)
AFTER_CALL_KINDS = ("voice",)
MAX_COMMENT = 2000


def check_survey(kind: str, *, throttle_days: int, channel_kinds: list[str], wording_by_language: dict[str, str],
                 schedule_days: int = 0, whatsapp_template: dict[str, Any] | None = None
                 ) -> tuple[int, list[str], dict[str, str], int, dict[str, Any]]:
    if kind not in Kind.values:
        raise ValidationFailed(_("Unknown survey kind."), code="invalid_kind", field="kind")
    if not 0 <= throttle_days <= 3650:
        raise ValidationFailed(_("The throttle is between 0 and 3650 days."), code="invalid_throttle",
                               field="throttle_days")
    unknown = [k for k in channel_kinds if k not in registry.ADAPTERS]
    if unknown:
        raise ValidationFailed(_("Surveys cannot go on these channels: %(kinds)s.") % {"kinds": ", ".join(unknown)},
                               code="invalid_channel_kinds", field="channel_kinds")
    if schedule_days and (kind != Kind.NPS or not 7 <= schedule_days <= 3650):
        raise ValidationFailed(_("Only NPS runs on a schedule, every 7 to 3650 days."), code="invalid_schedule",
                               field="schedule_days")
    texts = {str(lang)[:16]: str(text).strip()[:1000] for lang, text in wording_by_language.items() if str(text).strip()}
    return throttle_days, sorted(set(channel_kinds)), texts, schedule_days, check_template_setting(
        kind, whatsapp_template or {})


def check_template_setting(kind: str, value: dict[str, Any]) -> dict[str, Any]:
    """{"name", "language", "scores"} of the template sent outside WhatsApp's window, or {} for none."""
    name = str(value.get("name") or "").strip()
    if not name:
        return {}
    low, high = SCALES[kind]
    try:
        scores = [int(s) for s in value.get("scores") or []]
    except (TypeError, ValueError):
        scores = []
    if not scores or len(scores) > 10 or len(set(scores)) != len(scores) or not all(low <= s <= high for s in scores):
        raise ValidationFailed(_("Give the score of each of the template's quick-reply buttons (up to 10, each "
                                 "from %(low)d to %(high)d, none twice).") % {"low": low, "high": high},
                               code="invalid_template_scores", field="whatsapp_template")
    return {"name": name[:512], "language": str(value.get("language") or "").strip()[:16], "scores": scores}


def do_save_survey(actor: Membership, kind: str, *, enabled: bool, throttle_days: int = 30,
                   channel_kinds: list[str] | None = None, wording_by_language: dict[str, str] | None = None,
                   schedule_days: int = 0, whatsapp_template: dict[str, Any] | None = None) -> Survey:
    """An admin switches a kind of survey on or off and sets its throttle, channels, wording, NPS schedule and
    the WhatsApp template it uses outside the 24-hour window."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    throttle_days, kinds, texts, schedule_days, template = check_survey(
        kind, throttle_days=throttle_days, channel_kinds=channel_kinds or [],
        wording_by_language=wording_by_language or {}, schedule_days=schedule_days,
        whatsapp_template=whatsapp_template)
    survey, _created = Survey.objects.update_or_create(
        workspace_id=actor.workspace_id, kind=kind,
        defaults={"enabled": enabled, "throttle_days": throttle_days, "channel_kinds": kinds, "wording": texts,
                  "schedule_days": schedule_days, "whatsapp_template": template})
    record_change("survey.saved", survey, {"kind": kind, "enabled": enabled, "throttle_days": throttle_days,
                                           "schedule_days": schedule_days}, actor=actor)
    return survey


def check_quiet_hours(start: dt.time | None, end: dt.time | None) -> tuple[dt.time | None, dt.time | None]:
    if (start is None) != (end is None) or (start is not None and start == end):
        raise ValidationFailed(_("Quiet hours need a start and a different end, or neither."),
                               code="invalid_quiet_hours", field="quiet_start")
    return start, end


def do_save_survey_settings(actor: Membership, *, quiet_start: dt.time | None, quiet_end: dt.time | None
                            ) -> SurveySettings:
    """An admin sets the workspace's quiet hours for surveys (both empty: none)."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    quiet_start, quiet_end = check_quiet_hours(quiet_start, quiet_end)
    found, _created = SurveySettings.objects.update_or_create(
        workspace_id=actor.workspace_id, defaults={"quiet_start": quiet_start, "quiet_end": quiet_end})
    record_change("survey_settings.saved", found, {"quiet_start": str(quiet_start or ""),
                                                  "quiet_end": str(quiet_end or "")}, actor=actor)
    return found


def survey_for(workspace: Workspace, channel_kind: str, *, trigger: str = Trigger.SOLVED) -> Survey | None:
    """The survey a conversation on `channel_kind` gets now: the first switched on (CSAT, CES, NPS) for the
    trigger (a scheduled NPS goes only on its schedule; voice only after a call)."""
    if channel_kind not in registry.ADAPTERS or (channel_kind in AFTER_CALL_KINDS) != (trigger == Trigger.CALL):
        return None
    surveys = {s.kind: s for s in Survey.objects.filter(workspace=workspace, enabled=True)}
    for kind in ORDER:
        survey = surveys.get(kind)
        if survey is not None and carries(survey, channel_kind, trigger):
            return survey
    return None


def carries(survey: Survey, channel_kind: str, trigger: str) -> bool:
    """May `survey` go on `channel_kind` for this trigger (its channel kinds, NPS's schedule, voice's call)?"""
    if channel_kind not in registry.ADAPTERS or (channel_kind in AFTER_CALL_KINDS) != (trigger == Trigger.CALL):
        return False
    if bool(survey.schedule_days) != (trigger == Trigger.SCHEDULE):
        return False
    return channel_kind in survey.channel_kinds or (not survey.channel_kinds and channel_kind not in OPT_IN_KINDS)


def throttled(survey: Survey, contact_id: int) -> bool:
    since = now() - dt.timedelta(days=survey.throttle_days)
    return SurveyRequest.objects.filter(workspace_id=survey.workspace_id, contact_id=contact_id,
                                        created_at__gte=since).exists()


def quiet_hours_end(workspace: Workspace, contact: Any) -> dt.datetime | None:
    """When the workspace's quiet hours end if it is inside them now for this contact, else None."""
    return quiet_until(SurveySettings.objects.filter(workspace=workspace).first(),
                       getattr(contact, "time_zone", "") or workspace.time_zone, now())


SENDABLE = (Status.SOLVED, Status.CLOSED)


def do_send_survey(conversation: Conversation, *, trigger: str = Trigger.SOLVED,
                   survey: Survey | None = None) -> SurveyRequest | None:
    """Send the workspace's survey on a solved conversation's last customer channel, natively: score buttons
    where the channel has enough, "reply with a number" where it has none or too few, rating links by email
    and in the portal, an approved template outside WhatsApp's window. Inside the workspace's quiet hours the
    request waits (`due_at`) for `send_due_surveys_task`. None when no survey applies: none on, another one
    within the throttle; a refusal (opted out, a closed window without a template) is put on the timeline."""
    if conversation.status not in SENDABLE or conversation.merged_into_id:
        return None
    if trigger == Trigger.SOLVED and conversation.status != Status.SOLVED:
        return None
    try:
        channel, identity = reply_target(conversation, None)
    except ValidationFailed:
        return None
    if survey is None:
        survey = survey_for(conversation.workspace, channel.kind, trigger=trigger)
    elif not carries(survey, channel.kind, trigger):
        return None  # the scheduled NPS, but not on this channel kind (voice, an API channel not named)
    if survey is None or throttled(survey, conversation.contact_id):
        return None
    template, refused = _how(conversation, identity, channel, survey)
    if refused:
        record_event(conversation, "survey_not_sent", survey_kind=survey.kind, reason=refused,
                     channel_id=channel.pk)
        return None
    request = SurveyRequest.objects.create(workspace_id=conversation.workspace_id, survey=survey, kind=survey.kind,
                                           conversation=conversation, contact_id=conversation.contact_id,
                                           channel=channel, trigger=trigger)
    until = quiet_hours_end(conversation.workspace, conversation.contact)
    if until is not None:
        request.due_at = until
        request.save(update_fields=["due_at", "updated_at"])
        record_event(conversation, "survey_held", survey_kind=survey.kind, request_id=request.pk,
                     until=until.isoformat())
        return request
    _deliver(request, conversation, channel, identity, template)
    return request


def do_send_due_survey(request: SurveyRequest) -> bool:
    """A survey held by quiet hours, now due: sent on the conversation's last channel as then (consent and
    the channel's window checked again; refused, the request is withdrawn and the timeline says why)."""
    locked = SurveyRequest.objects.select_for_update().filter(pk=request.pk, due_at__isnull=False,
                                                              message__isnull=True).first()
    if locked is None:
        return False
    conversation = Conversation.objects.select_related("workspace", "contact").get(pk=locked.conversation_id)
    try:
        channel, identity = reply_target(conversation, None)
    except ValidationFailed as exc:
        return _withdraw(locked, conversation, exc.code, None)
    template, refused = _how(conversation, identity, channel, locked.survey)
    if refused:
        return _withdraw(locked, conversation, refused, channel)
    until = quiet_hours_end(conversation.workspace, conversation.contact)
    if until is not None:  # the quiet hours moved (or the time zone): wait again
        locked.due_at = until
        locked.save(update_fields=["due_at", "updated_at"])
        return False
    locked.due_at = None
    locked.channel = channel
    _deliver(locked, conversation, channel, identity, template)
    return True


def _withdraw(request: SurveyRequest, conversation: Conversation, reason: str, channel: Any) -> bool:
    record_event(conversation, "survey_not_sent", survey_kind=request.kind, reason=reason,
                 channel_id=channel.pk if channel else None)
    request.delete()
    return False


def _how(conversation: Conversation, identity: ContactIdentity, channel: Any, survey: Survey
         ) -> tuple[Any | None, str]:
    """(the approved template to use, None for a free-form message; the reason code when none may go)."""
    if is_opted_out(channel, identity.kind, identity.address):
        return None, "opted_out"
    try:
        check_send_allowed(conversation, identity, channel)
    except ValidationFailed as exc:
        if exc.code != "outside_reply_window":
            return None, exc.code  # no consent, no identity: no survey
        row = template_survey.approved_template(survey, channel)
        if row is None:
            return None, template_survey.NO_TEMPLATE  # a closed window and no approved template: none
        return row, ""
    return None, ""


def _deliver(request: SurveyRequest, conversation: Conversation, channel: Any, identity: ContactIdentity,
             template: Any | None) -> None:
    survey = request.survey
    language = conversation.language or conversation.workspace.default_language
    text, html, metadata = _body(request, channel.kind, survey, language)
    if template is not None:
        metadata.pop("choices", None)
        metadata["template"], text = template_survey.template_message(survey, template, request.pk)
        html = ""
    request.by_text = not metadata.get("choices") and not metadata.get("template") and channel.kind not in LINK_KINDS
    request.message = queue_outbound(conversation, channel, identity, text, html=html, author_kind=AuthorKind.SYSTEM,
                                     language=language, metadata=metadata)
    request.save(update_fields=["by_text", "message", "channel", "due_at", "updated_at"])
    record_event(conversation, "survey_sent", survey_kind=survey.kind, request_id=request.pk, channel_id=channel.pk,
                 template=bool(template))


def _body(request: SurveyRequest, channel_kind: str, survey: Survey, language: str
          ) -> tuple[str, str, dict[str, Any]]:
    question = wording.question(survey, language)
    metadata: dict[str, Any] = {"survey": {"request_id": request.pk, "kind": request.kind}, "language": language}
    if channel_kind in LINK_KINDS:
        text, html = links.email_body(request, question, language)
        return text, html, metadata
    offered = wording.score_choices(request.pk, request.kind)
    if len(offered) <= registry.adapter_for(channel_kind).capabilities.max_choices:
        return question, "", {**metadata, "choices": offered}
    return f"{question}\n\n{wording.number_prompt(request.kind, language)}", "", metadata


def pending_request(contact_id: int, *, request_id: int | None = None) -> SurveyRequest | None:
    """The contact's survey still waiting for an answer (the newest), or the one a button names."""
    found = SurveyRequest.objects.filter(contact_id=contact_id, answered_at__isnull=True, due_at__isnull=True,
                                         created_at__gte=now() - ANSWER_WINDOW)
    if request_id is not None:
        found = found.filter(pk=request_id)
    return found.select_related("conversation").order_by("-id").first()


ANSWER_WINDOW = dt.timedelta(days=7)


def check_score(kind: str, score: int) -> int:
    low, high = SCALES[kind]
    if not low <= score <= high:
        raise ValidationFailed(_("The score is between %(low)d and %(high)d.") % {"low": low, "high": high},
                               code="invalid_score", field="score")
    return score


def do_record_answer(request: SurveyRequest, score: int, *, channel_id: int | None,
                     message: Message | None = None) -> SurveyResponse | None:
    """Record the customer's score once (a second answer to the same request is ignored: None). The
    conversation keeps its status: an answer is not a new question."""
    locked = SurveyRequest.objects.select_for_update().get(pk=request.pk)
    if locked.answered_at is not None:
        return None
    score = check_score(locked.kind, score)
    moment = now()
    locked.answered_at = moment
    locked.save(update_fields=["answered_at", "updated_at"])
    response = SurveyResponse.objects.create(
        workspace_id=locked.workspace_id, request=locked, conversation_id=locked.conversation_id,
        contact_id=locked.contact_id, channel_id=channel_id, kind=locked.kind, score=score, responded_at=moment)
    conversation = Conversation.objects.get(pk=locked.conversation_id)
    record_event(conversation, "survey_answered", survey_kind=locked.kind, score=score, response_id=response.pk,
                 message_id=message.pk if message else None)
    publish(SurveyAnswered(workspace_id=locked.workspace_id, response_id=response.pk,
                           conversation_id=locked.conversation_id, contact_id=locked.contact_id,
                           channel_id=channel_id, kind=locked.kind, score=score))
    return response


def do_add_comment(response: SurveyResponse, comment: str) -> SurveyResponse:
    """The customer's comment after a score (the email comment page), once."""
    comment = comment.strip()[:MAX_COMMENT]
    if response.comment:
        raise ValidationFailed(_("This answer already has a comment."), code="comment_exists", field="comment")
    if comment:
        response.comment = mask_text(response.workspace, comment)  # personal identifiers, as at ingest
        response.save(update_fields=["comment", "updated_at"])
    return response


def thank_you(language: str) -> str:
    with translation.override(language or None):
        return _("Thank you for your feedback.")
