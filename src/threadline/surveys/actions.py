"""Survey writes: an admin saves a survey; a solved conversation gets one (throttled, consent respected); an
answer is recorded once. The caller owns the transaction; events are published after commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.consent.queries import is_opted_out
from threadline.contacts.models import ContactIdentity
from threadline.conversations.actions import check_send_allowed, queue_outbound, record_event, reply_target
from threadline.conversations.models import AuthorKind, Conversation, Message, Status
from threadline.core.errors import ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.surveys import links, wording
from threadline.surveys.events import SurveyAnswered
from threadline.surveys.models import ORDER, SCALES, Kind, Survey, SurveyRequest, SurveyResponse
from threadline.tenancy.models import Membership, Workspace
from threadline.tenancy.permissions import Permission, require

# The channel kinds a survey goes on, with how many buttons each shows natively (WhatsApp: a list of at most
# ten rows; LINE and Messenger: 13 quick replies); 0: none, the customer replies with a number; email: links.
# Voice, the API and the portal have no way to offer scores and get none.
MAX_CHOICES: dict[str, int] = {"webchat": 11, "whatsapp": 10, "telegram": 11, "line": 13, "messenger": 13,
                               "instagram": 13, "sms": 0, "wechat": 0, "email": 0}
MAX_COMMENT = 2000


def check_survey(kind: str, *, throttle_days: int, channel_kinds: list[str], wording_by_language: dict[str, str]
                 ) -> tuple[int, list[str], dict[str, str]]:
    if kind not in Kind.values:
        raise ValidationFailed(_("Unknown survey kind."), code="invalid_kind", field="kind")
    if not 0 <= throttle_days <= 3650:
        raise ValidationFailed(_("The throttle is between 0 and 3650 days."), code="invalid_throttle",
                               field="throttle_days")
    unknown = [k for k in channel_kinds if k not in MAX_CHOICES]
    if unknown:
        raise ValidationFailed(_("Surveys cannot go on these channels: %(kinds)s.") % {"kinds": ", ".join(unknown)},
                               code="invalid_channel_kinds", field="channel_kinds")
    texts = {str(lang)[:16]: str(text).strip()[:1000] for lang, text in wording_by_language.items() if str(text).strip()}
    return throttle_days, sorted(set(channel_kinds)), texts


def do_save_survey(actor: Membership, kind: str, *, enabled: bool, throttle_days: int = 30,
                   channel_kinds: list[str] | None = None, wording_by_language: dict[str, str] | None = None) -> Survey:
    """An admin switches a kind of survey on or off and sets its throttle, channels and wording."""
    require(actor, Permission.ADMIN_AUTOMATIONS)
    throttle_days, kinds, texts = check_survey(kind, throttle_days=throttle_days, channel_kinds=channel_kinds or [],
                                               wording_by_language=wording_by_language or {})
    survey, _created = Survey.objects.update_or_create(
        workspace_id=actor.workspace_id, kind=kind,
        defaults={"enabled": enabled, "throttle_days": throttle_days, "channel_kinds": kinds, "wording": texts})
    record_change("survey.saved", survey, {"kind": kind, "enabled": enabled, "throttle_days": throttle_days},
                  actor=actor)
    return survey


def survey_for(workspace: Workspace, channel_kind: str) -> Survey | None:
    """The survey a solved conversation on `channel_kind` gets: the first switched on (CSAT, CES, NPS)."""
    if channel_kind not in MAX_CHOICES:
        return None
    surveys = {s.kind: s for s in Survey.objects.filter(workspace=workspace, enabled=True)}
    for kind in ORDER:
        survey = surveys.get(kind)
        if survey is not None and (not survey.channel_kinds or channel_kind in survey.channel_kinds):
            return survey
    return None


def throttled(survey: Survey, contact_id: int) -> bool:
    since = now() - dt.timedelta(days=survey.throttle_days)
    return SurveyRequest.objects.filter(workspace_id=survey.workspace_id, contact_id=contact_id,
                                        created_at__gte=since).exists()


def do_send_survey(conversation: Conversation) -> SurveyRequest | None:
    """Send the workspace's survey on a solved conversation's last customer channel, natively: score buttons
    where the channel has enough, "reply with a number" where it has none or too few, rating links by email.
    None when no survey applies: none on, another one within the throttle, no consent, the channel refuses."""
    if conversation.status != Status.SOLVED or conversation.merged_into_id:
        return None
    try:
        channel, identity = reply_target(conversation, None)
    except ValidationFailed:
        return None
    survey = survey_for(conversation.workspace, channel.kind)
    if survey is None or throttled(survey, conversation.contact_id) or not _may_send(conversation, identity, channel):
        return None
    language = conversation.language or conversation.workspace.default_language
    request = SurveyRequest.objects.create(workspace_id=conversation.workspace_id, survey=survey, kind=survey.kind,
                                           conversation=conversation, contact_id=conversation.contact_id,
                                           channel=channel)
    text, html, metadata = _body(request, channel.kind, survey, language)
    request.by_text = not metadata.get("choices") and channel.kind != "email"
    request.message = queue_outbound(conversation, channel, identity, text, html=html, author_kind=AuthorKind.SYSTEM,
                                     language=language, metadata=metadata)
    request.save(update_fields=["by_text", "message", "updated_at"])
    record_event(conversation, "survey_sent", survey_kind=survey.kind, request_id=request.pk, channel_id=channel.pk)
    return request


def _may_send(conversation: Conversation, identity: ContactIdentity, channel: Any) -> bool:
    if is_opted_out(channel, identity.kind, identity.address):
        return False
    try:
        check_send_allowed(conversation, identity, channel)
    except ValidationFailed:
        return False  # a closed reply window, no consent: no survey rather than a template
    return True


def _body(request: SurveyRequest, channel_kind: str, survey: Survey, language: str
          ) -> tuple[str, str, dict[str, Any]]:
    question = wording.question(survey, language)
    metadata: dict[str, Any] = {"survey": {"request_id": request.pk, "kind": request.kind}, "language": language}
    if channel_kind == "email":
        text, html = links.email_body(request, question, language)
        return text, html, metadata
    offered = wording.score_choices(request.pk, request.kind)
    if len(offered) <= MAX_CHOICES[channel_kind]:
        return question, "", {**metadata, "choices": offered}
    return f"{question}\n\n{wording.number_prompt(request.kind, language)}", "", metadata


def pending_request(contact_id: int, *, request_id: int | None = None) -> SurveyRequest | None:
    """The contact's survey still waiting for an answer (the newest), or the one a button names."""
    found = SurveyRequest.objects.filter(contact_id=contact_id, answered_at__isnull=True,
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
        response.comment = comment
        response.save(update_fields=["comment", "updated_at"])
    return response


def thank_you(language: str) -> str:
    with translation.override(language or None):
        return _("Thank you for your feedback.")
