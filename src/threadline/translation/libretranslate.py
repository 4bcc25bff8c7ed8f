"""LibreTranslate (self-hosted, so the text never leaves the installation): `POST /translate` with a JSON body
`{"q": "..." or [...], "source": "th" or "auto", "target": "cs", "format": "text", "api_key": "..."}`, answered
`{"translatedText": "..." or [...]}` (with `detectedLanguage` when the source was `auto`). Errors are
`{"error": "..."}`: 400 bad request, 403 invalid or missing key, 429 slow down, 500 translation failed.
"""

from __future__ import annotations

from typing import ClassVar

from threadline.translation.base import Call, Result
from threadline.translation.transport import post_json, shape_error


class LibreTranslate:
    kind: ClassVar[str] = "libretranslate"
    default_base_url: ClassVar[str] = ""  # self-hosted: the admin gives the server's address
    native_glossary: ClassVar[bool] = False

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    def translate(self, call: Call) -> Result:
        body: dict[str, object] = {"q": call.texts, "source": call.source or "auto", "target": call.target,
                                   "format": "text"}
        if self.api_key:
            body["api_key"] = self.api_key
        document = post_json("LibreTranslate", f"{self.base_url}/translate", body, {})
        texts = document.get("translatedText") if isinstance(document, dict) else None
        if isinstance(texts, str) and len(call.texts) == 1:
            texts = [texts]
        if not isinstance(texts, list) or len(texts) != len(call.texts) or not all(isinstance(t, str) for t in texts):
            raise shape_error("LibreTranslate")
        detected = document.get("detectedLanguage")
        language = detected[0] if isinstance(detected, list) and detected else detected
        return Result(texts, str(language.get("language", "")) if isinstance(language, dict) else "")

    def create_glossary(self, name: str, source: str, target: str, entries: dict[str, str]) -> str:
        return ""  # no glossaries: the terms are protected instead
