"""`--demo`: a workspace whose inbox looks alive, loaded through the actions, once."""

from __future__ import annotations

from threadline.channels.models import Channel, Delivery
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, Message
from threadline.core import bootstrap
from threadline.core.demo import DEMO_NAME, load_demo
from threadline.tenancy.models import Membership, Team, Workspace


def test_demo_workspace_is_lively_and_loaded_once(db, run_jobs, monkeypatch):
    monkeypatch.delenv("THREADLINE_ADMIN_EMAIL", raising=False)
    bootstrap.run()
    assert load_demo()[0].startswith(f"Loaded demo workspace {DEMO_NAME!r}")
    workspace = Workspace.objects.get(name=DEMO_NAME)
    conversations = Conversation.objects.filter(workspace=workspace)
    assert 10 <= conversations.count() <= 14
    assert set(conversations.values_list("status", flat=True)) >= {"new", "open", "pending", "solved"}
    texts = " ".join(Message.objects.filter(workspace=workspace).values_list("text", flat=True))
    for sample in ("cracked", "חויבתי", "سفارش", "หูฟัง", "nabíječka"):  # en, he, fa, th, cs
        assert sample in texts
    assert Team.objects.filter(workspace=workspace).count() == 2
    assert Channel.objects.filter(workspace=workspace, kind="api").exists()
    assert Membership.objects.filter(workspace=workspace, user__email="admin@localhost", role="admin").exists()

    two = [c for c in Contact.objects.filter(workspace=workspace) if c.identities.count() == 2]
    assert len(two) == 1
    assert sorted(two[0].identities.values_list("kind", flat=True)) == ["email", "phone"]
    assert Conversation.objects.filter(contact=two[0]).count() == 1
    assert Message.objects.filter(conversation__contact=two[0], direction="in").count() == 2

    replies = Message.objects.filter(workspace=workspace, direction="out", is_note=False)
    assert replies.exists() and set(replies.values_list("status", flat=True)) == {"delivered"}
    run_jobs()  # the queued deliveries see a sent delivery and leave it alone
    assert set(Delivery.objects.filter(workspace=workspace).values_list("state", flat=True)) == {"sent"}
    assert set(replies.values_list("status", flat=True)) == {"delivered"}

    before = Message.objects.count()
    assert load_demo() == [f"Demo workspace {DEMO_NAME!r} is already loaded."]
    assert Message.objects.count() == before
    assert Workspace.objects.filter(name=DEMO_NAME).count() == 1
