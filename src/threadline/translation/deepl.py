"""DeepL API: `POST /v2/translate` with `Authorization: DeepL-Auth-Key <key>` and a JSON body
`{"text": [...], "target_lang": "CS", "source_lang": "TH", "glossary_id": ...}`, answered
`{"translations": [{"detected_source_language": "TH", "text": "..."}]}`; glossaries with
`POST /v2/glossaries` `{"name", "source_lang", "target_lang", "entries": <TSV>, "entries_format": "tsv"}` →
`{"glossary_id", "ready", ...}` (a pair without glossary support answers 400). Free keys end in `:fx` and use
api-free.deepl.com; errors: 403 wrong key, 456 quota exceeded, 429 too many requests.
"""

from __future__ import annotations

from typing import ClassVar

from threadline.translation.base import Call, ProviderFailed, Result
from threadline.translation.transport import post_json, shape_error

FREE_URL = "https://api-free.deepl.com"
PRO_URL = "https://api.deepl.com"
# DeepL's target codes that need a variant; the rest are the language code upper-cased.
TARGET_VARIANTS = {"en": "EN-US", "pt": "PT-PT", "zh": "ZH-HANS"}


def default_base_url(api_key: str) -> str:
    return FREE_URL if api_key.endswith(":fx") else PRO_URL


def source_code(language: str) -> str:
    return language.split("-")[0].upper()


def target_code(language: str) -> str:
    return TARGET_VARIANTS.get(language.lower(), language.upper())


class DeepL:
    kind: ClassVar[str] = "deepl"
    default_base_url: ClassVar[str] = PRO_URL
    native_glossary: ClassVar[bool] = True

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = (base_url or default_base_url(api_key)).rstrip("/")
        self.headers = {"Authorization": f"DeepL-Auth-Key {api_key}"}

    def translate(self, call: Call) -> Result:
        body: dict[str, object] = {"text": call.texts, "target_lang": target_code(call.target)}
        if call.source:
            body["source_lang"] = source_code(call.source)
        if call.glossary_id:
            body["glossary_id"] = call.glossary_id
        document = post_json("DeepL", f"{self.base_url}/v2/translate", body, self.headers)
        items = document.get("translations") if isinstance(document, dict) else None
        if not isinstance(items, list) or len(items) != len(call.texts) or not all(
                isinstance(i, dict) and isinstance(i.get("text"), str) for i in items):
            raise shape_error("DeepL")
        detected = str(items[0].get("detected_source_language", "")).lower() if items else ""
        return Result([i["text"] for i in items], detected)

    def create_glossary(self, name: str, source: str, target: str, entries: dict[str, str]) -> str:
        tsv = "\n".join(f"{k}\t{v}" for k, v in entries.items() if "\t" not in k + v and "\n" not in k + v)
        body = {"name": name, "source_lang": source_code(source), "target_lang": source_code(target),
                "entries": tsv, "entries_format": "tsv"}
        try:
            document = post_json("DeepL", f"{self.base_url}/v2/glossaries", body, self.headers)
        except ProviderFailed as exc:
            if exc.code == "translation_failed" and " 400:" in exc.message:
                return ""  # this language pair has no glossaries at DeepL: the terms are protected instead
            raise
        glossary_id = document.get("glossary_id") if isinstance(document, dict) else None
        if not isinstance(glossary_id, str) or not glossary_id:
            raise shape_error("DeepL")
        return glossary_id
