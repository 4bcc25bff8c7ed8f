"""Issue 10, hole 7 (inbound content): the API channel's `html` is sanitized like email HTML, and control and
bidi-control characters never reach an attachment's stored name or content type, on any inbound path."""

from __future__ import annotations

import base64
from email.message import EmailMessage

import pytest

from threadline.channels.email import edge
from threadline.channels.email.testkit import make_email_channel
from threadline.conversations.attachments import check_attachment
from threadline.conversations.models import Attachment, Message
from threadline.core.errors import ValidationFailed
from threadline.testing import factories

SPOOFED = "invoice\u202efdp.zip"  # shows as "invoicepiz.pdf"
TRICKS = "\u200e\u200f\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u0007\u0000\u001b\u0085\u009b"


def post_api(client, channel, document):
    body, headers = factories.signed_body(channel, document)
    return client.post(f"/hooks/api/{channel.pk}/", body, content_type="application/json", **headers)


def test_api_channel_html_is_sanitized(client, admin, run_jobs):
    channel = factories.make_api_channel(admin)
    html = ('<p onclick="steal()">Hi <b>there</b></p><script>alert(1)</script>'
            '<a href="javascript:alert(2)">x</a><img src=x onerror="alert(3)"><iframe src="https://evil.example"></iframe>')
    assert post_api(client, channel, {"message_id": "h1", "sender": {"kind": "email", "address": "d@example.com"},
                                      "html": html}).status_code == 202
    run_jobs()
    stored = Message.objects.get().html
    assert "<b>there</b>" in stored
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "alert(1)"):
        assert bad not in stored, stored


def test_control_and_bidi_characters_never_reach_attachment_names_or_types(client, admin, run_jobs):
    channel = factories.make_api_channel(admin)
    attachment = {"filename": f"{SPOOFED}{TRICKS}", "content_type": f"application/zip{TRICKS}",
                  "content_base64": base64.b64encode(b"PK\x03\x04").decode()}
    assert post_api(client, channel, {"message_id": "a1", "sender": {"kind": "email", "address": "d@example.com"},
                                      "text": "see attached", "attachments": [attachment]}).status_code == 202
    email_channel = make_email_channel(admin)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = "d@example.com", "support@acme.test", "x", "<a2@x>"
    mail.set_content("see attached")
    mail.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename=f"report{TRICKS}\u202efdp.pdf")
    edge.store(email_channel, mail.as_bytes(), transport="smtp", envelope_from="d@example.com",
               recipients=["support@acme.test"])
    run_jobs()
    names = sorted(Attachment.objects.values_list("filename", "content_type"))
    assert names == [("invoicefdp.zip", "application/zip"), ("reportfdp.pdf", "application/pdf")], names
    # a name that ends in an invisible mark still shows its real extension, and is refused
    with pytest.raises(ValidationFailed):
        check_attachment("payload.exe\u200f", "application/octet-stream", 10)
    with pytest.raises(ValidationFailed):
        check_attachment("payload.exe\u0000", "application/octet-stream", 10)
