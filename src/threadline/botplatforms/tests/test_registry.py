"""The registry: the three kinds, each honouring the ExternalBot protocol, and config validation for admins."""

from __future__ import annotations

import pytest

from threadline.botplatforms import registry
from threadline.botplatforms.base import ExternalBot
from threadline.core.errors import ValidationFailed


def test_every_kind_is_an_external_bot():
    assert registry.KINDS == ("dialogflow_cx", "lex_v2", "bot_framework")
    for kind in registry.KINDS:
        bot = registry.get(kind)
        assert isinstance(bot, ExternalBot) and bot.kind == kind
        assert kind in registry.LABELS


def test_an_unknown_kind_is_a_validation_error():
    with pytest.raises(ValidationFailed) as raised:
        registry.get("rasa")
    assert raised.value.code == "unknown_bot_platform"


def test_validate_config_fills_defaults_and_names_a_wrong_field():
    config = registry.validate_config("bot_framework", {"secret": "s" * 40})
    assert config["api_base_url"] == "https://directline.botframework.com"
    assert config["auth"] == "token"
    lex = registry.validate_config("lex_v2", {"region": "eu-west-1", "bot_id": "BOT1", "bot_alias_id": "ALIAS1",
                                              "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "x"})
    assert lex["locale_id"] == "en_US"
    with pytest.raises(ValidationFailed, match="region"):
        registry.validate_config("lex_v2", {"region": "EU WEST", "bot_id": "B", "bot_alias_id": "A",
                                            "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "x"})
    with pytest.raises(ValidationFailed, match="unknown_field|Extra inputs"):
        registry.validate_config("bot_framework", {"secret": "s" * 40, "unknown_field": 1})


def test_default_endpoints_follow_the_region():
    from threadline.botplatforms.base import DialogflowCXConfig, LexV2Config

    key = {"client_email": "a@b.iam.gserviceaccount.com", "private_key": "-", "token_uri": "https://oauth2.googleapis.com/token"}
    assert DialogflowCXConfig(project_id="p", agent_id="a", service_account_key=key).base_url() == (
        "https://dialogflow.googleapis.com")
    assert DialogflowCXConfig(project_id="p", agent_id="a", location="europe-west1",
                              service_account_key=key).base_url() == "https://europe-west1-dialogflow.googleapis.com"
    lex = LexV2Config(region="eu-central-1", bot_id="B", bot_alias_id="A", access_key_id="AKIAIOSFODNN7EXAMPLE",
                      secret_access_key="x")
    assert lex.base_url() == "https://runtime-v2-lex.eu-central-1.amazonaws.com"


def test_each_turn_is_counted_by_platform_and_outcome(lex):
    from threadline.botplatforms.base import BotAuthError
    from threadline.core.metrics import BOT_PLATFORM_TURNS

    def count(outcome):
        return BOT_PLATFORM_TURNS.labels("lex_v2", outcome)._value.get()

    answered, refused = count("answered"), count("auth_refused")
    registry.get("lex_v2").converse(lex.config(), "s1", "hi", "en", None)
    with pytest.raises(BotAuthError):
        registry.get("lex_v2").converse(lex.config(secret_access_key="wrong"), "s1", "hi", "en", None)
    assert (count("answered"), count("auth_refused")) == (answered + 1, refused + 1)


def test_check_connection_proves_each_platforms_credentials_without_talking_to_the_bot(dialogflow, lex, directline):
    from cryptography.hazmat.primitives.asymmetric import rsa

    from threadline.botplatforms.base import BotAuthError

    good = {"project_id": "p", "agent_id": "a", "api_base_url": dialogflow.url,
            "service_account_key": dialogflow.service_account_key()}
    registry.check_connection("dialogflow_cx", good)
    registry.check_connection("lex_v2", lex.config())
    registry.check_connection("bot_framework", directline.config())
    assert dialogflow.calls(":detectIntent") == [] and lex.calls("/text") == []
    assert [c.path for c in directline.requests] == ["/v3/directline/tokens/generate"]

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(BotAuthError):
        registry.check_connection("dialogflow_cx", {**good, "service_account_key": dialogflow.service_account_key(
            private_key=other)})
    with pytest.raises(BotAuthError):
        registry.check_connection("lex_v2", lex.config(secret_access_key="wrong"))
    with pytest.raises(BotAuthError):
        registry.check_connection("bot_framework", directline.config(secret="wrong-secret-value"))


def test_an_answer_of_an_undocumented_shape_is_a_permanent_error_not_a_crash(lex, dialogflow, directline):
    from threadline.botplatforms.base import PermanentBotError

    lex.outage = (200, {"messages": [], "sessionState": "Close"}, {})
    with pytest.raises(PermanentBotError, match="unexpected answer"):
        registry.get("lex_v2").converse(lex.config(), "s1", "hi", "en", None)
    directline.bot = lambda activity: [{"type": "message", "text": "hi", "suggestedActions": {"actions": "yes"},
                                        "attachments": "nope"}]
    turn = registry.get("bot_framework").converse(directline.config(), "s1", "hi", "en", None)
    assert (turn.messages, turn.choices) == (["hi"], [])


def test_endpoints_must_be_public_http_urls_when_saved_and_when_called(settings, lex):
    from threadline.botplatforms.base import PermanentBotError

    with pytest.raises(ValidationFailed) as raised:
        registry.validate_config("bot_framework", {"secret": "s" * 40, "api_base_url": "ftp://directline.example"})
    assert raised.value.field == "api_base_url"

    settings.THREADLINE = {**settings.THREADLINE, "OUTBOUND_ALLOW_PRIVATE": False}
    with pytest.raises(ValidationFailed) as raised:
        registry.validate_config("lex_v2", lex.config())
    assert (raised.value.code, raised.value.field) == ("private_destination", "api_base_url")
    key = {"client_email": "a@b.iam.gserviceaccount.com", "private_key": "-", "token_uri": "http://127.0.0.1:9/token"}
    with pytest.raises(ValidationFailed) as raised:
        registry.validate_config("dialogflow_cx", {"project_id": "p", "agent_id": "a", "service_account_key": key,
                                                   "api_base_url": "https://8.8.8.8"})  # public, no DNS
    assert raised.value.field == "service_account_key.token_uri"
    with pytest.raises(PermanentBotError, match="non-public"):
        registry.get("lex_v2").converse(lex.config(), "s1", "hi", "en", None)
    assert lex.requests == []
