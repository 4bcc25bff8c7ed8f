"""Real bounces, as mail servers wrote them: the samples Debian's python3-flufl.bounce package ships.

Each permanent failure must be recognised as a bounce (never a customer message), a delayed-delivery notice
must not fail anything, and a bounce naming a message Threadline sent marks that message failed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import transaction

from threadline.channels.email import edge, loops, parsing
from threadline.channels.email.testkit import make_email_channel
from threadline.conversations.actions import do_send_reply, receive_inbound_message
from threadline.conversations.models import DeliveryStatus, Message

SAMPLES = Path("/usr/lib/python3/dist-packages/flufl/bounce/tests/data")


def samples() -> list[Path]:
    found = sorted(SAMPLES.glob("*.txt"))
    if not found:
        if os.environ.get("CI"):
            pytest.fail("Debian's python3-flufl.bounce is not installed; CI needs its bounce samples")
        pytest.skip("apt-get install python3-flufl.bounce for the real bounce samples")
    return found


def test_every_real_bounce_is_classified_like_flufl_says():
    from flufl.bounce import all_failures

    checked = 0
    for path in samples():
        parsed = parsing.parse(path.read_bytes())
        temporary, permanent = all_failures(parsed.message)
        bounce = loops.bounce_of(parsed.message, None)
        if permanent:
            assert bounce is not None, path.name
            assert {a.decode().lower() for a in permanent} <= set(bounce.recipients) or bounce.recipients, path.name
            checked += 1
        elif temporary and parsed.message.get_content_type() == "multipart/report":
            assert bounce is None, f"{path.name}: a delay notice is not a failure"
    assert checked >= 60


def test_a_real_bounce_marks_the_message_it_names_failed(admin, run_jobs):
    channel = make_email_channel(admin)
    with_ids = []
    for path in samples():
        parsed = parsing.parse(path.read_bytes())
        bounce = loops.bounce_of(parsed.message, "")
        if bounce is not None and bounce.original_message_ids:
            with_ids.append((path, bounce.original_message_ids[0]))
    assert len(with_ids) >= 5
    outbound = {}
    for n, (_path, original_id) in enumerate(with_ids):
        with transaction.atomic():
            from threadline.channels.base import InboundMessage

            first = receive_inbound_message(channel, InboundMessage(
                provider_message_id=f"<in-{n}@example.com>", sender_kind="email",
                sender_address=f"customer{n}@example.com", text="hello"))
            reply = do_send_reply(admin, first.conversation, "our answer")
            Message.objects.filter(pk=reply.pk).update(provider_message_id=original_id, status=DeliveryStatus.SENT)
        outbound[original_id] = reply.pk
    for path, _original in with_ids:
        edge.store(channel, path.read_bytes(), transport="smtp", envelope_from="", recipients=["support@acme.test"],
                   key=f"bounce:{path.name}")
    from threadline.jobs.models import Job

    Job.objects.filter(task__endswith="deliver_message_task").delete()  # no relay here: only bounces matter
    run_jobs()
    failed = dict(Message.objects.filter(pk__in=outbound.values()).values_list("pk", "status"))
    assert failed == {pk: DeliveryStatus.FAILED for pk in outbound.values()}
    assert not Message.objects.filter(direction="in", identity__address__contains="daemon").exists()
