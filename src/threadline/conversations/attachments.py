"""Storing attachment bytes outside the database, with size and type limits."""

from __future__ import annotations

import hashlib
import mimetypes
import re
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from threadline.conversations.models import Attachment, Message
from threadline.core.errors import NotFound, ValidationFailed

BLOCKED_EXTENSIONS = frozenset({
    ".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".msp", ".vbs", ".vbe", ".js", ".jse",
    ".wsf", ".wsh", ".ps1", ".jar", ".hta", ".cpl", ".lnk", ".reg", ".dll",
})
BLOCKED_TYPES = frozenset({"application/x-msdownload", "application/x-dosexec", "application/x-msdos-program"})
# C0 and C1 controls, bidi marks, embeddings, overrides and isolates, the Arabic letter mark and the BOM: with
# them "invoice\u202efdp.exe" reads "invoiceexe.pdf" and "report.exe\u200f" escapes the extension check.
INVISIBLE = re.compile("[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def visible(value: str) -> str:
    """`value` without control and bidi-control characters (attachment names and content types)."""
    return INVISIBLE.sub("", value or "")


def check_attachment(filename: str, content_type: str, size: int) -> tuple[str, str]:
    """The safe filename and content type to store, or ValidationFailed."""
    name = visible(filename).strip().replace("/", "_").replace("\\", "_")[:200] or "attachment"
    content_type = visible(content_type).strip()
    limit = settings.THREADLINE["ATTACHMENT_MAX_BYTES"]
    if size > limit:
        raise ValidationFailed(
            _("%(name)s is larger than the %(mb)d MB limit.") % {"name": name, "mb": limit // (1024 * 1024)},
            code="attachment_too_large", field="attachments",
        )
    lowered = name.lower()
    if any(lowered.endswith(ext) for ext in BLOCKED_EXTENSIONS) or content_type.lower() in BLOCKED_TYPES:
        raise ValidationFailed(
            _("Files of this type are not accepted: %(name)s") % {"name": name},
            code="attachment_type_blocked", field="attachments",
        )
    content_type = (content_type or mimetypes.guess_type(name)[0] or "application/octet-stream")[:127]
    return name, content_type


def do_store_attachment(message: Message, filename: str, content_type: str, content: bytes) -> Attachment:
    name, ctype = check_attachment(filename, content_type, len(content))
    attachment = Attachment(
        workspace_id=message.workspace_id, message=message, filename=name, content_type=ctype,
        size=len(content), sha256=hashlib.sha256(content).hexdigest(),
    )
    attachment.file.save(f"{uuid.uuid4().hex}", ContentFile(content), save=False)
    attachment.save()
    return attachment


def attachment_response(attachment: Attachment, *, inline_images: bool = False) -> FileResponse:
    """Stream a stored file (every download path uses this). Files come from customers: browsers are told
    never to sniff or render them inside our origin. NotFound when the bytes are missing from storage."""
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound(_("The attachment's file is missing from storage."), code="attachment_missing") from exc
    inline = inline_images and attachment.content_type.startswith("image/")
    response = FileResponse(handle, as_attachment=not inline, filename=attachment.filename,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
