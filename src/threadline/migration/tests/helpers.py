"""Running an import against a local fake provider, and checking what it wrote against the export."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.models import Attachment, Conversation, Message
from threadline.migration.client import SourceClient
from threadline.migration.fixtures.generator import Export
from threadline.migration.models import ExternalRef, Skipped
from threadline.migration.runner import Report, run_import
from threadline.migration.sources import build_reader
from threadline.migration.testkit import FakeProvider
from threadline.surveys.models import SurveyResponse
from threadline.tenancy.models import Membership, Workspace

STATUS = {
    "zendesk": {"new": "new", "open": "open", "pending": "pending", "hold": "on_hold", "solved": "solved",
                "closed": "closed"},
    "freshdesk": {"new": "open", "open": "open", "pending": "pending", "hold": "pending", "solved": "solved",
                  "closed": "closed"},
    "helpscout": {"new": "open", "open": "open", "pending": "pending", "hold": "pending", "solved": "closed",
                  "closed": "closed"},
}


@contextmanager
def serving(kind: str, export: Export, **options: object) -> Iterator[FakeProvider]:
    fake = FakeProvider(kind, export, **options).start()  # type: ignore[arg-type]
    try:
        yield fake
    finally:
        fake.stop()


def reader(fake: FakeProvider, *, secret: str | None = None, page_size: int = 100, waits: list[float] | None = None):
    client = SourceClient(fake.url, sleep=lambda seconds: None, backoff=0.0, attempts=3)
    if waits is not None:
        client.waits = waits
    user = "" if fake.kind == "freshdesk" else fake.user
    return build_reader(fake.kind, url=fake.url, user=user, secret=secret or fake.secret, page_size=page_size,
                        client=client)


def run(workspace: Workspace, fake: FakeProvider, **options: object) -> Report:
    page_size = int(options.pop("page_size", 100))  # type: ignore[arg-type]
    return run_import(workspace, reader(fake, page_size=page_size), reindex=False, **options)  # type: ignore[arg-type]


def comment_key(kind: str, ticket_id: int, index: int, comment_id: int) -> str:
    return f"d{ticket_id}" if kind == "freshdesk" and index == 0 else str(comment_id)


def snapshot(workspace: Workspace) -> dict[str, int]:
    """Row counts of what an import imports (each run also records its own report and skipped records)."""
    ws = workspace.pk
    return {"conversations": Conversation.objects.filter(workspace_id=ws).count(),
            "messages": Message.objects.filter(workspace_id=ws).count(),
            "attachments": Attachment.objects.filter(workspace_id=ws).count(),
            "contacts": Contact.objects.filter(workspace_id=ws).count(),
            "identities": ContactIdentity.objects.filter(workspace_id=ws).count(),
            "memberships": Membership.objects.filter(workspace_id=ws).count(),
            "responses": SurveyResponse.objects.filter(workspace_id=ws).count(),
            "refs": ExternalRef.objects.filter(workspace_id=ws).count()}


def assert_complete(workspace: Workspace, kind: str, export: Export) -> None:
    """Zero loss: every ticket, comment, attachment and rating of the export is in the workspace (or skipped
    with its reason), with the export's exact timestamps, texts, bytes, tags and fields."""
    ws = workspace.pk
    refs: dict[str, dict[str, int]] = {}
    for ref_kind, external_id, local_id in ExternalRef.objects.filter(workspace_id=ws, source=kind).values_list(
            "kind", "external_id", "local_id"):
        refs.setdefault(ref_kind, {})[external_id] = local_id
    conversations = Conversation.objects.filter(workspace_id=ws).prefetch_related("tags").in_bulk()
    messages = Message.objects.filter(workspace_id=ws).in_bulk()
    attachments = Attachment.objects.filter(workspace_id=ws).in_bulk()
    skipped = set(Skipped.objects.filter(workspace_id=ws).values_list("kind", "external_id", "code"))
    assert len(refs["ticket"]) == len(export.tickets) == len(conversations)
    expected_messages = 0
    for ticket in export.tickets:
        conversation = conversations[refs["ticket"][str(ticket.id)]]
        assert (conversation.created_at, conversation.updated_at) == (ticket.created_at, ticket.updated_at)
        assert conversation.solved_at == ticket.solved_at
        assert conversation.status == STATUS[kind][ticket.status]
        assert conversation.subject == ticket.subject
        assert {t.name for t in conversation.tags.all()} == set(ticket.tags)
        assert sorted(str(v) for v in conversation.custom_fields.values()) == sorted(ticket.custom.values())
        for index, comment in enumerate(ticket.comments):
            key = comment_key(kind, ticket.id, index, comment.id)
            message = messages[refs["comment"][key]]
            expected_messages += 1
            assert message.conversation_id == conversation.pk
            assert message.created_at == comment.created_at
            assert message.text == comment.text
            assert message.is_note == (not comment.public)
            assert message.direction == ("out" if comment.by_agent else "in")
            for file in comment.files:
                akey = f"{key}/{file.id}"
                if file.filename.endswith(".exe"):
                    assert ("attachment", akey, "attachment_type_blocked") in skipped
                    continue
                stored = attachments[refs["attachment"][akey]]
                assert stored.message_id == message.pk
                assert (stored.size, stored.sha256) == (len(file.content), hashlib.sha256(file.content).hexdigest())
                assert stored.created_at == comment.created_at
                assert stored.file.read() == file.content
    assert len(messages) == expected_messages
    rated = [t for t in export.tickets if t.rating]
    responses = SurveyResponse.objects.filter(workspace_id=ws).in_bulk()
    assert len(responses) == len(rated)
    for ticket in rated:
        assert ticket.rating is not None
        response = responses[refs["rating"][str(ticket.rating[0])]]
        assert response.conversation_id == refs["ticket"][str(ticket.id)]
        assert response.score == (5 if ticket.rating[1] == "good" else 1)
        assert response.responded_at == ticket.rating[3]
