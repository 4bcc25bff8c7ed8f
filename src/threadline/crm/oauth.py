"""OAuth 2 (authorization code) for HubSpot and Salesforce as each documents it: the authorize page, the code
exchanged for tokens at the token endpoint (client secret in the form body), refresh when the API says the
access token expired. `state` is signed (workspace, provider, admin) and lives ten minutes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from threadline.core import crypto, http
from threadline.core.errors import ValidationFailed
from threadline.core.time import now
from threadline.crm.models import CrmConnection, Provider
from threadline.crm.providers.base import CrmUnavailable

SALT = "threadline.crm.oauth"
STATE_SECONDS = 600
SCOPES = {
    Provider.HUBSPOT: "crm.objects.contacts.read crm.objects.contacts.write crm.objects.owners.read oauth",
    Provider.SALESFORCE: "api refresh_token",
}
DEFAULT_URLS = {  # (auth_url, api_url)
    Provider.HUBSPOT: ("https://app.hubspot.com", "https://api.hubapi.com"),
    Provider.SALESFORCE: ("https://login.salesforce.com", ""),
}


def redirect_uri() -> str:
    return f"{settings.PUBLIC_URL}/app/admin/crm/callback"


def authorize_url(connection: CrmConnection, membership_id: int) -> str:
    state = signing.dumps({"w": connection.workspace_id, "p": connection.provider, "m": membership_id}, salt=SALT)
    query = {"client_id": connection.client_id, "redirect_uri": redirect_uri(),
             "scope": SCOPES[connection.provider], "state": state}
    if connection.provider == Provider.HUBSPOT:
        return f"{connection.auth_url.rstrip('/')}/oauth/authorize?{urlencode(query)}"
    return f"{connection.auth_url.rstrip('/')}/services/oauth2/authorize?{urlencode({'response_type': 'code', **query})}"


def read_state(state: str) -> dict[str, Any]:
    try:
        return signing.loads(state, salt=SALT, max_age=STATE_SECONDS)
    except signing.BadSignature as exc:
        raise ValidationFailed(_("The sign-in with the CRM expired or was not started here; start again."),
                               code="crm_state_invalid") from exc


def _token_url(connection: CrmConnection) -> str:
    if connection.provider == Provider.HUBSPOT:
        return f"{connection.api_url.rstrip('/')}/oauth/v1/token"
    return f"{connection.auth_url.rstrip('/')}/services/oauth2/token"


def _post_token(connection: CrmConnection, form: dict[str, str]) -> dict[str, Any]:
    secrets = crypto.decrypt_json(connection.secrets_encrypted)
    body = urlencode({**form, "client_id": connection.client_id, "client_secret": secrets["client_secret"]}).encode()
    url = _token_url(connection)
    try:
        response = http.post(url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                         "Accept": "application/json"})
    except (httpx.HTTPError, http.DestinationRefused) as exc:
        raise CrmUnavailable(_("The CRM could not be reached: %(reason)s") % {
            "reason": http.transport_failure(url, exc)}, code="crm_unreachable") from exc
    try:
        answer = json.loads(response.body or b"{}")
    except ValueError:
        answer = {}
    if response.status_code >= 400 or "access_token" not in answer:
        raise CrmUnavailable(_("The CRM refused the sign-in: %(error)s") % {
            "error": answer.get("error_description") or answer.get("message") or answer.get("error")
            or response.status_code}, code="crm_oauth_refused")
    return answer


def exchange(connection: CrmConnection, code: str) -> dict[str, Any]:
    return _post_token(connection, {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri()})


def refreshed(connection: CrmConnection) -> dict[str, Any]:
    refresh = crypto.decrypt_json(connection.secrets_encrypted).get("refresh_token", "")
    return _post_token(connection, {"grant_type": "refresh_token", "refresh_token": refresh})


def expires_at(answer: dict[str, Any]) -> dt.datetime | None:
    seconds = answer.get("expires_in")
    return now() + dt.timedelta(seconds=int(seconds)) if str(seconds or "").isdigit() else None
