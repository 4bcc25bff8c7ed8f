"""Signed, expiring links to an outbound message's attachment, for providers that fetch media by URL.

Twilio (MMS) and LINE download the file from a public URL rather than taking an upload. The link is the
channel's own webhook address with a signed `media` token (`GET /hooks/<kind>/<id>/?media=...`), answered
by the adapter's `handshake`; the token names the attachment and channel and expires after a week.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import FileResponse, HttpResponse, JsonResponse

from threadline.channels.base import InboundRequest
from threadline.channels.models import Channel
from threadline.conversations.models import Attachment

SALT = "threadline.channels.media-link"
MAX_AGE = 7 * 24 * 3600


def media_link(channel: Channel, attachment_id: int) -> str:
    token = signing.dumps({"a": attachment_id, "c": channel.pk}, salt=SALT, compress=True)
    return f"{settings.PUBLIC_URL}/hooks/{channel.kind}/{channel.pk}/?media={token}"


def serve(request: InboundRequest, channel: Channel) -> HttpResponse | None:
    """The attachment a valid `media` token names, 404 for a bad or expired one, None without a token."""
    token = request.query.get("media")
    if not token:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return JsonResponse({"code": "not_found", "message": "no such media"}, status=404)
    attachment = Attachment.objects.filter(pk=data.get("a"), workspace_id=channel.workspace_id).first()
    if attachment is None or data.get("c") != channel.pk:
        return JsonResponse({"code": "not_found", "message": "no such media"}, status=404)
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Content-Disposition"] = f'inline; filename="{attachment.filename}"'
    return response
