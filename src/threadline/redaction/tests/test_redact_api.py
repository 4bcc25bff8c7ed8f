"""POST /api/v1/messages/{id}/redact: every copy of the text or attachment goes (message, html, metadata,
subject, raw payload, outbox event and so the webhook body, jobs, the file on disk), an audit entry records who
did it and never what; the roles matrix and a second workspace; the redaction settings for admins."""

from __future__ import annotations

import hashlib
import json
from email.message import EmailMessage

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from threadline.audit.models import AuditEntry
from threadline.channels.email import edge
from threadline.channels.email.testkit import make_email_channel
from threadline.channels.models import InboundEvent
from threadline.conversations.models import Message
from threadline.core.time import now
from threadline.events.models import OutboxEvent
from threadline.jobs.models import Job
from threadline.privacy.actions import do_request_export
from threadline.privacy.models import ContactExport
from threadline.tenancy.models import Role
from threadline.testing.factories import make_agent, make_api_channel, make_token, make_workspace, signed_body
from threadline.webhooks.actions import do_create_subscription
from threadline.webhooks.models import WebhookDelivery
from threadline.webhooks.tasks import event_body

SECRET = "my locker code is Zebra-Quokka-991"
PDF = b"%PDF-1.4 the customer's scanned passport"


def bearer(membership):
    return {"HTTP_AUTHORIZATION": f"Bearer {make_token(membership)}"}


def redact(client, membership, message_id, document):
    return client.post(f"/api/v1/messages/{message_id}/redact", json.dumps(document),
                       content_type="application/json", **bearer(membership))


def api_message(client, admin, run_jobs, text=f"Hello, {SECRET}. Thanks", message_id="shop-1"):
    channel = make_api_channel(admin)
    body, headers = signed_body(channel, {"message_id": message_id, "text": text, "html": f"<p>{text}</p>",
                                          "subject": text, "sender": {"kind": "email", "address": "d@example.com"}})
    assert client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers).status_code \
        == 202
    run_jobs()
    return Message.objects.get(channel=channel, provider_message_id=message_id)


def test_redacting_text_reaches_every_copy(client, admin, run_jobs, receiver):
    with transaction.atomic():
        do_create_subscription(admin, receiver.url, ["*"])
    message = api_message(client, admin, run_jobs)
    job = Job.objects.create(task="test.noop", args=[f"left over {SECRET}"], run_after=now(), state=Job.State.DONE)
    with transaction.atomic():
        export = do_request_export(admin, message.conversation.contact)
    run_jobs()
    export.refresh_from_db()
    archive = export.path
    assert export.state == ContactExport.State.READY and default_storage.exists(archive)
    deliveries = list(WebhookDelivery.objects.filter(workspace=admin.workspace))
    assert any(SECRET.encode() in event_body(d) for d in deliveries)  # message.received carries the text
    assert SECRET.encode() in bytes(InboundEvent.objects.get(channel=message.channel).body)

    response = redact(client, admin, message.pk, {"text": SECRET})

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["message"]["text"] == "Hello, [redacted]. Thanks"
    assert data["copies"]["inbound_events"] == 1 and data["copies"]["outbox_events"] >= 1
    message.refresh_from_db()
    assert SECRET not in message.text + message.html + json.dumps(message.metadata, ensure_ascii=False)
    assert message.conversation.subject == "Hello, [redacted]. Thanks"
    assert SECRET.encode() not in bytes(InboundEvent.objects.get(channel=message.channel).body)
    for event in OutboxEvent.objects.filter(workspace=admin.workspace):
        assert SECRET not in json.dumps(event.payload, ensure_ascii=False)
    for delivery in WebhookDelivery.objects.filter(workspace=admin.workspace).select_related("event"):
        assert SECRET.encode() not in event_body(delivery)  # what a redelivery would send
    job.refresh_from_db()
    assert job.args == ["left over [redacted]"]
    export.refresh_from_db()
    assert export.state == ContactExport.State.EXPIRED and not default_storage.exists(archive)
    entry = AuditEntry.objects.get(action="message.redacted")
    assert (entry.actor_membership_id, entry.target_id) == (admin.pk, str(message.pk))
    assert SECRET not in json.dumps(entry.details)


