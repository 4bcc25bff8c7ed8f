"""A contact's export archive: a zip of JSON documents and the attachment files, machine-readable.

    manifest.json          what the archive holds, when and for which contact
    contact.json           the contact and the contacts merged into it (profile, attributes, consent flags)
    identities.json        every address they write from
    conversations.json     their conversations, each with its messages (text, html, status, metadata) and timeline
    attachments/<id>-<name> the files, as stored; listed with their message in conversations.json
    consent.json           the consent ledger of their addresses
    audit.json             audit entries about them (merges, exports, erasure requests)
    channels/<app.Model>.json rows other parts keep about them: widget visitors and events, email copies, survey
                           requests and answers (scores, comments), their community member, topics and posts, the
                           bot's sessions, portal sign-ins and sessions, article feedback (secrets' digests and
                           encrypted platform sessions left out)
"""

from __future__ import annotations

import json
import zipfile
from typing import IO, Any

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import FileResponse
from django.utils.translation import gettext as _

from threadline.audit.models import AuditEntry
from threadline.audit.queries import as_row
from threadline.contacts.models import Contact, ContactMerge
from threadline.conversations.models import ConversationEvent
from threadline.core.errors import NotFound
from threadline.core.time import now
from threadline.privacy.models import ContactExport
from threadline.privacy.scope import NOT_EXPORTED, Scope, as_data, scope_of

FORMAT_VERSION = 1


def _json(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _conversations(scope: Scope) -> list[dict[str, Any]]:
    messages: dict[int, list[dict[str, Any]]] = {}
    attachments: dict[int, list[dict[str, Any]]] = {}
    for attachment in scope.attachments():
        attachments.setdefault(attachment.message_id, []).append(
            {**as_data(attachment, ("file", "workspace")), "path": _attachment_path(attachment)})
    for message in scope.messages():
        messages.setdefault(message.conversation_id, []).append(
            {**as_data(message, ("workspace",)), "attachments": attachments.get(message.pk, [])})
    timeline: dict[int, list[dict[str, Any]]] = {}
    for event in ConversationEvent.objects.filter(conversation_id__in=scope.conversation_ids).order_by("pk"):
        timeline.setdefault(event.conversation_id, []).append(as_data(event, ("workspace",)))
    elsewhere = sorted({m["conversation_id"] for ms in messages.values() for m in ms} - set(scope.conversation_ids))
    return [
        {**as_data(conversation, ("workspace",)), "tags": [t.name for t in conversation.tags.all()],
         "messages": messages.get(conversation.pk, []), "timeline": timeline.get(conversation.pk, [])}
        for conversation in scope.conversations().prefetch_related("tags")
    ] + [{"id": pk, "note": "another customer's conversation; only their messages are included",
          "messages": messages.get(pk, [])} for pk in elsewhere]


def _attachment_path(attachment: Any) -> str:
    name = attachment.filename.replace("/", "_").replace("\\", "_") or "file"
    return f"attachments/{attachment.pk}-{name}"


def _audit(scope: Scope) -> list[dict[str, Any]]:
    merges = ContactMerge.objects.filter(Q(source_id__in=scope.contact_ids) | Q(target_id__in=scope.contact_ids))
    about = Q(target_type="contact", target_id__in=[str(pk) for pk in scope.contact_ids]) | Q(
        target_type="merge", target_id__in=[str(pk) for pk in merges.values_list("pk", flat=True)])
    entries = AuditEntry.objects.filter(Q(workspace_id=scope.workspace_id) & about).order_by("pk")
    return [as_row(entry) for entry in entries]


def export_file_response(export: ContactExport) -> FileResponse:
    """Stream a ready archive (the API and the workspace download it the same way)."""
    if export.state != ContactExport.State.READY or not export.path:
        raise NotFound(_("This export is not ready or has expired."), code="export_not_ready")
    try:
        handle = default_storage.open(export.path, "rb")
    except FileNotFoundError as exc:
        raise NotFound(_("This export is not ready or has expired."), code="export_not_ready") from exc
    return FileResponse(handle, as_attachment=True, filename=f"contact-{export.contact_id}-export.zip",
                        content_type="application/zip")


def write_archive(contact: Contact, out: IO[bytes]) -> dict[str, int]:
    """Write the archive of `contact` to `out`; returns what it holds, by kind."""
    scope = scope_of(contact)
    conversations = _conversations(scope)
    found = {label: list(rows) for label, rows in scope.kind_rows()}
    consent = [as_data(r, ("workspace",)) for r in found.pop("consent.ConsentRecord", [])]
    kinds = {label: [as_data(r, ("workspace", *NOT_EXPORTED.get(label, ()))) for r in rows]
             for label, rows in found.items()}
    counts = {"contacts": len(scope.contact_ids), "identities": len(scope.identity_ids),
              "conversations": len(scope.conversation_ids), "messages": len(scope.message_ids),
              "attachments": 0, "consent_records": len(consent)}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("contact.json", _json([as_data(c, ("workspace", "name_key")) for c in scope.contacts()]))
        archive.writestr("identities.json", _json([as_data(i, ("workspace", "match_key"))
                                                    for i in scope.identities()]))
        archive.writestr("conversations.json", _json(conversations))
        for attachment in scope.attachments():
            try:
                with attachment.file.open("rb") as handle:
                    archive.writestr(_attachment_path(attachment), handle.read())
                counts["attachments"] += 1
            except (FileNotFoundError, ValueError):
                continue  # listed in conversations.json; the bytes are missing from storage
        archive.writestr("consent.json", _json(consent))
        archive.writestr("audit.json", _json(_audit(scope)))
        for label, rows in kinds.items():
            archive.writestr(f"channels/{label}.json", _json(rows))
        archive.writestr("manifest.json", _json({
            "format": "threadline-contact-export", "version": FORMAT_VERSION, "created_at": now(),
            "workspace_id": contact.workspace_id, "contact_id": contact.pk, "counts": counts,
        }))
    return counts
