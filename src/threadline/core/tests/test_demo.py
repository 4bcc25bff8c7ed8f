"""`--demo`: a workspace whose inbox looks alive, loaded through the actions, once."""

from __future__ import annotations

from threadline.channels.models import Delivery
from threadline.contacts.models import Contact
from threadline.conversations.models import Conversation, Message
from threadline.core import bootstrap
from threadline.core.demo import DEMO_NAME, load_demo
from threadline.realtime.auth import membership_for
from threadline.tenancy.models import Membership, Team, User, Workspace


def test_demo_workspace_is_lively_and_loaded_once(db, run_jobs, monkeypatch):
    monkeypatch.delenv("THREADLINE_ADMIN_EMAIL", raising=False)
    bootstrap.run()
    lines = load_demo()
    assert lines[0].startswith(f"Loaded demo workspace {DEMO_NAME!r}")
    assert lines[1].startswith("Sign in as admin@localhost at ") and lines[1].endswith("/login: the demo inbox opens first.")
    workspace = Workspace.objects.get(name=DEMO_NAME)
    conversations = Conversation.objects.filter(workspace=workspace)
    assert 10 <= conversations.count() <= 14
    assert set(conversations.values_list("status", flat=True)) >= {"new", "open", "pending", "solved"}
    texts = " ".join(Message.objects.filter(workspace=workspace).values_list("text", flat=True))
    for sample in ("cracked", "חויבתי", "سفارش", "หูฟัง", "nabíječka"):  # en, he, fa, th, cs
        assert sample in texts
    assert Team.objects.filter(workspace=workspace).count() == 2
    # Several channel kinds, each with conversations written on it, not only the API channel.
    kinds = set(Message.objects.filter(workspace=workspace, direction="in").values_list("channel__kind", flat=True))
    assert kinds >= {"email", "webchat", "whatsapp", "sms", "telegram", "line", "api"}
    assert Membership.objects.filter(workspace=workspace, user__email="admin@localhost", role="admin").exists()
    # The first admin's first sign-in opens the demo, not the empty workspace created on first start.
    admin = User.objects.get(email="admin@localhost")
    assert admin.memberships.count() == 2
    assert membership_for(admin, None).workspace_id == workspace.pk

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
