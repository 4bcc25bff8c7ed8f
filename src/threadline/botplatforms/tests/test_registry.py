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
