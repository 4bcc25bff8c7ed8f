"""The shared first half of a synchronous webhook (`handle_sync`): the provider waits for our answer.

Voice (TwiML) and WeChat (`success`) answer in the request itself, but still check the request like the
generic edge does and store it as an InboundEvent for the worker. `accept_sync` does that and returns
either an error response or None; the adapter then writes its own answer.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from threadline.channels.base import InboundRequest, PayloadError, VerificationError
from threadline.channels.models import Channel


def accept_sync(adapter: Any, request: InboundRequest, channel: Channel, *,
                extra_headers: dict[str, str] | None = None) -> HttpResponse | None:
    """Verify, key and store `request` (once per key); an error response, or None when accepted."""
    from threadline.channels.inbound import accept_inbound, refuse_oversized

    if request.method != "POST":
        return JsonResponse({"code": "method_not_allowed", "message": _("Use POST.")}, status=405)
    refused = refuse_oversized(request.body)
    if refused is not None:
        return refused
    try:
        adapter.verify(request, channel)
        key = adapter.idempotency_key(request, channel)
    except VerificationError as exc:
        return JsonResponse({"code": "invalid_signature", "message": str(exc)}, status=401)
    except PayloadError as exc:
        return JsonResponse({"code": "invalid_payload", "message": str(exc)}, status=400)
    headers = {k: v for k, v in request.headers.items() if k != "cookie"}
    accept_inbound(channel, key, request.body, {**headers, **(extra_headers or {})})
    return None
