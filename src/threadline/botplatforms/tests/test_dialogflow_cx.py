"""Dialogflow CX against the local fake: a service-account token is obtained and reused, detectIntent carries
the text or the pressed event, rich-content chips become choices, liveAgentHandoff/endInteraction hand over."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from threadline.botplatforms import registry
from threadline.botplatforms.base import BotAuthError, BotConfigError, PermanentBotError, TransientBotError


def config(fake, **overrides):
    return {"project_id": "example-project", "location": "europe-west1", "agent_id": "4f1c2d3e-agent",
            "service_account_key": fake.service_account_key(), "api_base_url": fake.url, **overrides}


def converse(fake, text="Where is my parcel?", *, language="he", choice=None, session="ws1-conv42", **overrides):
    return registry.get("dialogflow_cx").converse(config(fake, **overrides), session, text, language, choice)


def test_a_text_turn_goes_to_the_agents_session_with_a_token_from_the_service_account(dialogflow):
    turn = converse(dialogflow)

    assert turn.messages == ["echo: Where is my parcel?"]
    assert (turn.choices, turn.handoff, turn.state) == ([], False, {})
    assert turn.raw["queryResult"]["languageCode"] == "he"
    detect = dialogflow.calls(":detectIntent")[0]
    assert detect.path == ("/v3/projects/example-project/locations/europe-west1/agents/4f1c2d3e-agent/sessions/"
                           "ws1-conv42:detectIntent")
    assert detect.json() == {"queryInput": {"text": {"text": "Where is my parcel?"}, "languageCode": "he"}}
    assert detect.headers["authorization"].startswith("Bearer ya29.")
    assert len(dialogflow.calls("/token")) == 1

    converse(dialogflow, "and now?")
    assert len(dialogflow.calls("/token")) == 1  # the token is cached until it expires
    assert len(dialogflow.calls(":detectIntent")) == 2


def test_the_environment_and_a_language_code_mapping_are_used(dialogflow):
    converse(dialogflow, environment_id="prod", language_codes={"he": "iw"})
    detect = dialogflow.calls(":detectIntent")[0]
    assert "/agents/4f1c2d3e-agent/environments/prod/sessions/ws1-conv42:detectIntent" in detect.path
    assert detect.json()["queryInput"]["languageCode"] == "iw"


def test_a_long_session_id_maps_to_a_stable_short_one(dialogflow):
    long_id = "workspace-1/conversation-123456789/turns/" + "x" * 40
    converse(dialogflow, session=long_id)
    converse(dialogflow, session=long_id)
    first, second = (c.path.split("/sessions/")[1].removesuffix(":detectIntent") for c in dialogflow.calls(":detectIntent"))
    assert first == second and len(first) <= 36 and "/" not in first


def test_rich_content_chips_and_event_buttons_become_choices_and_a_pick_goes_back(dialogflow):
    dialogflow.agent = lambda session, query: [
        {"text": {"text": ["Did this answer your question?"]}},
        {"payload": {"richContent": [[
            {"type": "chips", "options": [{"text": "Yes"}, {"text": "No"},
                                          {"text": "Help center", "link": "https://example.com/help"}]},
            {"type": "button", "text": "Talk to a person", "event": {"event": "talk-to-agent"}},
        ]]}},
    ]
    turn = converse(dialogflow)
    assert turn.messages == ["Did this answer your question?", "Help center https://example.com/help"]
    assert turn.choices == [{"id": "Yes", "label": "Yes"}, {"id": "No", "label": "No"},
                            {"id": "event:talk-to-agent", "label": "Talk to a person"}]

    converse(dialogflow, "ignored", choice="No")
    converse(dialogflow, "ignored", choice="event:talk-to-agent")
    sent = [c.json()["queryInput"] for c in dialogflow.calls(":detectIntent")[1:]]
    assert sent == [{"text": {"text": "No"}, "languageCode": "he"},
                    {"event": {"event": "talk-to-agent"}, "languageCode": "he"}]


def test_live_agent_handoff_is_the_hand_off_signal_with_its_reason(dialogflow):
    dialogflow.agent = lambda session, query: [
        {"text": {"text": ["Let me get you a person."]}},
        {"liveAgentHandoff": {"metadata": {"reason": "billing dispute"}}},
    ]
    turn = converse(dialogflow)
    assert turn.handoff is True
    assert turn.handoff_reason == "billing dispute"
    assert turn.messages == ["Let me get you a person."]


def test_end_interaction_hands_over_unless_configured_not_to(dialogflow):
    dialogflow.agent = lambda session, query: [{"text": {"text": ["Goodbye"]}}, {"endInteraction": {}}]
    assert converse(dialogflow).handoff is True
    assert converse(dialogflow, handoff_on_end_interaction=False).handoff is False


def test_a_key_the_token_endpoint_does_not_know_is_an_auth_error(dialogflow):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(BotAuthError, match="invalid_grant"):
        converse(dialogflow, service_account_key=dialogflow.service_account_key(private_key=other))
    assert dialogflow.calls(":detectIntent") == []


def test_a_revoked_token_is_replaced_once(dialogflow):
    converse(dialogflow)
    dialogflow.revoke_tokens()
    assert converse(dialogflow).messages == ["echo: Where is my parcel?"]
    assert len(dialogflow.calls("/token")) == 2
    bearers = [c.headers["authorization"] for c in dialogflow.calls(":detectIntent")]
    assert len(set(bearers)) == 2


def test_an_api_refusal_is_permanent_with_googles_message(dialogflow):
    with pytest.raises(PermanentBotError, match="INVALID_ARGUMENT"):
        converse(dialogflow, text="", choice=None)


def test_no_answer_in_time_is_transient(dialogflow):
    dialogflow.service_account_key()  # key made before the fake starts holding answers back
    dialogflow.delay = 1.5
    with pytest.raises(TransientBotError, match="no answer in time"):
        converse(dialogflow, timeout_seconds=0.3)


def test_a_broken_config_says_which_field():
    with pytest.raises(BotConfigError, match="service_account_key"):
        registry.get("dialogflow_cx").converse({"project_id": "p", "agent_id": "a", "service_account_key": "{}"},
                                               "s1", "hi", "en", None)


def test_googles_auth_library_and_threadline_send_the_same_assertion_and_the_fake_accepts_it(dialogflow):
    """google-auth (a test-only dependency) as the oracle of the JWT bearer grant."""
    from urllib.parse import parse_qs

    import google.auth.transport.requests
    import jwt
    from google.oauth2 import service_account as google_service_account

    key = dialogflow.service_account_key()
    credentials = google_service_account.Credentials.from_service_account_info(
        key, scopes=["https://www.googleapis.com/auth/cloud-platform"])
    credentials.refresh(google.auth.transport.requests.Request())
    assert credentials.token.startswith("ya29.") and credentials.token in dialogflow.tokens

    converse(dialogflow)
    theirs, ours = (parse_qs(c.body.decode()) for c in dialogflow.calls("/token"))
    assert theirs["grant_type"] == ours["grant_type"]
    (their_jwt,), (our_jwt,) = theirs["assertion"], ours["assertion"]
    claims = [jwt.decode(t, options={"verify_signature": False}) for t in (their_jwt, our_jwt)]
    assert [{k: c[k] for k in ("iss", "aud", "scope")} for c in claims] == [
        {"iss": key["client_email"], "aud": "https://oauth2.googleapis.com/token", "scope": "https://www.googleapis.com/auth/cloud-platform"}
    ] * 2
    assert [c["exp"] - c["iat"] for c in claims] == [3600, 3600]
    headers = [jwt.get_unverified_header(t) for t in (their_jwt, our_jwt)]
    assert [(h["alg"], h["kid"]) for h in headers] == [("RS256", key["private_key_id"])] * 2
