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
