"""HubSpot's signed webhook (`POST /hooks/crm/<connection id>/`, `X-HubSpot-Signature-v3`: base64 HMAC-SHA256, keyed with the app's
client secret, of method + URL + body + the `X-HubSpot-Request-Timestamp`, refused past five minutes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from threadline.core import crypto
from threadline.core.json_answers import json_error as _error
from threadline.core.json_answers import refuse_oversized
from threadline.crm.models import CrmConnection, Provider

TOLERANCE_MS = 5 * 60 * 1000


def hubspot_signature_matches(secret: str, method: str, uri: str, body: bytes, timestamp: str, signature: str) -> bool:
    if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > TOLERANCE_MS:
        return False
    digest = hmac.new(secret.encode(), method.encode() + uri.encode() + body + timestamp.encode(), hashlib.sha256)
    return hmac.compare_digest(base64.b64encode(digest.digest()).decode(), signature)


@csrf_exempt
@require_POST
def hubspot_webhook(request: HttpRequest, connection_id: int) -> JsonResponse:
    from threadline.crm.tasks import apply_hubspot_changes_task

    body = request.body
    refused = refuse_oversized(body)
    if refused is not None:
        return refused
    connection = CrmConnection.objects.filter(pk=connection_id, provider=Provider.HUBSPOT, is_active=True).first()
    if connection is None:
        return _error(404, "crm_not_connected", _("No such CRM connection."))
    secret = crypto.decrypt_json(connection.secrets_encrypted)["client_secret"]
    uri = f"{settings.PUBLIC_URL}{request.get_full_path()}"
    if not hubspot_signature_matches(secret, "POST", uri, body, request.headers.get("X-HubSpot-Request-Timestamp", ""),
                                     request.headers.get("X-HubSpot-Signature-v3", "")):
        return _error(401, "invalid_signature", _("The signature does not match the request."))
    try:
        events = json.loads(body)
    except ValueError:
        return _error(400, "invalid_payload", _("The body is not JSON."))
    if not isinstance(events, list):
        return _error(400, "invalid_payload", _("HubSpot sends a JSON array of events."))
    ids = sorted({str(e.get("objectId")) for e in events if isinstance(e, dict)
                  and str(e.get("subscriptionType", "")).startswith("contact.") and str(e.get("objectId", "")).isdigit()})
    if ids:
        with transaction.atomic():  # the job is stored before the 2xx: nothing acknowledged is lost
            apply_hubspot_changes_task.enqueue(connection.pk, ids)
    return JsonResponse({"contacts": len(ids)})
