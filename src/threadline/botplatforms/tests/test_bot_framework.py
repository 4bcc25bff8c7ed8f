"""Bot Framework Direct Line 3.0 against the local fake: tokens or the secret, conversations kept per session,
replies polled by watermark, suggested actions as choices, the hand-off protocol's event."""

from __future__ import annotations

import pytest

from threadline.botplatforms import registry
from threadline.botplatforms.base import BotAuthError, TransientBotError
from threadline.botplatforms.testkit import directline_error


def converse(fake, text="Where is my parcel?", *, language="cs", choice=None, session="ws1-conv42", state=None,
             **overrides):
    return registry.get("bot_framework").converse(fake.config(**overrides), session, text, language, choice,
                                                  state=state)


def test_a_turn_with_a_token_the_secret_bought_starts_a_conversation_and_polls_the_reply(directline):
    turn = converse(directline)

    assert turn.messages == ["echo: Where is my parcel?"]
    assert (turn.choices, turn.handoff) == ([], False)
    paths = [(c.method, c.path) for c in directline.requests]
    conversation = turn.state["conversation_id"]
    assert paths[:3] == [("POST", "/v3/directline/tokens/generate"), ("POST", "/v3/directline/conversations"),
                         ("POST", f"/v3/directline/conversations/{conversation}/activities")]
    generate, start, post = directline.requests[:3]
    assert generate.headers["authorization"] == f"Bearer {directline.secret}"
    assert generate.json() == {"user": {"id": "dl_ws1-conv42"}}
    assert start.headers["authorization"] == post.headers["authorization"] == f"Bearer {turn.state['token']}"
    assert post.json() == {"type": "message", "from": {"id": "dl_ws1-conv42"}, "text": "Where is my parcel?",
                           "locale": "cs"}
    assert all(directline.secret not in c.headers["authorization"] for c in directline.requests[1:])
    assert turn.state["watermark"] == "2"


def test_the_next_turn_continues_the_conversation_from_the_state_or_the_cache(directline):
    first = converse(directline)
    second = converse(directline, "thanks", state=first.state)
    assert second.messages == ["echo: thanks"]  # only what came after the watermark
    assert second.state["conversation_id"] == first.state["conversation_id"]
    third = converse(directline, "bye")  # the caller kept nothing: the cache did
    assert third.messages == ["echo: bye"]
    assert len(directline.calls("/conversations")) == 1
    assert directline.requests[-1].query == "watermark=4"


def test_secret_mode_sends_the_secret_on_every_call(directline):
    turn = converse(directline, auth="secret")
    assert turn.messages == ["echo: Where is my parcel?"]
    assert directline.calls("/tokens/generate") == []
    assert {c.headers["authorization"] for c in directline.requests} == {f"Bearer {directline.secret}"}


def test_a_token_near_its_expiry_is_refreshed_and_an_expired_one_starts_over(directline):
    first = converse(directline)
    near = {**first.state, "token_expires_at": first.state["token_expires_at"] - 1790}
    refreshed = converse(directline, "again", state=near)
    assert len(directline.calls("/tokens/refresh")) == 1
    assert refreshed.state["token"] != first.state["token"]
    assert refreshed.state["conversation_id"] == first.state["conversation_id"]

    directline.expire_tokens()
    later = converse(directline, "hello?", state={**refreshed.state, "token_expires_at": 0})
    assert later.messages == ["echo: hello?"]
    assert later.state["conversation_id"] != first.state["conversation_id"]


def test_replies_that_come_a_moment_later_are_polled_for(directline):
    directline.replies_after_polls = 3
    turn = converse(directline)
    assert turn.messages == ["echo: Where is my parcel?"]
    assert len(directline.calls("/activities")) == 1 + 4  # the post, then four reads


