"""Voice: a DTMF survey after the call. When an agent's call ends (the caller's queue reports `bridged`), the
voice channel asks `survey_after_call` whether a survey is due for the caller (switched on for voice, not
within the throttle, not opted out) and gathers the digits; the call event `survey` it stores comes back as
`call.recorded`, and `do_record_call_answer` records the digits as the score on the call's conversation."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from threadline.channels.models import Channel
from threadline.consent.queries import is_opted_out
from threadline.contacts.models import ContactIdentity
from threadline.conversations.actions import record_event
from threadline.conversations.models import Conversation, ConversationEvent
from threadline.surveys import wording
from threadline.surveys.actions import do_record_answer, survey_for, throttled
from threadline.surveys.models import SCALES, Survey, SurveyRequest, SurveyResponse, Trigger


def survey_after_call(channel: Channel, caller_kind: str, caller_address: str) -> Survey | None:
    """The survey a caller gets when their call with an agent ends, or None (a read: nothing is written)."""
    survey = survey_for(channel.workspace, channel.kind, trigger=Trigger.CALL)
    if survey is None:
        return None
    if is_opted_out(channel, caller_kind, caller_address):
        return None
    identity = ContactIdentity.objects.filter(workspace_id=channel.workspace_id, kind=caller_kind,
                                              address=caller_address).first()
    if identity is not None and throttled(survey, identity.contact_id):
        return None
    return survey


def digits_for(kind: str) -> int:
    """How many keys a score takes (NPS's 10 takes two; the pound key ends a shorter one)."""
    return len(str(SCALES[kind][1]))


def prompt(survey: Survey, language: str) -> str:
    low, high = SCALES[survey.kind]
    with translation.override(language.split("-")[0] or None):
        keys = _("Enter a number from %(low)d to %(high)d on your keypad, then press the pound key.") % {
            "low": low, "high": high}
    return f"{wording.question(survey, language.split('-')[0])} {keys}"


def score_of(kind: str, digits: str) -> int | None:
    """The score keyed in, None when it is not one of the kind's scale."""
    digits = digits.strip().rstrip("#")
    if kind not in SCALES or not digits.isdigit() or len(digits) > digits_for(kind):
        return None
    low, high = SCALES[kind]
    return int(digits) if low <= int(digits) <= high else None


def do_record_call_answer(conversation_id: int, call_id: str) -> SurveyResponse | None:
    """The digits a caller keyed in after their call (the `call_survey` timeline row of the call) as the
    survey's answer on that conversation: one request and one answer per call."""
    row = (ConversationEvent.objects.filter(conversation_id=conversation_id, kind="call_survey",
                                            data__call_id=call_id).order_by("id").first())
    if row is None:
        return None
    details = row.data.get("details") or {}
    kind, score = str(details.get("survey_kind", "")), details.get("score")
    survey = Survey.objects.filter(workspace_id=row.workspace_id, kind=kind).first()
    if survey is None or not isinstance(score, int) or ConversationEvent.objects.filter(
            conversation_id=conversation_id, kind="survey_sent", data__call_id=call_id).exists():
        return None
    conversation = Conversation.objects.get(pk=conversation_id)
    channel_id = row.data.get("channel_id")
    request = SurveyRequest.objects.create(workspace_id=row.workspace_id, survey=survey, kind=kind,
                                           conversation=conversation, contact_id=conversation.contact_id,
                                           channel_id=channel_id, trigger=Trigger.CALL)
    record_event(conversation, "survey_sent", survey_kind=kind, request_id=request.pk, channel_id=channel_id,
                 call_id=call_id)
    return do_record_answer(request, score, channel_id=channel_id)
