"""Secrets at rest: the key derived once per SECRET_KEY and recent plaintexts kept, without either leaking
across keys or between callers."""

from __future__ import annotations

import pytest
from django.test import override_settings

from threadline.core import crypto


def test_a_decrypted_config_is_a_new_dict_each_time():
    token = crypto.encrypt_json({"secret": "s3", "nested": {"a": 1}})
    first = crypto.decrypt_json(token)
    first["secret"] = "changed by a caller"
    first["nested"]["a"] = 2
    assert crypto.decrypt_json(token) == {"secret": "s3", "nested": {"a": 1}}


def test_a_token_kept_under_one_key_does_not_decrypt_under_another():
    token = crypto.encrypt_json({"secret": "s3"})
    assert crypto.decrypt_json(token) == {"secret": "s3"}  # kept now
    with override_settings(SECRET_KEY="another key entirely, as after a rotation"), pytest.raises(ValueError):
        crypto.decrypt_json(token)
    assert crypto.decrypt_json("") == {}


def test_each_key_encrypts_with_its_own_derived_key():
    token = crypto.encrypt_json({"secret": "s3"})
    with override_settings(SECRET_KEY="another key entirely, as after a rotation"):
        other = crypto.encrypt_json({"secret": "s3"})
        assert crypto.decrypt_json(other) == {"secret": "s3"}
        with pytest.raises(ValueError):
            crypto.decrypt_json(token)
    with pytest.raises(ValueError):
        crypto.decrypt_json(other)