def test_messages_marked_ignoring_input_wait_for_the_rest(directline):
    directline.bot = lambda activity: [
        {"type": "typing"},
        {"type": "message", "text": "Let me look.", "inputHint": "ignoringInput"},
        {"type": "message", "text": "Your parcel left the depot.", "inputHint": "expectingInput",
         "suggestedActions": {"actions": [{"type": "imBack", "title": "Yes", "value": "yes"},
                                          {"type": "postBack", "title": "No", "value": "no"},
                                          {"type": "openUrl", "title": "Track", "value": "https://example.com"}]}},
    ]
    turn = converse(directline)
    assert turn.messages == ["Let me look.", "Your parcel left the depot."]
    assert turn.choices == [{"id": "yes", "label": "Yes"}, {"id": "no", "label": "No"}]
    converse(directline, "ignored", choice="no", state=turn.state)
    assert directline.calls("/activities")[-2].json()["text"] == "no"


def test_hero_card_buttons_are_choices(directline):
    directline.bot = lambda activity: [{"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.hero",
        "content": {"title": "Did this help?", "buttons": [{"type": "imBack", "title": "Yes", "value": "Yes"},
                                                           {"type": "messageBack", "title": "Talk to a person",
                                                            "text": "agent", "displayText": "Talk to a person"}]}}]}]
    turn = converse(directline)
    assert turn.messages == ["Did this help?"]
    assert turn.choices == [{"id": "Yes", "label": "Yes"}, {"id": "agent", "label": "Talk to a person"}]


def test_the_handoff_initiate_event_hands_over_with_its_reason(directline):
    directline.bot = lambda activity: [
        {"type": "message", "text": "Transferring you to an agent.", "inputHint": "ignoringInput"},
        {"type": "event", "name": "handoff.initiate", "value": {"reason": "asked for a person", "skill": "billing"},
         "attachments": [{"contentType": "application/vnd.microsoft.activity.transcript", "content": []}]},
    ]
    turn = converse(directline)
    assert turn.handoff is True
    assert turn.handoff_reason == "asked for a person"
    assert turn.messages == ["Transferring you to an agent."]


def test_the_older_handoff_activity_type_hands_over_too(directline):
    directline.bot = lambda activity: [{"type": "handoff"}]
    turn = converse(directline)
    assert turn.handoff is True and turn.handoff_reason


def test_a_wrong_secret_is_an_auth_error(directline):
    with pytest.raises(BotAuthError, match="403"):
        converse(directline, secret="not-the-direct-line-secret")
    with pytest.raises(BotAuthError):
        converse(directline, secret="not-the-direct-line-secret", auth="secret")


def test_a_token_is_bound_to_its_user(directline):
    first = converse(directline, session="customer-a")
    turn = converse(directline, session="customer-b", state=first.state)  # another customer's state
    assert turn.state["conversation_id"] != first.state["conversation_id"]  # refused (403), so started anew
    stolen = [c for c in directline.calls("/activities") if c.method == "POST"][1]
    assert stolen.json()["from"]["id"] == "dl_customer-b"


def test_a_bot_that_says_nothing_in_time_gives_an_empty_turn(directline):
    directline.bot = lambda activity: []
    turn = converse(directline, reply_wait_seconds=0.2)
    assert (turn.messages, turn.handoff) == ([], False)


def test_no_answer_in_time_and_throttling_are_transient(directline):
    directline.delay = 1.5
    with pytest.raises(TransientBotError):
        converse(directline, timeout_seconds=0.3)
    directline.delay = 0
    directline.outage = directline_error(429, "TooManyRequests", "slow down")
    with pytest.raises(TransientBotError, match="TooManyRequests"):
        converse(directline)


def test_a_turn_that_failed_after_the_conversation_started_is_continued_next_time(directline):
    echo = directline.bot

    def breaks_after_posting(activity):
        directline.outage = directline_error(502, "BotError", "The bot returned an error")
        return []

    directline.bot = breaks_after_posting
    with pytest.raises(TransientBotError, match="BotError"):
        converse(directline)
    directline.outage, directline.bot = None, echo
    assert converse(directline, "again").messages == ["echo: again"]
    assert len(directline.calls("/conversations")) == 1
