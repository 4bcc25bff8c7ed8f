"""Amazon Lex V2 against the local fake, which recomputes every Signature Version 4 signature."""

from __future__ import annotations

import json

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


# ── AWS's own SDK (botocore, a test-only dependency) as the independent oracle ───────────────────────────
def aws_client(fake, **overrides):
    import botocore.config
    import botocore.session

    credentials = {"aws_access_key_id": fake.access_key, "aws_secret_access_key": fake.secret_key, **overrides}
    return botocore.session.get_session().create_client(
        "lexv2-runtime", region_name=fake.region, endpoint_url=fake.url,
        config=botocore.config.Config(retries={"max_attempts": 1}), **credentials)


def test_the_aws_sdk_and_threadline_send_the_same_request_and_the_fake_answers_in_the_sdks_model(lex):
    answer = aws_client(lex).recognize_text(botId=lex.bot_id, botAliasId=lex.alias_id, localeId="en_US",
                                            sessionId="ws1-conv42", text="Where is my parcel?")
    assert answer["messages"] == [{"contentType": "PlainText", "content": "echo: Where is my parcel?"}]
    assert answer["sessionState"]["intent"]["state"] == "InProgress"
    converse(lex)
    sdk, ours = lex.requests
    assert (ours.method, ours.path, ours.json()) == (sdk.method, sdk.path, sdk.json())


def test_the_fakes_signature_check_accepts_the_sdk_and_refuses_it_with_a_wrong_secret(lex):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        aws_client(lex, aws_secret_access_key="wrong").recognize_text(
            botId=lex.bot_id, botAliasId=lex.alias_id, localeId="en_US", sessionId="s1", text="hi")
    assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"
    with pytest.raises(ClientError) as raised:  # GetSession, as check_connection calls it
        aws_client(lex).get_session(botId=lex.bot_id, botAliasId=lex.alias_id, localeId="en_US", sessionId="none")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_threadlines_signature_is_botocores_for_the_same_request():
    import hashlib

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from threadline.botplatforms import sigv4

    url = "https://runtime-v2-lex.eu-west-1.amazonaws.com/bots/BOT1/botAliases/ALIAS/botLocales/he_IL/sessions/a.b_c-1/text"
    body = json.dumps({"text": "שלום"}, ensure_ascii=False).encode()
    ours = sigv4.sign("POST", url, headers={"Content-Type": "application/json"}, body=body, access_key="AKIDEXAMPLE",
                      secret_key="secret/KEY+1", region="eu-west-1", service="lex", session_token="token=")
    request = AWSRequest("POST", url, data=body, headers={k: v for k, v in ours.items() if k != "Authorization"})
    request.context["timestamp"] = ours["X-Amz-Date"]
    request.context["payload_signing_enabled"] = True
    auth = SigV4Auth(Credentials("AKIDEXAMPLE", "secret/KEY+1", "token="), "lex", "eu-west-1")
    canonical = auth.canonical_request(request)
    assert hashlib.sha256(canonical.encode()).hexdigest() == hashlib.sha256(
        sigv4.canonical_request("POST", "/bots/BOT1/botAliases/ALIAS/botLocales/he_IL/sessions/a.b_c-1/text", "",
                                ours, sorted(k.lower() for k in ours if k != "Authorization"),
                                hashlib.sha256(body).hexdigest()).encode()).hexdigest()
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    assert ours["Authorization"].endswith(f"Signature={expected}")
