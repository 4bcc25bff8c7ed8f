"""The JSON answers every inbound HTTP edge gives: an error `{code, message}` with its status, and the 413 for a
body over `INBOUND_MAX_BYTES` (provider webhooks, Jira's, HubSpot's)."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _


def json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def refuse_oversized(body: bytes) -> JsonResponse | None:
    """413 for a body over INBOUND_MAX_BYTES, counted on the bytes received, never on a header.

    Under ASGI `core.body_limit.BodyLimit` already stopped reading at the limit; this is the same rule for
    any other way in (WSGI, the test client)."""
    if len(body) > settings.THREADLINE["INBOUND_MAX_BYTES"]:
        return json_error(413, "payload_too_large", _("The payload is too large."))
    return None
