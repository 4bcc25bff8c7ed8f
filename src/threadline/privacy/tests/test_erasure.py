"""Erasing a contact: request → confirm → the scheduler erases after the grace period (cancellable until
then); everything about them goes, a tombstone without personal data stays, other customers are untouched."""

from __future__ import annotations

import datetime as dt
import json

import time_machine
from django.core.files.storage import default_storage

from threadline.audit.models import AuditEntry
from threadline.channels.inbound import accept_inbound
from threadline.channels.models import InboundEvent
from threadline.consent.models import ConsentRecord
from threadline.contacts.models import Contact, ContactIdentity, ContactMerge
from threadline.conversations.models import Attachment, Conversation, Message
from threadline.events.models import OutboxEvent
from threadline.jobs.worker import Worker
from threadline.privacy.models import ErasureRequest
from threadline.privacy.scope import contact_ref
from threadline.privacy.tasks import run_due_erasures_task
from threadline.privacy.tests.builders import (
    EMAIL,
    NAME,
    PHONE,
    UNIQUE,
    make_person,
    rows_mentioning,
    write_in,
)
from threadline.testing import factories
from threadline.webhooks.models import WebhookDelivery

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def test_request_confirm_and_the_scheduler_erases_after_the_grace_period(
        api, admin, receiver, django_capture_on_commit_callbacks):
    channel = factories.make_api_channel(admin, webhook_url=receiver.url)
    person = make_person(admin, channel, receiver.url)
    write_in(channel, "other-1", "bystander@example.net", "I am someone else entirely", name="Bo Bystander")
    bystander = Contact.objects.get(identities__address="bystander@example.net")
    # A payload processing could not use (no text): failed, linked to nobody, but it names the contact.
    accept_inbound(channel, "bad-1", json.dumps({"message_id": "bad-1", "sender": {"kind": "email", "address": EMAIL}}
                                                ).encode(), {})
    Worker(worker_id="test:privacy:1").run_until_idle()
    failed = InboundEvent.objects.get(idempotency_key="bad-1")
    assert failed.state == "failed" and not failed.contacts.exists()
    contact_id, merged_id = person.contact.pk, Contact.objects.get(merged_into=person.contact).pk
    files = list(Attachment.objects.filter(message__conversation__contact=person.contact).values_list("file", flat=True))
    assert files and all(default_storage.exists(f) for f in files)
    assert InboundEvent.objects.filter(contacts=person.contact).count() == 1
    assert InboundEvent.objects.filter(contacts=merged_id).count() == 1
    assert WebhookDelivery.objects.exists() and ContactMerge.objects.exists()
    assert set(rows_mentioning(UNIQUE)) > {f"Contact: {NAME}", f"ContactIdentity: {EMAIL}"}

    with time_machine.travel(START, tick=False):
        asked = api.post(f"/api/v1/contacts/{contact_id}/erasure", {"reason": "Art. 17 request by email"},
                         content_type="application/json")
        assert asked.status_code == 201, asked.content
        erasure = asked.json()
        assert erasure["state"] == "requested" and erasure["due_at"] is None
        again = api.post(f"/api/v1/contacts/{contact_id}/erasure", content_type="application/json")
        assert again.status_code == 409 and again.json()["code"] == "erasure_exists"
        assert run_due_erasures_task() == 0
        confirmed = api.post(f"/api/v1/privacy/erasures/{erasure['id']}/confirm")
        assert confirmed.status_code == 200 and confirmed.json()["state"] == "scheduled"
        assert confirmed.json()["due_at"].startswith("2026-06-08T09:00")
        assert api.post(f"/api/v1/privacy/erasures/{erasure['id']}/confirm").status_code == 409
    with time_machine.travel(START + dt.timedelta(days=6, hours=23), tick=False):
        assert run_due_erasures_task() == 0
        assert Contact.objects.filter(pk=contact_id).exists()
    with time_machine.travel(START + dt.timedelta(days=7, minutes=1), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        assert run_due_erasures_task() == 1

    assert not Contact.objects.filter(pk__in=[contact_id, merged_id]).exists()
    assert not ContactIdentity.objects.filter(address__in=[EMAIL, PHONE]).exists()
    assert not Conversation.objects.filter(pk=person.conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=person.conversation.pk).exists()
    assert not any(default_storage.exists(f) for f in files)
    assert not ContactMerge.objects.exists() and not ConsentRecord.objects.filter(address=PHONE).exists()
    assert not InboundEvent.objects.filter(pk=failed.pk).exists()
    assert not OutboxEvent.objects.filter(payload__contact_id=contact_id).exists()
    assert rows_mentioning(UNIQUE) == []

    # The bystander's data is all still there.
    assert Message.objects.filter(conversation__contact=bystander, text="I am someone else entirely").exists()
    assert InboundEvent.objects.filter(contacts=bystander).count() == 1
    assert OutboxEvent.objects.filter(payload__contact_id=bystander.pk).exists()

    done = ErasureRequest.objects.get(pk=erasure["id"])
    assert done.state == "done" and done.contact_id is None and done.reason == ""
    assert done.counts["contacts"] == 2 and done.counts["attachments"] == 1 and done.counts["inbound_events"] == 3
    [tombstone] = AuditEntry.objects.filter(action="contact.erased")
    assert tombstone.target_id == contact_ref(admin.workspace_id, contact_id)[:64]
    assert tombstone.actor_kind == "system" and tombstone.details == done.counts
    assert [e.action for e in AuditEntry.objects.filter(target_type="erasurerequest").order_by("pk")] == [
        "erasure.requested", "erasure.confirmed"]


def test_a_cancelled_erasure_never_runs_and_the_grace_period_is_a_workspace_setting(api, admin):
    contact = factories.make_api_channel(admin) and Contact.objects.create(workspace=admin.workspace, name="Ron")
    changed = api.patch("/api/v1/privacy/settings", {"erasure_grace_days": 2}, content_type="application/json")
    assert changed.status_code == 200 and changed.json() == {"erasure_grace_days": 2}
    [setting] = AuditEntry.objects.filter(action="workspace.settings_changed")
    assert setting.details == {"erasure_grace_days": 2}
    assert api.patch("/api/v1/privacy/settings", {"erasure_grace_days": 400},
                     content_type="application/json").status_code == 422
    with time_machine.travel(START, tick=False):
        erasure = api.post(f"/api/v1/contacts/{contact.pk}/erasure", content_type="application/json").json()
        scheduled = api.post(f"/api/v1/privacy/erasures/{erasure['id']}/confirm").json()
        assert scheduled["due_at"].startswith("2026-06-03T09:00")
        cancelled = api.post(f"/api/v1/privacy/erasures/{erasure['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        assert api.post(f"/api/v1/privacy/erasures/{erasure['id']}/cancel").json()["code"] == "erasure_not_cancellable"
        assert api.post(f"/api/v1/privacy/erasures/{erasure['id']}/confirm").status_code == 409
    with time_machine.travel(START + dt.timedelta(days=30), tick=False):
        assert run_due_erasures_task() == 0
    assert Contact.objects.filter(pk=contact.pk).exists()
    listed = api.get("/api/v1/privacy/erasures").json()
    assert [(e["id"], e["state"]) for e in listed] == [(erasure["id"], "cancelled")]
    again = api.post(f"/api/v1/contacts/{contact.pk}/erasure", content_type="application/json")
    assert again.status_code == 201  # a new request after a cancelled one
