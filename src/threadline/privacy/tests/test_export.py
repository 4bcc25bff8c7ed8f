"""A contact's export: API (queued job → download link), the contact panel button in /app/, the CLI; the
archive holds everything about them, as JSON plus the attachment files."""

from __future__ import annotations

import io
import json
import zipfile

from django.core.management import call_command

from threadline.audit.models import AuditEntry
from threadline.privacy.tests.builders import (
    ATTACHMENT,
    BODY_TOKEN,
    EMAIL,
    NAME,
    OLD_EMAIL,
    PHONE,
    make_person,
)
from threadline.testing import factories


def check_archive(data: bytes, contact_id: int) -> dict[str, object]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert {"manifest.json", "contact.json", "identities.json", "conversations.json", "consent.json",
            "audit.json"} <= names
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["contact_id"] == contact_id and manifest["format"] == "threadline-contact-export"
    contacts = json.loads(archive.read("contact.json"))
    assert [c["name"] for c in contacts] == [NAME, "Z. Quillfeather"]  # the contact and the one merged into it
    addresses = {i["address"] for i in json.loads(archive.read("identities.json"))}
    assert addresses == {EMAIL, PHONE, OLD_EMAIL}
    conversations = json.loads(archive.read("conversations.json"))
    texts = [m["text"] for c in conversations for m in c["messages"]]
    assert sum(BODY_TOKEN in t for t in texts) == 3  # two messages in, one reply out
    [attachment] = [a for c in conversations for m in c["messages"] for a in m["attachments"]]
    assert archive.read(attachment["path"]) == ATTACHMENT and attachment["filename"] == "passport-scan.txt"
    assert any(e["kind"] for c in conversations for e in c["timeline"])
    consent = json.loads(archive.read("consent.json"))
    assert [(r["address"], r["action"]) for r in consent] == [(PHONE, "opt_out")]
    audit = json.loads(archive.read("audit.json"))
    assert "contact.merged" in {e["action"] for e in audit}
    return manifest


def test_export_through_the_api_is_a_job_then_a_download(api, admin, receiver, run_jobs):
    channel = factories.make_api_channel(admin, webhook_url=receiver.url)
    person = make_person(admin, channel, receiver.url)
    queued = api.post(f"/api/v1/contacts/{person.contact.pk}/export")
    assert queued.status_code == 202, queued.content
    assert queued.json()["state"] == "queued" and queued.json()["download_url"] is None
    run_jobs()
    ready = api.get(f"/api/v1/privacy/exports/{queued.json()['id']}").json()
    assert ready["state"] == "ready" and ready["size"] > 0
    download = api.get(ready["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    manifest = check_archive(b"".join(download.streaming_content), person.contact.pk)
    assert manifest["counts"]["attachments"] == 1
    [exported] = AuditEntry.objects.filter(action="contact.exported")
    assert exported.target_id == str(person.contact.pk) and exported.details == {"export_id": ready["id"]}
    assert [e["id"] for e in api.get("/api/v1/privacy/exports").json()] == [ready["id"]]


def test_export_from_the_contact_panel_and_the_cli(client, admin, receiver, run_jobs, tmp_path):
    channel = factories.make_api_channel(admin, webhook_url=receiver.url)
    person = make_person(admin, channel, receiver.url)
    client.force_login(admin.user)
    page = client.get(f"/app/c/{person.conversation.pk}/").content.decode()
    assert f'action="/app/x/contacts/{person.contact.pk}/export"' in page and "Request erasure" in page
    posted = client.post(f"/app/x/contacts/{person.contact.pk}/export", {"back": f"/app/c/{person.conversation.pk}/"})
    assert posted.status_code == 302 and posted["Location"] == f"/app/c/{person.conversation.pk}/"
    run_jobs()
    page = client.get(f"/app/c/{person.conversation.pk}/").content.decode()
    link = page.split('href="/app/x/exports/', 1)[1].split('"', 1)[0]
    download = client.get(f"/app/x/exports/{link}")
    assert download.status_code == 200
    check_archive(b"".join(download.streaming_content), person.contact.pk)

    out = tmp_path / "contact.zip"
    printed = io.StringIO()
    call_command("privacy", "export", "--contact", str(person.contact.pk), "--out", str(out), stdout=printed)
    assert json.loads(printed.getvalue())["counts"]["messages"] == 3
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    check_archive(out.read_bytes(), person.contact.pk)


def test_the_erasure_steps_from_the_contact_panel(client, admin, receiver, run_jobs):
    channel = factories.make_api_channel(admin, webhook_url=receiver.url)
    person = make_person(admin, channel, receiver.url)
    client.force_login(admin.user)
    back = {"back": f"/app/c/{person.conversation.pk}/"}
    client.post(f"/app/x/contacts/{person.contact.pk}/erasure", {**back, "reason": "asked by phone"})
    page = client.get(f"/app/c/{person.conversation.pk}/").content.decode()
    assert "Confirm erasure" in page and "Cancel erasure" in page
    erasure_id = page.split('action="/app/x/erasures/', 1)[1].split("/", 1)[0]
    confirmed = client.post(f"/app/x/erasures/{erasure_id}/confirm", back, HTTP_X_REQUESTED_WITH="fetch")
    assert confirmed.json()["state"] == "scheduled"
    assert "Erasure scheduled for" in client.get(f"/app/c/{person.conversation.pk}/").content.decode()
    cancelled = client.post(f"/app/x/erasures/{erasure_id}/cancel", back, HTTP_X_REQUESTED_WITH="fetch")
    assert cancelled.json()["state"] == "cancelled"
    assert client.post(f"/app/x/erasures/{erasure_id}/undo", back).status_code == 404
