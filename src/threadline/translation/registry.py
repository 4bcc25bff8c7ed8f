"""The providers by kind."""

from __future__ import annotations

from threadline.translation.base import TranslationProvider
from threadline.translation.deepl import DeepL
from threadline.translation.google import Google
from threadline.translation.libretranslate import LibreTranslate

PROVIDERS: dict[str, type] = {DeepL.kind: DeepL, Google.kind: Google, LibreTranslate.kind: LibreTranslate}


def provider_for(kind: str, base_url: str, api_key: str) -> TranslationProvider:
    return PROVIDERS[kind](base_url, api_key)  # type: ignore[no-any-return]
