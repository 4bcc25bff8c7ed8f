"""Phone calls with an IVR, through Twilio-compatible voice webhooks.

Point the number's "A call comes in" webhook at `POST /hooks/voice/<channel_id>/` and its status callback
at `POST /hooks/voice/<channel_id>/?step=status`. Every request is signed (`X-Twilio-Signature` over the URL
with its `step` query and the form parameters) and answered synchronously with TwiML (`handle_sync`): the
IVR step is the response. Each callback is also stored as an `InboundEvent` (key: CallSid + step + the
caller's input) and processed in the worker into `CallEvent`s: the call, queueing, a voicemail (the recording
downloaded and stored as an attachment, Twilio's transcription added), a confirmed callback request, a
missed call (which opens a callback task). See docs/channels/voice.md.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from pydantic import BaseModel, Field

from threadline.channels import provider_http
from threadline.channels.base import (
    CallEvent,
    Capabilities,
    DeliveryResult,
    InboundAttachment,
    InboundItem,
    InboundRequest,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
)
from threadline.channels.models import Channel, InboundEvent
from threadline.channels.sms import twilio
from threadline.channels.sync_edge import accept_sync
from threadline.channels.voice.flow import Flow, Menu, Option, choose
from threadline.channels.voice.twiml import TwiML
from threadline.contacts.models import IdentityKind
from threadline.core.errors import ValidationFailed

URL_HEADER = "x-threadline-url"  # stored with each event: the signed URL, whose query names the IVR step
WITHHELD_NUMBERS = ("266696687", "7378742833", "2562533", "8656696")  # Twilio's anonymous/restricted/blocked
WITHHELD_WORDS = ("anonymous", "restricted", "blocked", "unknown", "unavailable", "private")
MISSED_STATUSES = ("no-answer", "busy", "failed", "canceled")
HANDLED_EVENTS = ("call_answered", "call_callback_requested", "call_missed", "call_voicemail")


class VoiceConfig(BaseModel):
    account_sid: str = Field(min_length=2, max_length=64)
    auth_token: str = Field(min_length=8, max_length=128)
    phone_number: str = Field(default="", max_length=32)
    api_base_url: str = Field(default="https://api.twilio.com", max_length=500)
    flow: Flow = Field(default_factory=Flow)


def spoken(number: str) -> str:
    """A phone number read digit by digit."""
    return " ".join(c for c in number if c.isdigit())


class Call:
    """One IVR request: the channel, its flow, the step and Twilio's parameters."""

    def __init__(self, channel: Channel, request: InboundRequest) -> None:
        self.channel = channel
        self.flow = Flow.model_validate(channel.config.get("flow") or {})
        self.params = twilio.form_first(request.body)
        query = dict(parse_qsl(urlsplit(request.url or request.headers.get(URL_HEADER, "")).query))
        self.query = query
        self.step = query.get("step", "start")
        self.lang = query.get("lang") or self.flow.default_language()
        self.call_sid = self.params.get("CallSid", "")
        self.caller = self.params.get("From", "")

    def url(self, step: str, **query: object) -> str:
        params = {"step": step, "lang": self.lang, **{k: v for k, v in query.items() if v not in (None, "")}}
        return f"{settings.PUBLIC_URL}/hooks/voice/{self.channel.pk}/?{urlencode(params)}"

    def menu(self) -> Menu | None:
        return self.flow.menu(self.query.get("menu", ""))

    def option(self) -> Option | None:
        menu = self.menu()
        if menu is None:
            return None
        return choose(menu, self.params.get("Digits", ""), self.params.get("SpeechResult", ""))

    @property
    def retry(self) -> int:
        value = self.query.get("retry", "0")
        return int(value) if value.isdigit() else 0

    def key(self) -> str:
        parts = [self.call_sid, self.step, self.query.get("menu", ""), str(self.retry),
                 self.params.get("Digits", ""), self.params.get("SpeechResult", "")[:40],
                 self.params.get("CallStatus", ""), self.params.get("RecordingSid", ""),
                 self.params.get("TranscriptionSid", ""), self.params.get("QueueResult", ""), self.query.get("number", "")]
        return ":".join(parts)


