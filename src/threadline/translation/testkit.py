"""A local fake of the three translation providers, built from their documented request and response shapes,
for tests and demos: one HTTP server on loopback answering DeepL (`POST /v2/translate`, `POST /v2/glossaries`,
key in `Authorization: DeepL-Auth-Key`), Google Cloud Translation v2 (`POST /language/translate/v2?key=`) and
LibreTranslate (`POST /translate`, key in the body's `api_key`), each checking the key the way the provider
does and answering its errors in its own shape (DeepL 403/456, Google 400 `keyInvalid` / 403
`dailyLimitExceeded`, LibreTranslate 403 `{"error"}`; 429 with Retry-After everywhere).

Translation is a small deterministic dictionary (`fixtures/dictionary.json`, whole texts per language pair,
then known phrases inside a text); a text it does not know comes back as `[target] text`. Placeholders `⟦n⟧`
are left alone, as real engines leave them; a DeepL glossary's entries are applied like its dictionary.
`answers` queues canned answers `(status, body, headers)` for the next requests (errors, throttling).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from threadline.testing.serving import Handler as QuickHandler
from threadline.testing.serving import serve_in_thread, stop_serving

DICTIONARY: dict[str, dict[str, str]] = json.loads((Path(__file__).parent / "fixtures" / "dictionary.json").read_text())
Answer = tuple[int, Any, dict[str, str]]
THAI = re.compile(r"[\u0E00-\u0E7F]")


def fake_translate(text: str, source: str, target: str, extra: dict[str, str] | None = None) -> str:
    source = source or ("th" if THAI.search(text) else "en")
    pair = {**DICTIONARY.get(f"{source}-{target}", {}), **(extra or {})}
    if text in pair:
        return pair[text]
    out, changed = text, False
    for phrase in sorted(pair, key=len, reverse=True):
        if phrase in out:
            out, changed = out.replace(phrase, pair[phrase]), True
    return out if changed else f"[{target}] {text}"


class FakeTranslator:
    def __init__(self, api_key: str = "test-key") -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.answers: list[Answer] = []
        self.glossaries: dict[str, dict[str, Any]] = {}
        self.glossary_pairs = {("EN", "CS"), ("EN", "TH"), ("CS", "TH"), ("TH", "CS")}
        self.server: ThreadingHTTPServer | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTranslator:
        fake = self

        class Handler(QuickHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, body, headers = fake.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve_in_thread(self.server)
        return self

    def stop(self) -> None:
        if self.server is not None:
            stop_serving(self.server)

    # ── requests ────────────────────────────────────────────────────────────────────────────────────
    def handle(self, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        parts = urlsplit(target)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"message": "Invalid JSON"}, {}
        with self.lock:
            self.requests.append({"path": parts.path, "query": parse_qs(parts.query), "headers": headers, "body": body})
            if self.answers:
                return self.answers.pop(0)
        if parts.path == "/v2/translate":
            return self.deepl(headers, body)
        if parts.path == "/v2/glossaries":
            return self.deepl_glossary(headers, body)
        if parts.path == "/language/translate/v2":
            return self.google(parse_qs(parts.query).get("key", [""])[0], body)
        if parts.path == "/translate":
            return self.libretranslate(body)
        return 404, {"message": "Not found"}, {}

    def deepl(self, headers: dict[str, str], body: dict[str, Any]) -> Answer:
        if headers.get("authorization") != f"DeepL-Auth-Key {self.api_key}":
            return 403, {"message": "Wrong endpoint. Use https://api.deepl.com"}, {}
        texts, target = body.get("text"), str(body.get("target_lang", ""))
        if not isinstance(texts, list) or not target:
            return 400, {"message": "Value for 'target_lang' not supported."}, {}
        source = str(body.get("source_lang", "")).lower()
        extra = self.glossaries.get(str(body.get("glossary_id", "")), {}).get("entries")
        lang = target.split("-")[0].lower()
        return 200, {"translations": [
            {"detected_source_language": (source or ("th" if THAI.search(t) else "en")).upper(),
             "text": fake_translate(t, source, lang, extra)} for t in texts]}, {}

    def deepl_glossary(self, headers: dict[str, str], body: dict[str, Any]) -> Answer:
        if headers.get("authorization") != f"DeepL-Auth-Key {self.api_key}":
            return 403, {"message": "Forbidden"}, {}
        pair = (str(body.get("source_lang", "")).upper(), str(body.get("target_lang", "")).upper())
        if pair not in self.glossary_pairs:
            return 400, {"message": "Unsupported glossary source and target language pair"}, {}
        if body.get("entries_format") != "tsv":
            return 400, {"message": "Invalid entries format"}, {}
        entries = dict(line.split("\t", 1) for line in str(body.get("entries", "")).splitlines() if "\t" in line)
        glossary_id = f"g{len(self.glossaries) + 1:04d}-fake"
        self.glossaries[glossary_id] = {"entries": entries, "pair": pair}
        return 201, {"glossary_id": glossary_id, "name": body.get("name"), "ready": True,
                     "source_lang": pair[0].lower(), "target_lang": pair[1].lower(),
                     "creation_time": "2026-12-04T20:00:00.000Z", "entry_count": len(entries)}, {}

    def google(self, key: str, body: dict[str, Any]) -> Answer:
        if key != self.api_key:
            return 400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                   "errors": [{"message": "API key not valid. Please pass a valid API key.",
                                               "domain": "global", "reason": "badRequest"}],
                                   "status": "INVALID_ARGUMENT",
                                   "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}, {}
        texts = body.get("q")
        texts = [texts] if isinstance(texts, str) else texts
        target, source = str(body.get("target", "")), str(body.get("source", ""))
        if not isinstance(texts, list) or not target:
            return 400, {"error": {"code": 400, "message": "Required Text", "errors": [
                {"message": "Required Text", "domain": "global", "reason": "required"}]}}, {}
        items = []
        for text in texts:
            item = {"translatedText": fake_translate(text, source, target)}
            if not source:
                item["detectedSourceLanguage"] = "th" if THAI.search(text) else "en"
            items.append(item)
        return 200, {"data": {"translations": items}}, {}

    def libretranslate(self, body: dict[str, Any]) -> Answer:
        if self.api_key and body.get("api_key") != self.api_key:
            return 403, {"error": "Invalid API key"}, {}
        q, target, source = body.get("q"), str(body.get("target", "")), str(body.get("source", "auto"))
        if q is None or not target:
            return 400, {"error": "Invalid request: missing q parameter"}, {}
        texts = [q] if isinstance(q, str) else q
        detected = "th" if any(THAI.search(t) for t in texts) else "en"
        out = [fake_translate(t, "" if source == "auto" else source, target) for t in texts]
        answer: dict[str, Any] = {"translatedText": out[0] if isinstance(q, str) else out}
        if source == "auto":
            answer["detectedLanguage"] = {"confidence": 90.0, "language": detected} if isinstance(q, str) else [
                {"confidence": 90.0, "language": detected} for _t in texts]
        return 200, answer, {}