def test_redacting_an_attachment_replaces_the_file_and_the_part_of_the_email_original(
        admin, run_jobs, client, django_capture_on_commit_callbacks):
    channel = make_email_channel(admin)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "dana@example.com", "support@acme.test", "My passport"
    mail["Message-ID"] = "<passport-1@example.com>"
    mail.set_content("Attached, as asked.")
    mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="passport.pdf")
    edge.store(channel, mail.as_bytes(), transport="smtp", envelope_from="dana@example.com",
               recipients=["support@acme.test"])
    run_jobs()
    message = Message.objects.get(channel=channel)
    attachment = message.attachments.get()
    old_name = attachment.file.name
    assert default_storage.exists(old_name)

    with django_capture_on_commit_callbacks(execute=True):
        response = redact(client, admin, message.pk, {"attachment_id": attachment.pk})

    assert response.status_code == 200, response.content
    assert response.json()["copies"]["attachments"] == 1
    attachment.refresh_from_db()
    assert (attachment.filename, attachment.content_type) == ("redacted.txt", "text/plain")
    assert not default_storage.exists(old_name)
    assert attachment.file.read() == b"This attachment was redacted."
    raw = bytes(InboundEvent.objects.get(channel=channel).body)
    assert b"passport.pdf" not in raw and b"JVBERi0xLjQ" not in raw  # the part and its base64 are gone
    assert hashlib.sha256(PDF).hexdigest() != attachment.sha256
    assert b"Attached, as asked." in raw


def test_bad_requests(client, admin, run_jobs):
    message = api_message(client, admin, run_jobs)
    cases = [({}, "invalid_redaction"), ({"text": SECRET, "attachment_id": 1}, "invalid_redaction"),
             ({"text": "not in it at all"}, "text_not_found"), ({"text": "ab"}, "invalid_text"),
             ({"attachment_id": 999999}, "attachment_not_found")]
    for document, code in cases:
        response = redact(client, admin, message.pk, document)
        assert (response.status_code, response.json()["code"]) == (400, code), document
    assert redact(client, admin, 999999, {"text": SECRET}).status_code == 404


ROLES = [(Role.ADMIN, 200), (Role.AGENT, 200), (Role.LIGHT_AGENT, 403)]


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_roles_matrix(client, admin, run_jobs, role, status):
    message = api_message(client, admin, run_jobs)
    member = admin if role == Role.ADMIN else make_agent(admin, f"{role}@acme.example", role=role)
    response = redact(client, member, message.pk, {"text": SECRET})
    assert response.status_code == status, response.content
    message.refresh_from_db()
    assert (SECRET in message.text) == (status != 200)


def test_another_workspace_cannot_redact_or_learn_the_message_exists(client, admin, run_jobs):
    message = api_message(client, admin, run_jobs)
    other = make_workspace("Other", region="CZ")
    response = redact(client, other, message.pk, {"text": SECRET})
    assert (response.status_code, response.json()["code"]) == (404, "message_not_found")
    message.refresh_from_db()
    assert SECRET in message.text
    assert client.post(f"/api/v1/messages/{message.pk}/redact", json.dumps({"text": SECRET}),
                       content_type="application/json").status_code == 401


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 200), (Role.AGENT, 403), (Role.LIGHT_AGENT, 403)])
def test_settings_roles_matrix(client, admin, role, status):
    member = admin if role == Role.ADMIN else make_agent(admin, f"{role}@acme.example", role=role)
    assert client.get("/api/v1/redaction/settings", **bearer(member)).status_code == status
    response = client.patch("/api/v1/redaction/settings", json.dumps({"redact_pii": False}),
                            content_type="application/json", **bearer(member))
    assert response.status_code == status
    admin.workspace.refresh_from_db()
    assert admin.workspace.redact_pii == (status != 200)


def test_settings_change_the_countries_and_are_audited_per_workspace(client, admin):
    other = make_workspace("Other", region="CZ")
    response = client.patch("/api/v1/redaction/settings", json.dumps({"countries": ["us", "IL"]}),
                            content_type="application/json", **bearer(admin))
    assert response.json() == {"redact_pii": True, "countries": ["IL", "US"], "effective_countries": ["IL", "US"]}
    assert client.get("/api/v1/redaction/settings", **bearer(other)).json() == {
        "redact_pii": True, "countries": [], "effective_countries": ["CZ"]}
    bad = client.patch("/api/v1/redaction/settings", json.dumps({"countries": ["Israel"]}),
                       content_type="application/json", **bearer(admin))
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_countries")
    entry = AuditEntry.objects.get(action="workspace.settings_changed")
    assert entry.workspace_id == admin.workspace_id