class VoiceAdapter:
    kind: ClassVar[str] = "voice"
    identity_kind: ClassVar[str] = "phone"
    capabilities: ClassVar[Capabilities] = Capabilities(text=False)
    config_schema: ClassVar[type[BaseModel]] = VoiceConfig

    def verify(self, request: InboundRequest, channel: Channel) -> None:
        twilio.verify(request, channel.config["auth_token"])

    @provider_http.tolerant
    def idempotency_key(self, request: InboundRequest, channel: Channel) -> str:
        call = Call(channel, request)
        if not call.call_sid:
            raise PayloadError("CallSid is required")
        return call.key()

    # ── the synchronous IVR ──
    def handle_sync(self, request: InboundRequest, channel: Channel) -> HttpResponse:
        """Store the callback (a Twilio retry is stored once, its TwiML computed again), answer the step."""
        refused = accept_sync(self, request, channel, extra_headers={URL_HEADER: request.url})
        if refused is not None:
            return refused
        call = Call(channel, request)
        with translation.override(call.lang.split("-")[0]):
            twiml = self.respond(call)
        return HttpResponse(twiml.render(), content_type="text/xml; charset=utf-8")

    def respond(self, call: Call) -> TwiML:
        step, flow, response = call.step, call.flow, TwiML()
        if step == "start":
            if flow.languages:
                says = [(c.label, c.code) for c in flow.languages]
                return response.gather(call.url("language"), says, numDigits=1, timeout=5).redirect(call.url("language"))
            return self._welcome(call, response)
        if step == "language":
            call.lang = flow.language_for(call.params.get("Digits", "")) or flow.default_language()
            return self._welcome(call, response)
        if step == "menu":
            return self._menu(call, response, call.menu(), call.retry)
        if step == "choice":
            return self._choice(call, response)
        if step == "voicemail_done":
            return response.say(_("Thank you for your message. Goodbye."), call.lang).hangup()
        if step == "callback_confirm":
            return self._callback_confirm(call, response)
        if step == "callback_number":
            return self._callback_number(call, response)
        if step == "queue_result":
            return self._after_queue(call, response)
        if step == "survey":
            return self._survey_answer(call, response)
        return response  # status, recording, transcription: nothing to say

    def _welcome(self, call: Call, response: TwiML) -> TwiML:
        from threadline.core.time import now

        flow = call.flow
        response.say(flow.greeting.in_(call.lang), call.lang)
        if flow.hours is not None and not flow.hours.is_open(now()):
            response.say(flow.hours.closed_prompt.in_(call.lang), call.lang)
            if flow.hours.closed_action == "callback":
                return self._offer_callback(call, response, call.caller)
            return self._voicemail(call, response)
        if not flow.menus:
            return self._voicemail(call, response)
        return self._menu(call, response, flow.menus[0], 0)

    def _menu(self, call: Call, response: TwiML, menu: Menu | None, retry: int) -> TwiML:
        if menu is None:
            return self._voicemail(call, response)
        hints = ",".join(w for o in menu.options for w in o.speech)
        action = call.url("choice", menu=menu.id, retry=retry)
        response.gather(action, [(menu.prompt.in_(call.lang), call.lang)], input="dtmf speech", numDigits=1,
                        timeout=5, speechTimeout="auto", language=call.lang, hints=hints)
        return response.redirect(action)

    def _choice(self, call: Call, response: TwiML) -> TwiML:
        option, menu = call.option(), call.menu()
        if option is None:
            if call.retry >= call.flow.max_retries:
                response.say(_("Sorry, we did not get that."), call.lang)
                return self._voicemail(call, response)
            response.say(_("Sorry, that is not an option."), call.lang)
            return self._menu(call, response, menu, call.retry + 1)
        if option.say is not None:
            response.say(option.say.in_(call.lang), call.lang)
        if option.action == "queue":
            response.say(_("Please hold while we connect you."), call.lang)
            return response.enqueue(f"team-{option.team_id}", call.url("queue_result", team=option.team_id))
        if option.action == "menu":
            return self._menu(call, response, call.flow.menu(option.menu), 0)
        if option.action == "voicemail":
            return self._voicemail(call, response)
        if option.action == "callback":
            return self._offer_callback(call, response, call.caller)
        if option.action == "hangup":
            return response.hangup()
        return self._menu(call, response, menu, call.retry)  # "say": back to the same menu

    def _after_queue(self, call: Call, response: TwiML) -> TwiML:
        """The call left the queue. When it was bridged, the agent has hung up and the caller is still on the
        line: the survey due for them (if any) is asked with DTMF digits, else the call ends."""
        from threadline.surveys.voice import digits_for, prompt, survey_after_call

        if call.params.get("QueueResult") != "bridged":
            return response.hangup()
        kind, address, _name = self._caller(call)
        survey = survey_after_call(call.channel, kind, address)
        if survey is None:
            return response.hangup()
        response.gather(call.url("survey", survey=survey.kind), [(prompt(survey, call.lang), call.lang)],
                        numDigits=digits_for(survey.kind), finishOnKey="#", timeout=8)
        return response.say(_("Thank you for calling. Goodbye."), call.lang).hangup()

    def _survey_answer(self, call: Call, response: TwiML) -> TwiML:
        from threadline.surveys.actions import thank_you
        from threadline.surveys.voice import score_of

        if score_of(call.query.get("survey", ""), call.params.get("Digits", "")) is None:
            return response.say(_("Sorry, that is not a score. Goodbye."), call.lang).hangup()
        return response.say(thank_you(call.lang.split("-")[0]), call.lang).hangup()

    def _voicemail(self, call: Call, response: TwiML) -> TwiML:
        flow = call.flow
        response.say(flow.voicemail_prompt.in_(call.lang), call.lang)
        return response.record(
            call.url("voicemail_done"), maxLength=flow.voicemail_max_seconds, playBeep=True, finishOnKey="#",
            recordingStatusCallback=call.url("recording"), recordingStatusCallbackMethod="POST",
            transcribe=flow.transcribe or None, transcribeCallback=call.url("transcription") if flow.transcribe else None)

    def _offer_callback(self, call: Call, response: TwiML, number: str) -> TwiML:
        text = _("We can call you back at %(number)s. Press 1 to confirm, or 2 to enter another number.") % {
            "number": spoken(number)}
        response.gather(call.url("callback_confirm", number=number), [(text, call.lang)], numDigits=1, timeout=6)
        return response.say(_("We did not get a choice. Goodbye."), call.lang).hangup()

    def _callback_confirm(self, call: Call, response: TwiML) -> TwiML:
        digits, number = call.params.get("Digits", ""), call.query.get("number") or call.caller
        if digits == "1":
            return response.say(_("Thank you. We will call you back at %(number)s.") % {"number": spoken(number)},
                                call.lang).hangup()
        if digits == "2":
            text = _("Please enter the number to call you back on, then press the pound key.")
            response.gather(call.url("callback_number"), [(text, call.lang)], finishOnKey="#", timeout=10,
                            numDigits=16)
            return response.redirect(call.url("callback_number"))
        return self._offer_callback(call, response, number)

    def _callback_number(self, call: Call, response: TwiML) -> TwiML:
        number = self._normalize(call, call.params.get("Digits", ""))
        if number is None:
            response.say(_("Sorry, that is not a phone number."), call.lang)
            return self._offer_callback(call, response, call.caller)
        return self._offer_callback(call, response, number)

    def _normalize(self, call: Call, digits: str) -> str | None:
        from threadline.contacts.identities import normalize

        digits = digits.strip("#")
        if not digits or digits.lstrip("+") in WITHHELD_NUMBERS or not digits.lstrip("+").isdigit():
            return None
        try:
            return normalize("phone", digits, region=call.channel.workspace.default_region)
        except ValidationFailed:
            return None

    # ── the worker: stored callbacks become call events ──
    @provider_http.tolerant
    def parse_inbound(self, request: InboundRequest, channel: Channel) -> list[InboundItem]:
        call = Call(channel, request)
        call.caller = call.caller or self._caller_of(channel, call.call_sid)
        params, step = call.params, call.step
        caller_kind, caller_address, caller_name = self._caller(call)

        def event(name: str, **fields: Any) -> CallEvent:
            return CallEvent(provider_call_id=call.call_sid, event=name, caller_kind=caller_kind,
                             caller_address=caller_address, caller_name=caller_name,
                             status=params.get("CallStatus", ""), direction=params.get("Direction", "inbound"),
                             **fields)

        if step == "start":
            return [event("started", metadata={"to": params.get("To", ""), "language": call.lang})]
        if step == "choice":
            option = call.option()
            if option is not None and option.action == "queue":
                return [event("queued", team_id=option.team_id, metadata={"menu": call.query.get("menu", "")})]
            return []
        if step == "callback_confirm" and params.get("Digits") == "1":
            return [event("callback_requested", callback_number=call.query.get("number") or call.caller)]
        if step == "queue_result":
            result = params.get("QueueResult", "")
            team = call.query.get("team")
            team_id = int(team) if team and team.isdigit() else None
            name = "answered" if result == "bridged" else "missed"
            return [event(name, team_id=team_id, metadata={"queue_result": result,
                                                           "queue_seconds": params.get("QueueTime", "")})]
        if step == "survey":
            from threadline.surveys.voice import score_of

            kind = call.query.get("survey", "")
            score = score_of(kind, params.get("Digits", ""))
            return [] if score is None else [event("survey", metadata={"survey_kind": kind, "score": score})]
        if step == "recording" and params.get("RecordingStatus", "completed") == "completed":
            return [event("voicemail", duration_seconds=_int(params.get("RecordingDuration")),
                          recording=self._recording(channel, params), recording_url=params.get("RecordingUrl", ""),
                          metadata={"recording_sid": params.get("RecordingSid", "")})]
        if step == "transcription" and params.get("TranscriptionStatus") == "completed":
            return [event("transcription", transcription=params.get("TranscriptionText", ""))]
        if step == "status":
            status = params.get("CallStatus", "")
            duration = _int(params.get("CallDuration"))
            if status in MISSED_STATUSES:
                return [event("missed", duration_seconds=duration)]
            if status == "completed":
                items: list[InboundItem] = [event("completed", duration_seconds=duration)]
                if not self._handled(channel, call.call_sid):
                    items.append(event("missed", duration_seconds=duration, metadata={"reason": "ended_in_ivr"}))
                return items
        return []

    def _caller(self, call: Call) -> tuple[str, str, str]:
        """The caller as an identity (kind, address, name). A withheld caller id ("anonymous", Twilio's
        "+266696687") is no one's number: the call gets an identity of its own, so its voicemail is still
        stored and heard; a SIP or client caller id is kept as given."""
        raw, name = call.caller.strip(), call.params.get("CallerName", "")
        if not raw or raw.lstrip("+") in WITHHELD_NUMBERS or raw.lower() in WITHHELD_WORDS:
            return IdentityKind.EXTERNAL, f"withheld-caller:{call.call_sid}", name or _("Withheld number")
        if raw.lstrip("+").isdigit():
            return IdentityKind.PHONE, raw, name
        return IdentityKind.EXTERNAL, raw, name

    def _caller_of(self, channel: Channel, call_sid: str) -> str:
        """The caller's number from an earlier callback of the call (recording callbacks do not carry it)."""
        for event in InboundEvent.objects.filter(channel=channel, idempotency_key__startswith=f"{call_sid}:"):
            caller = twilio.form_first(bytes(event.body)).get("From", "")
            if caller:
                return caller
        return ""

    def _handled(self, channel: Channel, call_sid: str) -> bool:
        """Did the caller reach an agent, leave a voicemail or ask for a callback (nothing is missed then)?"""
        from threadline.conversations.models import ConversationEvent

        if ConversationEvent.objects.filter(workspace_id=channel.workspace_id, kind__in=HANDLED_EVENTS,
                                            data__call_id=call_sid).exists():
            return True
        return InboundEvent.objects.filter(channel=channel, idempotency_key__startswith=f"{call_sid}:voicemail_done:"
                                           ).exists()

    def _recording(self, channel: Channel, params: dict[str, str]) -> InboundAttachment | None:
        url = params.get("RecordingUrl", "")
        if not url:
            return None
        config = channel.config
        response = provider_http.download(f"{url}.mp3", headers=twilio.basic_auth(config["account_sid"],
                                                                                  config["auth_token"]))
        if response.status_code >= 500:
            raise provider_http.TransientSendError(f"recording {url} answered {response.status_code}")
        if response.status_code in (401, 403):  # the credentials are wrong: fix the channel, then replay
            raise PermanentSendError(_("The voicemail recording %(url)s could not be downloaded (%(status)d): "
                                       "check the channel's account SID and auth token.")
                                     % {"url": url, "status": response.status_code})
        if response.status_code != 200:
            return None
        return InboundAttachment(f"voicemail-{params.get('RecordingSid', 'recording')}.mp3", "audio/mpeg",
                                 response.body)

    # ── rules and sending ──
    def check_connection(self, channel: Channel) -> str:
        config = channel.config
        return twilio.account_name(config["api_base_url"], config["account_sid"], config["auth_token"])

    def check_send(self, conversation: Any, identity: Any, channel: Channel, *, template: dict | None = None) -> None:
        raise ValidationFailed(_("A phone line cannot carry a written reply; call the customer back or reply "
                                 "on another channel."), code="channel_cannot_send", field="channel_id")

    def send(self, message: OutboundMessage, channel: Channel) -> DeliveryResult:
        raise PermanentSendError("a voice channel cannot send messages")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
