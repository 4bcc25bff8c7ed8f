"""The process's sender to a networked channel layer (realtime.sender): sends from several threads reach Redis
in the order they were handed over, through one loop; a failed send does not stop the next ones; a full queue
drops instead of growing; `flush` waits for what is queued."""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import async_to_sync
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from threadline.realtime import sender as sender_module
from threadline.realtime.sender import GroupSender


@pytest.mark.skipif(not settings.REDIS_URL, reason="scaled mode: the Redis channel layer")
def test_sends_from_three_threads_reach_redis_each_in_its_threads_order():
    layer = RedisChannelLayer(hosts=[settings.REDIS_URL], prefix="tl-test-sender", capacity=500)
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("sender-order", channel)
    sender = GroupSender(layer)
    threads = [threading.Thread(target=lambda t=t: [sender.submit("sender-order", {"type": "x", "t": t, "n": n})
                                                    for n in range(40)]) for t in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sender.flush(10)

    async def receive_all() -> list[dict]:
        return [await layer.receive(channel) for _ in range(120)]

    got = async_to_sync(receive_all)()
    for t in range(3):
        assert [m["n"] for m in got if m["t"] == t] == list(range(40))
    async_to_sync(layer.group_discard)("sender-order", channel)


def test_a_failed_send_is_logged_and_the_next_ones_are_still_tried(caplog):
    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:1/0"], prefix="tl-test-sender")  # nothing listens there
    sender = GroupSender(layer)
    for n in range(3):
        assert sender.submit("sender-unreachable", {"type": "x", "n": n})
    assert sender.flush(20)
    assert sender.pending == 0
    failures = [r.getMessage() for r in caplog.records
                if r.name == "threadline.realtime.sender" and "sender-unreachable" in r.getMessage()]
    assert len(failures) == 3 and all(m.startswith("group send to sender-unreachable failed") for m in failures)


def test_a_full_queue_drops_new_messages_and_flush_says_what_is_left(monkeypatch):
    monkeypatch.setattr(sender_module, "MAX_PENDING", 3)
    sent: list[int] = []

    class Recording:
        async def group_send(self, group: str, message: dict) -> None:
            sent.append(message["n"])

    sender = GroupSender(Recording())
    hold = threading.Event()
    sender.loop.call_soon_threadsafe(hold.wait)  # the sender's loop is busy: nothing is sent meanwhile
    assert [sender.submit("g", {"n": n}) for n in range(5)] == [True, True, True, False, False]
    assert sender.dropped == 2
    assert not sender.flush(0.05)
    hold.set()
    assert sender.flush(5)
    assert sent == [0, 1, 2]
    assert sender.submit("g", {"n": 5}) and sender.flush(5)
    assert sent == [0, 1, 2, 5]


@pytest.mark.skipif(not settings.REDIS_URL, reason="scaled mode: the Redis channel layer")
def test_send_to_group_from_a_thread_without_a_loop_hands_over_to_the_process_sender():
    from channels.layers import get_channel_layer

    from threadline.realtime.dispatch import send_to_group

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("sender-dispatch", channel)
    for n in range(5):
        send_to_group("sender-dispatch", {"type": "x", "n": n})
    assert sender_module._sender is not None and sender_module._sender.layer is layer  # noqa: SLF001
    assert sender_module.flush(10)

    async def receive_all() -> list[dict]:
        return [await layer.receive(channel) for _ in range(5)]

    assert [m["n"] for m in async_to_sync(receive_all)()] == [0, 1, 2, 3, 4]
    async_to_sync(layer.group_discard)("sender-dispatch", channel)
