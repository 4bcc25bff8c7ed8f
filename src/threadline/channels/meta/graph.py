"""What WhatsApp Cloud API, Messenger and Instagram share: Meta's webhook signature, the subscription
handshake, and calls to the Graph API (JSON posts, uploads, media downloads) with the channel's token.

Signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>`. Handshake: a GET with
`hub.mode=subscribe`, `hub.verify_token` equal to the channel's `verify_token`, answered with `hub.challenge`.
Graph API errors carry `error.code`; the throttling codes are retried (RateLimited), others are permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mimetypes
from typing import Any

from django.http import HttpResponse, JsonResponse

from threadline.channels import provider_http
from threadline.channels.base import InboundAttachment, InboundRequest, PayloadError, VerificationError
from threadline.channels.models import Channel
from threadline.core import crypto, http

SIGNATURE_HEADER = "x-hub-signature-256"
# Graph API throttling: 4 app, 17 user, 32 page, 613 calls, 80007 WABA, 130429 throughput, 131056 pair rate
THROTTLING_CODES = frozenset({4, 17, 32, 613, 80007, 130429, 131048, 131056})


def signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify(request: InboundRequest, app_secret: str) -> None:
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not given:
        raise VerificationError("missing X-Hub-Signature-256 header")
    if not app_secret or not crypto.constant_time_equals(given, signature(app_secret, request.body)):
        raise VerificationError("X-Hub-Signature-256 does not match the body")


def handshake(request: InboundRequest, channel: Channel) -> HttpResponse:
    """Meta's subscription check: echo `hub.challenge` when the verify token matches, else 403."""
    query = request.query
    expected = channel.config.get("verify_token", "")
    if (query.get("hub.mode") == "subscribe" and expected
            and crypto.constant_time_equals(query.get("hub.verify_token", ""), expected)):
        return HttpResponse(query.get("hub.challenge", ""), content_type="text/plain")
    return JsonResponse({"code": "invalid_verify_token", "message": "verify token mismatch"}, status=403)


def document(request: InboundRequest) -> dict[str, Any]:
    try:
        doc = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("entry", []), list):
        raise PayloadError("body must be a JSON object with an entry list")
    return doc


def payload_key(ids: list[str], body: bytes) -> str:
    """Idempotency key of a (possibly batched) webhook: its message/status ids, or its bytes."""
    material = "\n".join(sorted(ids)).encode() if ids else body
    return "h:" + hashlib.sha256(material).hexdigest()


def _auth(channel: Channel) -> dict[str, str]:
    return {"Authorization": f"Bearer {channel.config['access_token']}"}


def _throttled(response: http.Response) -> bool:
    code = provider_http.json_of(response).get("error", {})
    return isinstance(code, dict) and code.get("code") in THROTTLING_CODES


def post_json(channel: Channel, url: str, body: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {**_auth(channel), "Content-Type": "application/json"}
    response = provider_http.call("Meta Graph API", lambda: http.post(url, content=raw, headers=headers),
                                  transient=_throttled)
    return provider_http.json_of(response)


def upload(channel: Channel, url: str, fields: dict[str, str], filename: str, content_type: str,
           content: bytes, *, file_field: str = "file") -> dict[str, Any]:
    response = provider_http.call("Meta Graph API", lambda: http.post_form(
        url, data=fields, files={file_field: (filename, content, content_type)}, headers=_auth(channel)),
        transient=_throttled)
    return provider_http.json_of(response)


def get_json(channel: Channel, url: str) -> dict[str, Any]:
    response = provider_http.call("Meta Graph API", lambda: http.get(url, headers=_auth(channel)),
                                  transient=_throttled)
    return provider_http.json_of(response)


def delete(channel: Channel, url: str) -> dict[str, Any]:
    response = provider_http.call("Meta Graph API", lambda: http.delete(url, headers=_auth(channel)),
                                  transient=_throttled)
    return provider_http.json_of(response)


def fetch(channel: Channel, url: str, *, filename: str, content_type: str = "",
          with_token: bool = True) -> InboundAttachment | None:
    """Download a media URL (WhatsApp's need the token; Messenger's CDN links are public). None on 4xx."""
    response = provider_http.download(url, headers=_auth(channel) if with_token else {})
    if response.status_code >= 500:
        raise provider_http.TransientSendError(f"media {url} answered {response.status_code}")
    if response.status_code != 200:
        return None
    ctype = content_type or response.headers.get("content-type", "") or "application/octet-stream"
    if "." not in filename:
        filename += mimetypes.guess_extension(ctype.split(";")[0].strip()) or ".bin"
    return InboundAttachment(filename, ctype.split(";")[0].strip(), response.body)


def media_kind(content_type: str) -> str:
    """The message type Meta uses for a file: image, video, audio or document."""
    major = content_type.split("/")[0]
    return major if major in ("image", "video", "audio") else "document"
