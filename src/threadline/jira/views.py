"""Jira's webhook: `POST /hooks/jira/<connection id>/`, registered by a Jira admin (System → WebHooks) with the
secret Threadline showed. Jira signs the raw body: `X-Hub-Signature: sha256=<hex HMAC-SHA256>`. The change is
applied before the 2xx: nothing acknowledged is lost (a failure answers 5xx and Jira sends it again)."""

from __future__ import annotations

import json

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from threadline.core import crypto
from threadline.core.json_answers import json_error as _error
from threadline.core.json_answers import refuse_oversized
from threadline.jira.actions import do_apply_issue_event
from threadline.jira.models import JiraConnection


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    method, _sep, digest = header.partition("=")
    return method == "sha256" and crypto.constant_time_equals(digest, crypto.hmac_sha256_hex(secret, body))


@csrf_exempt
@require_POST
def jira_webhook(request: HttpRequest, connection_id: int) -> JsonResponse:
    body = request.body
    refused = refuse_oversized(body)
    if refused is not None:
        return refused
    connection = JiraConnection.objects.filter(pk=connection_id, is_active=True).first()
    if connection is None:
        return _error(404, "jira_not_connected", _("No such Jira connection."))
    secret = crypto.decrypt_json(connection.secrets_encrypted)["webhook_secret"]
    if not signature_matches(secret, body, request.headers.get("X-Hub-Signature", "")):
        return _error(401, "invalid_signature", _("The signature does not match the body."))
    try:
        document = json.loads(body)
    except ValueError:
        return _error(400, "invalid_payload", _("The body is not JSON."))
    if not isinstance(document, dict):
        return _error(400, "invalid_payload", _("The body is not a JSON object."))
    with transaction.atomic():
        told = do_apply_issue_event(connection, document)
    return JsonResponse({"conversations": told})
