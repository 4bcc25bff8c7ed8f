"""Amazon Lex V2 against the local fake, which recomputes every Signature Version 4 signature."""

from __future__ import annotations

import pytest

from threadline.botplatforms import registry
from threadline.botplatforms.base import BotAuthError, PermanentBotError, TransientBotError
from threadline.botplatforms.testkit import aws_error


def converse(fake, text="Where is my parcel?", *, language="en", choice=None, session="ws1-conv42", **overrides):
    return registry.get("lex_v2").converse(fake.config(**overrides), session, text, language, choice)


def test_a_signed_text_turn_to_the_bot_alias_locale_and_session(lex):
    turn = converse(lex)

    assert turn.messages == ["echo: Where is my parcel?"]
    assert (turn.choices, turn.handoff, turn.state) == ([], False, {})
    call = lex.requests[0]
    assert call.path == "/bots/BOT1234567/botAliases/TSTALIASID/botLocales/en_US/sessions/ws1-conv42/text"
    assert call.json() == {"text": "Where is my parcel?"}
    assert call.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={lex.access_key}/")


def test_the_locale_follows_the_customers_language_and_temporary_credentials_are_signed(lex):
    converse(lex, "שלום", language="he", locales={"he": "he_IL"}, session_token="FwoGZXIvYXdzEXAMPLE")
    call = lex.requests[0]
    assert "/botLocales/he_IL/" in call.path
    assert call.json() == {"text": "שלום"}
    assert call.headers["x-amz-security-token"] == "FwoGZXIvYXdzEXAMPLE"
    assert "x-amz-security-token" in call.headers["authorization"]


def test_a_wrong_secret_fails_the_signature_check(lex):
    with pytest.raises(BotAuthError, match="InvalidSignatureException"):
        converse(lex, secret_access_key="not-the-secret")


def test_an_unknown_access_key_is_refused(lex):
    with pytest.raises(BotAuthError, match="UnrecognizedClientException"):
        converse(lex, access_key_id="AKIAIOSFODNN7EXAMPLE")


def test_a_signature_for_another_region_is_refused(lex):
    with pytest.raises(BotAuthError, match="scoped"):
        converse(lex, region="us-east-1")


def test_response_card_buttons_become_choices_and_a_pick_sends_the_value(lex):
    lex.bot = lambda session, text, locale: ([
        {"contentType": "PlainText", "content": "Your parcel left the depot."},
        {"contentType": "ImageResponseCard", "imageResponseCard": {
            "title": "Did this answer your question?", "buttons": [
                {"text": "Yes", "value": "yes"}, {"text": "No", "value": "no"},
                {"text": "Talk to a person", "value": "agent"}]}},
        {"contentType": "CustomPayload", "content": "{\"kind\": \"tracking\"}"},
        {"contentType": "SSML", "content": "<speak>Anything <break/> else?</speak>"},
    ], {"dialogAction": {"type": "ElicitSlot", "slotToElicit": "answer"},
        "intent": {"name": "TrackParcel", "state": "InProgress"}})
    turn = converse(lex)
    assert turn.messages == ["Your parcel left the depot.", "Did this answer your question?", "Anything else?"]
    assert turn.choices == [{"id": "yes", "label": "Yes"}, {"id": "no", "label": "No"},
                            {"id": "agent", "label": "Talk to a person"}]
    converse(lex, "ignored", choice="agent")
    assert lex.requests[1].json() == {"text": "agent"}


def test_a_configured_hand_off_intent_hands_over(lex):
    lex.bot = lambda session, text, locale: (
        [{"contentType": "PlainText", "content": "Connecting you to an agent."}],
        {"dialogAction": {"type": "Close"}, "intent": {"name": "TalkToAgent", "state": "Fulfilled"}})
    assert converse(lex).handoff is False  # not configured: just an intent
    turn = converse(lex, handoff_intents=["TalkToAgent"])
    assert turn.handoff is True
    assert "TalkToAgent" in turn.handoff_reason


def test_closing_the_dialog_in_a_configured_state_hands_over(lex):
    lex.bot = lambda session, text, locale: (
        [{"contentType": "PlainText", "content": "Sorry, I could not help."}],
        {"dialogAction": {"type": "Close"}, "intent": {"name": "TrackParcel", "state": "Failed"}})
    assert converse(lex, handoff_close_states=["Fulfilled"]).handoff is False
    turn = converse(lex, handoff_close_states=["Failed"])
    assert turn.handoff is True
    assert "Failed" in turn.handoff_reason


def test_an_unknown_alias_is_a_permanent_error(lex):
    with pytest.raises(PermanentBotError, match="ResourceNotFoundException"):
        converse(lex, bot_alias_id="OTHERALIAS")


def test_no_answer_in_time_is_transient(lex):
    lex.delay = 1.5
    with pytest.raises(TransientBotError):
        converse(lex, timeout_seconds=0.3)


@pytest.mark.parametrize(("status", "kind"), [(429, "ThrottlingException"), (500, "InternalFailureException"),
                                             (502, "BadGatewayException")])
def test_throttling_and_server_errors_are_transient(lex, status, kind):
    lex.outage = aws_error(status, kind, "try again")
    with pytest.raises(TransientBotError, match=kind) as raised:
        converse(lex)
    assert raised.value.status == status
