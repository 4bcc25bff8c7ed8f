from __future__ import annotations

import json

import pytest
from django.db import transaction

from threadline.conversations.events import MessageReceived
from threadline.events import bus, registry
from threadline.events.models import OutboxEvent
from threadline.events.types import DomainEvent
from threadline.jobs.models import Job


def every_event_class() -> list[type[DomainEvent]]:
    import importlib

    for module in ("tenancy", "contacts", "conversations"):
        importlib.import_module(f"threadline.{module}.events")

    def walk(cls: type[DomainEvent]) -> list[type[DomainEvent]]:
        return [c for sub in cls.__subclasses__() for c in (sub, *walk(sub))]

    return walk(DomainEvent)


def test_event_types_are_unique_and_named_noun_verb_past():
    types = [cls.type for cls in every_event_class()]
    assert len(types) == len(set(types))
    for name in types:
        noun, _, verb = name.partition(".")
        assert noun and verb and name == name.lower(), name


def test_publish_outside_a_transaction_is_refused(transactional_db):
    event = MessageReceived(workspace_id=1, message_id=1, conversation_id=1, contact_id=1, channel_id=None,
                            channel_kind="api", text="hi")
    with pytest.raises(RuntimeError):
        bus.publish(event)


def test_publish_writes_outbox_row_and_one_job_per_durable_subscriber(admin, django_capture_on_commit_callbacks):
    event = MessageReceived(workspace_id=admin.workspace_id, message_id=7, conversation_id=3, contact_id=2,
                            channel_id=None, channel_kind="api", text="שלום")
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        row = bus.publish(event)
    assert callbacks, "immediate subscribers run after commit"
    stored = OutboxEvent.objects.get(pk=row.pk)
    assert stored.type == "message.received"
    assert json.loads(json.dumps(stored.payload)) == event.payload()
    wanted = [s.name for s in registry.DURABLE if s.wants("message.received")]
    jobs = Job.objects.filter(unique_key__startswith=f"event:{row.pk}:")
    assert sorted(j.args[1] for j in jobs) == sorted(wanted)


def test_rolled_back_transaction_leaves_no_event_and_no_job(admin):
    before_events, before_jobs = OutboxEvent.objects.count(), Job.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        bus.publish(MessageReceived(workspace_id=admin.workspace_id, message_id=1, conversation_id=1, contact_id=1,
                                    channel_id=None, channel_kind="api", text="x"))
        1 / 0  # noqa: B018
    assert (OutboxEvent.objects.count(), Job.objects.count()) == (before_events, before_jobs)
