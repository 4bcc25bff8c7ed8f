from __future__ import annotations

import dataclasses
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


def test_publish_writes_outbox_row_and_one_job_for_all_its_durable_subscribers(
    admin, django_capture_on_commit_callbacks
):
    event = MessageReceived(workspace_id=admin.workspace_id, message_id=7, conversation_id=3, contact_id=2,
                            channel_id=None, channel_kind="api", text="שלום")
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        row = bus.publish(event)
    assert callbacks, "immediate subscribers run after commit"
    stored = OutboxEvent.objects.get(pk=row.pk)
    assert stored.type == "message.received"
    assert json.loads(json.dumps(stored.payload)) == event.payload()
    assert [s.name for s in registry.DURABLE if s.wants("message.received")]
    jobs = Job.objects.filter(unique_key__startswith=f"event:{row.pk}")
    assert [(j.task, j.args, j.unique_key, j.batch) for j in jobs] == [
        ("threadline.events.tasks.dispatch_event_task", [row.pk], f"event:{row.pk}", True)
    ]


CALLS: list[tuple[str, int]] = []
PINGED = frozenset({"test.pinged"})


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pinged(DomainEvent):
    type = "test.pinged"


def counting_subscriber(event_type: str, payload: dict, outbox_id: int) -> None:
    CALLS.append(("counting", outbox_id))
    OutboxEvent.objects.create(workspace_id=payload["workspace_id"], type="test.counted", payload={"of": outbox_id})


@dataclasses.dataclass(frozen=True, kw_only=True)
class Echoed(DomainEvent):
    type = "test.echoed"


def flaky_subscriber(event_type: str, payload: dict, outbox_id: int) -> None:
    """Writes and publishes, then fails on its first call: the write and the event must be undone (the event
    never dispatched) and only this subscriber retried."""
    CALLS.append(("flaky", outbox_id))
    OutboxEvent.objects.create(workspace_id=payload["workspace_id"], type="test.flaky", payload={"of": outbox_id})
    bus.publish(Echoed(workspace_id=payload["workspace_id"]))
    if len([c for c in CALLS if c[0] == "flaky"]) == 1:
        raise ConnectionError("the first attempt breaks")


def echo_subscriber(event_type: str, payload: dict, outbox_id: int) -> None:
    CALLS.append(("echo", outbox_id))


@pytest.fixture
def test_subscribers():
    saved = list(registry.DURABLE)
    CALLS.clear()
    registry.DURABLE[:] = [
        registry.Subscriber("counting", f"{__name__}:counting_subscriber", PINGED),
        registry.Subscriber("flaky", f"{__name__}:flaky_subscriber", PINGED),
        registry.Subscriber("echo", f"{__name__}:echo_subscriber", frozenset({"test.echoed"})),
    ]
    yield
    registry.DURABLE[:] = saved


def test_a_failing_subscriber_is_retried_alone_and_the_others_run_once(admin, test_subscribers, run_jobs):
    with transaction.atomic():
        row = bus.publish(Pinged(workspace_id=admin.workspace_id))
    run_jobs()
    # counting and flaky ran in one savepoint; flaky failed, so it was undone (with the event flaky published,
    # never dispatched) and counting ran again alone, in a savepoint of its own
    assert CALLS == [("counting", row.pk), ("flaky", row.pk), ("counting", row.pk)]
    assert OutboxEvent.objects.filter(type="test.counted").count() == 1
    assert not OutboxEvent.objects.filter(type="test.echoed").exists()
    retry = Job.objects.get(unique_key=f"event:{row.pk}:flaky")
    assert (retry.state, retry.args) == (Job.State.QUEUED, [row.pk, "flaky"])
    assert Job.objects.get(unique_key=f"event:{row.pk}").state == Job.State.DONE
    assert not OutboxEvent.objects.filter(type="test.flaky").exists()  # the failed attempt's write is undone

    Job.objects.filter(pk=retry.pk).update(run_after=retry.created_at)  # due now
    run_jobs()
    echoed = OutboxEvent.objects.get(type="test.echoed")  # published by the retry that succeeded: dispatched
    assert CALLS == [("counting", row.pk), ("flaky", row.pk), ("counting", row.pk), ("flaky", row.pk),
                     ("echo", echoed.pk)]  # counting did not run again
    assert OutboxEvent.objects.filter(type="test.counted").count() == 1
    assert OutboxEvent.objects.filter(type="test.flaky").count() == 1
    assert Job.objects.get(pk=retry.pk).state == Job.State.DONE


def test_rolled_back_transaction_leaves_no_event_and_no_job(admin):
    before_events, before_jobs = OutboxEvent.objects.count(), Job.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        bus.publish(MessageReceived(workspace_id=admin.workspace_id, message_id=1, conversation_id=1, contact_id=1,
                                    channel_id=None, channel_kind="api", text="x"))
        1 / 0  # noqa: B018
    assert (OutboxEvent.objects.count(), Job.objects.count()) == (before_events, before_jobs)
