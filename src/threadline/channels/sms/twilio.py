"""Twilio's request signature, shared by the SMS and voice channels.

`X-Twilio-Signature` is base64(HMAC-SHA1(auth_token, url + the POST parameters sorted by name, each name
followed by its value)). For a JSON body the URL carries `bodySHA256` (hex SHA-256 of the raw body) and the
signature covers the URL alone. The URL is the public one Twilio called (`THREADLINE_PUBLIC_URL` + path +
query); Twilio may sign it with or without the default port, so both forms are accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit, urlunsplit

from threadline.channels import provider_http
from threadline.channels.base import InboundRequest, PermanentSendError, VerificationError
from threadline.core import http

SIGNATURE_HEADER = "x-twilio-signature"


def form_params(body: bytes) -> dict[str, list[str]]:
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def form_first(body: bytes) -> dict[str, str]:
    """Each parameter's first value (Twilio sends each name once, except MediaUrl-style lists it numbers)."""
    return {k: v[0] for k, v in form_params(body).items()}


def compute_signature(auth_token: str, url: str, params: dict[str, list[str]] | None = None) -> str:
    data = url
    for name in sorted(params or {}):
        for value in sorted(set(params[name])):  # type: ignore[index]
            data += name + value
    digest = hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> set[str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    without = urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
    with_port = urlunsplit((parts.scheme, f"{host}:{parts.port or default}", parts.path, parts.query, ""))
    return {url, without, with_port}


def verify(request: InboundRequest, auth_token: str) -> None:
    """Raise VerificationError unless `request` carries Twilio's valid signature for `auth_token`."""
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not given:
        raise VerificationError("missing X-Twilio-Signature header")
    if not auth_token:
        raise VerificationError("the channel has no auth token")
    query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    if "bodySHA256" in query:
        expected_hash = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(query["bodySHA256"], expected_hash):
            raise VerificationError("bodySHA256 does not match the body")
        params: dict[str, list[str]] = {}
    else:
        params = form_params(request.body)
    for url in _url_variants(request.url):
        if hmac.compare_digest(compute_signature(auth_token, url, params), given):
            return
    raise VerificationError("X-Twilio-Signature does not match the URL and parameters")


def basic_auth(account_sid: str, auth_token: str) -> dict[str, str]:
    token = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def account_name(api_base_url: str, account_sid: str, auth_token: str) -> str:
    """GET the account (Twilio's documented cheap call): its friendly name, or a refusal as a channel error."""
    url = f"{api_base_url.rstrip('/')}/2010-04-01/Accounts/{quote(account_sid)}.json"
    account = provider_http.json_of(provider_http.call(
        "Twilio", lambda: http.get(url, headers=basic_auth(account_sid, auth_token))))
    if account.get("status") not in (None, "active"):
        raise PermanentSendError(f"the account is {account.get('status')}")
    return str(account.get("friendly_name") or account_sid)
