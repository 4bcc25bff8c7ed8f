"""The one cut every channel's button limit makes (`capabilities.max_choices`): as many as it shows, the bot's
"talk to a person" kept last; no cut where the channel has no buttons (numbered text) or enough of them."""

from __future__ import annotations

from threadline.channels.choices import fitted
from threadline.channels.registry import adapter_for

OFFERED = [{"id": f"c{n}", "label": str(n)} for n in range(12)] + [{"id": "person", "label": "A person"}]


def test_cut_to_the_limit_keeping_the_person_last():
    limit = adapter_for("whatsapp").capabilities.max_choices
    cut = fitted(OFFERED, limit, keep="person")
    assert len(cut) == limit == 10
    assert [c["id"] for c in cut] == [f"c{n}" for n in range(9)] + ["person"]
    assert fitted(OFFERED, adapter_for("line").capabilities.max_choices, keep="person") == OFFERED  # 13 fit
    assert fitted(OFFERED, adapter_for("sms").capabilities.max_choices) == OFFERED  # numbered text: no cut
    assert [c["id"] for c in fitted(OFFERED, 3)] == ["c0", "c1", "c2"]


def test_every_kind_states_its_limit():
    shown = {kind: adapter_for(kind).capabilities.max_choices for kind in
             ("webchat", "telegram", "whatsapp", "line", "messenger", "instagram", "wechat", "sms", "email",
              "voice", "portal", "api")}
    assert shown == {"webchat": 100, "telegram": 100, "whatsapp": 10, "line": 13, "messenger": 13, "instagram": 13,
                     "wechat": 10, "sms": 0, "email": 0, "voice": 0, "portal": 0, "api": 100}
