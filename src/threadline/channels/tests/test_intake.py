"""The intake (ADR 0008): a webhook acknowledged into the intake file answers its event's id, reads as
"received" until a worker moves it, is moved exactly once (a crash before the move's commit or between the
commit and the delete), a provider's retry is a duplicate before and after the move, a payload of a deleted
channel is dropped with a warning, and an intake left by another database is never moved into this one."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection, transaction

from threadline.channels import intake
from threadline.channels.inbound import accept_inbound
from threadline.channels.models import InboundEvent
from threadline.conversations.models import Message
from threadline.jobs.models import Job
from threadline.jobs.scheduler import refresh_queue_depth
from threadline.testing.factories import make_api_channel, make_token, make_workspace, signed_body

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGE = {
    "message_id": "shop-2001",
    "sender": {"kind": "email", "address": "dana@example.com", "name": "Dana Levi", "verified": True},
    "text": "Where is my parcel?",
    "subject": "Order 2001",
}


@pytest.fixture(autouse=True)
def intake_on(settings):
    if connection.vendor != "sqlite":
        pytest.skip("the intake serves SQLite file databases (ADR 0008)")
    settings.THREADLINE = {**settings.THREADLINE, "INTAKE": True}
    yield
    db = intake._connection()
    if db is not None:
        db.execute("DELETE FROM intake")


def post(client, channel, document):
    body, headers = signed_body(channel, document)
    return client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers)


def waiting() -> list[tuple[int, str]]:
    db = intake._connection()
    return db.execute("SELECT event_id, key FROM intake ORDER BY seq").fetchall() if db is not None else []


def test_acknowledged_in_the_intake_read_as_received_and_moved_once(client, admin, run_jobs):
    channel = make_api_channel(admin)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {make_token(admin)}"}
    accepted = post(client, channel, MESSAGE)
    assert accepted.status_code == 202, accepted.content
    event_id = accepted.json()["inbound_event_id"]
    assert waiting() == [(event_id, "shop-2001")] and not InboundEvent.objects.exists()
    assert refresh_queue_depth()["intake"] == 1
    queued = client.get(f"/api/v1/inbound-events/{event_id}", **auth)
    assert queued.status_code == 200 and queued.json()["state"] == "received"
    assert "Where is my parcel?" in queued.json()["payload"]
    retry = post(client, channel, MESSAGE)  # the provider's retry while it waits
    assert retry.status_code == 200 and retry.json() == {"status": "duplicate", "inbound_event_id": event_id}
    # another workspace's admin does not see it
    other = make_workspace("Other Shop")
    assert client.get(f"/api/v1/inbound-events/{event_id}",
                      HTTP_AUTHORIZATION=f"Bearer {make_token(other)}").status_code == 404

    run_jobs()
    event = InboundEvent.objects.get()
    assert (event.pk, event.state) == (event_id, InboundEvent.State.PROCESSED)
    assert Message.objects.get().text == "Where is my parcel?" and waiting() == []
    assert refresh_queue_depth()["intake"] == 0
    retry = post(client, channel, MESSAGE)  # and after the move
    assert retry.status_code == 200 and retry.json() == {"status": "duplicate", "inbound_event_id": event_id}
    assert client.get(f"/api/v1/inbound-events/{event_id}", **auth).json()["state"] == "processed"
    # ids handed out are never taken by the database's own inserts
    with transaction.atomic():
        direct, created = accept_inbound(channel, "direct-1", b"{}", {})
    assert created and direct.pk >= intake._ids[1] and intake.next_event_id() < intake._ids[1]


def test_a_crash_before_the_commit_or_before_the_delete_moves_each_payload_once(client, admin, run_jobs,
                                                                                 monkeypatch):
    channel = make_api_channel(admin)
    ids = [post(client, channel, {**MESSAGE, "message_id": f"shop-{n}"}).json()["inbound_event_id"]
           for n in range(3)]
    rows = intake._connection().execute(f"SELECT {intake.COLUMNS} FROM intake").fetchall()

    from threadline.channels import inbound

    real = inbound.store_moved
    calls = []

    def crash_on_the_third(channel, row):
        calls.append(row.event_id)
        if len(calls) == 3:
            raise OSError("killed")
        return real(channel, row)

    monkeypatch.setattr(inbound, "store_moved", crash_on_the_third)
    with pytest.raises(OSError):
        intake.move()
    assert not InboundEvent.objects.exists() and len(waiting()) == 3  # rolled back, all still waiting
    monkeypatch.setattr(inbound, "store_moved", real)

    assert intake.move() == 3 and waiting() == []
    # a crash between the commit and the delete: the rows are still there when the worker starts again
    db = intake._connection()
    db.executemany(f"INSERT INTO intake({intake.COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    assert intake.move() == 3 and waiting() == []
    assert sorted(InboundEvent.objects.values_list("pk", flat=True)) == sorted(ids)
    assert Job.objects.filter(task__endswith="process_inbound_event_task").count() == 3
    run_jobs()
    assert Message.objects.count() == 3
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {InboundEvent.State.PROCESSED}


def test_a_payload_of_a_deleted_channel_is_dropped_with_a_warning(client, admin, caplog):
    channel = make_api_channel(admin)
    event_id = post(client, channel, MESSAGE).json()["inbound_event_id"]
    channel.delete()
    assert intake.move() == 1 and waiting() == []
    assert not InboundEvent.objects.exists()
    assert f"payloads of deleted channels dropped (events [{event_id}])" in caplog.text


def test_an_intake_of_another_database_is_set_aside_not_moved(client, admin, caplog):
    channel = make_api_channel(admin)
    post(client, channel, MESSAGE)
    file = intake.path()
    other = sqlite3.connect(file)
    other.execute("UPDATE meta SET value = 'another' WHERE name = 'database'")
    other.commit()
    other.close()
    intake.close()
    try:
        assert intake.move() == 0 and not file.exists()
        assert not InboundEvent.objects.exists()
        aside = sorted(file.parent.glob(f"{file.name}.other-database-*"))
        assert aside and "belongs to another database" in caplog.text
        kept = sqlite3.connect(next(p for p in aside if p.name.endswith(tuple("0123456789"))))
        assert kept.execute("SELECT key FROM intake").fetchall() == [("shop-2001",)]  # kept for an operator
        kept.close()
    finally:
        for path in file.parent.glob(f"{file.name}.other-database-*"):
            path.unlink()


def test_inside_a_callers_transaction_the_event_is_stored_with_it(admin):
    channel = make_api_channel(admin)
    with transaction.atomic():
        event, created = accept_inbound(channel, "in-a-transaction", b"{}", {})
    assert created and InboundEvent.objects.filter(pk=event.pk).exists() and waiting() == []


def test_acknowledgements_wait_while_the_worker_is_behind_and_never_refuse(client, admin, monkeypatch):
    """Pacing: with an inbound job due for longer than PACE_AFTER, an acknowledgement waits (in PACE_STEP
    sleeps, at most PACE_MOST) and is then taken; with the worker on time it does not wait at all."""
    import datetime as dt

    from threadline.channels.inbound import process_inbound_event_task
    from threadline.core.time import now

    channel = make_api_channel(admin)
    slept: list[float] = []
    monkeypatch.setattr(intake, "_sleep", slept.append)
    monkeypatch.setattr(intake, "PACE_STEP", 0.0)  # every check reads the queue again
    assert post(client, channel, MESSAGE).status_code == 202 and slept == []  # nothing behind: no wait

    with transaction.atomic():
        late = process_inbound_event_task.enqueue(999999, run_after=now() - dt.timedelta(seconds=5))
    clock = iter(range(1000))
    monkeypatch.setattr(intake, "_clock", lambda: next(clock) * 0.5)  # each look: half a second later
    monkeypatch.setitem(intake._backlog, "checked", float("-inf"))  # read at the real clock before
    accepted = post(client, channel, {**MESSAGE, "message_id": "shop-late"})
    assert accepted.status_code == 202  # taken after PACE_MOST, never refused
    assert slept == [0.0] * len(slept) and 1 <= len(slept) <= int(intake.PACE_MOST / 0.5)
    assert [key for _id, key in waiting()] == ["shop-2001", "shop-late"]
    Job.objects.filter(pk=late.pk).delete()
