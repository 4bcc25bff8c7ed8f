"""Google Cloud Translation, Basic (v2): `POST /language/translate/v2?key=<API key>` with a JSON body
`{"q": [...], "target": "cs", "source": "th", "format": "text"}`, answered
`{"data": {"translations": [{"translatedText": "...", "detectedSourceLanguage": "th"}]}}`. Errors are
`{"error": {"code", "message", "errors": [{"reason"}]}}`: an invalid key is 400 `keyInvalid`, a used-up daily
quota 403 `dailyLimitExceeded`, too many requests 429 `rateLimitExceeded`.
"""

from __future__ import annotations

import json
from typing import ClassVar
from urllib.parse import quote

from django.utils.translation import gettext as _

from threadline.translation.base import (
    Call,
    ProviderAuthFailed,
    ProviderFailed,
    ProviderQuotaExhausted,
    Result,
)
from threadline.translation.transport import post_json, shape_error

DEFAULT_URL = "https://translation.googleapis.com"
QUOTA_REASONS = {"dailyLimitExceeded", "quotaExceeded", "dailyLimitExceededUnreg"}
KEY_REASONS = {"keyInvalid", "keyExpired"}


def reasons(body: bytes) -> set[str]:
    try:
        error = json.loads(body).get("error", {})
        return {str(e.get("reason", "")) for e in error.get("errors", []) if isinstance(e, dict)} | {
            str(d.get("reason", "")) for d in error.get("details", []) if isinstance(d, dict)}
    except (ValueError, AttributeError):
        return set()


def classify(status: int, body: bytes) -> ProviderFailed | None:
    found = reasons(body)
    if found & QUOTA_REASONS:
        return ProviderQuotaExhausted(_("%(provider)s: the account's character quota is used up.")
                                      % {"provider": "Google"})
    if found & {"API_KEY_INVALID"} | found & KEY_REASONS:
        return ProviderAuthFailed(_("%(provider)s refused the API key (%(status)d): %(detail)s")
                                  % {"provider": "Google", "status": status, "detail": ", ".join(sorted(found))})
    return None


class Google:
    kind: ClassVar[str] = "google"
    default_base_url: ClassVar[str] = DEFAULT_URL
    native_glossary: ClassVar[bool] = False

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = (base_url or DEFAULT_URL).rstrip("/")
        self.api_key = api_key

    def translate(self, call: Call) -> Result:
        body: dict[str, object] = {"q": call.texts, "target": call.target, "format": "text"}
        if call.source:
            body["source"] = call.source
        url = f"{self.base_url}/language/translate/v2?key={quote(self.api_key, safe='')}"
        document = post_json("Google", url, body, {}, classify)
        data = document.get("data") if isinstance(document, dict) else None
        items = data.get("translations") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) != len(call.texts) or not all(
                isinstance(i, dict) and isinstance(i.get("translatedText"), str) for i in items):
            raise shape_error("Google")
        detected = str(items[0].get("detectedSourceLanguage", "")) if items else ""
        return Result([i["translatedText"] for i in items], detected)

    def create_glossary(self, name: str, source: str, target: str, entries: dict[str, str]) -> str:
        return ""  # v2 has no glossaries (v3's need a Cloud Storage file): the terms are protected instead
