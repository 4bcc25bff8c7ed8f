from __future__ import annotations

import json

import pytest

from threadline.channels.sms.tests.helpers import PUBLIC_URL, fixture, make_twilio_channel, twilio_post
from threadline.consent.keywords import match


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_URL = PUBLIC_URL


def test_ledger_lists_keywords_and_agents_record_consent(api, admin, client, run_jobs):
    channel = make_twilio_channel(admin)
    twilio_post(client, channel, fixture("inbound_stop.form"))
    run_jobs()
    listed = api.get("/api/v1/consent", {"address": "+14155552671"})
    assert listed.status_code == 200
    assert [(r["action"], r["source"]) for r in listed.json()] == [("opt_out", "provider")]
    created = api.post("/api/v1/consent", json.dumps({"channel_id": channel.pk, "identity_kind": "phone",
                                                      "address": "+1 415 555 2671", "action": "opt_in",
                                                      "note": "asked on the phone"}),
                       content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["address"] == "+14155552671" and created.json()["source"] == "agent"
    wrong = api.post("/api/v1/consent", json.dumps({"channel_id": channel.pk, "identity_kind": "phone",
                                                    "address": "+14155552671", "action": "maybe"}),
                     content_type="application/json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_consent_action"


@pytest.mark.parametrize(("text", "expected"), [
    ("STOP", "opt_out"), (" stop. ", "opt_out"), ("Unsubscribe", "opt_out"), ("Arrêt", "opt_out"),
    ("STOPP", "opt_out"), ("הסר", "opt_out"), ("لغو", "opt_out"), ("ยกเลิก", "opt_out"), ("Odhlásit", "opt_out"),
    ("start", "opt_in"), ("HELP", "help"), ("ayuda", "help"), ("עזרה", "help"),
    ("please stop", None), ("stop sending me the wrong size", None), ("", None),
])
def test_keywords_match_whole_messages_only(text, expected):
    found = match(text)
    assert (found[0] if found else None) == expected
