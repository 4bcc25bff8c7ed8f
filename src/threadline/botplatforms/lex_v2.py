"""Amazon Lex V2 through the runtime API: `RecognizeText`.

`POST {base}/bots/{botId}/botAliases/{botAliasId}/botLocales/{localeId}/sessions/{sessionId}/text` with
`{"text": ...}`, signed with Signature Version 4 (service `lex`, see `sigv4.py`). Lex keeps the session: the
same session id continues the dialog. A pressed response-card button is sent as the button's `value`, as the
Lex clients do.

The answer: `messages[]` by `contentType` — `PlainText` (and `SSML`, tags stripped) become messages,
`ImageResponseCard` its title and subtitle plus its `buttons` (`text` → label, `value` → choice id);
`CustomPayload` is left to `raw`. Hand-off when the interpreted intent (`sessionState.intent.name`) is one of
the configured hand-off intents, or when `sessionState.dialogAction.type` is `Close` with the intent in a
configured state (e.g. `Failed`).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar
from urllib.parse import quote

from django.utils.translation import gettext as _

from threadline.botplatforms import sigv4, transport
from threadline.botplatforms.base import (
    BotTurn,
    LexV2Config,
    PermanentBotError,
    PlatformBot,
    choice_list,
    session_key,
)
from threadline.core import http

PLATFORM = "Amazon Lex V2"
SERVICE = "lex"
MAX_SESSION = 100  # Lex: sessionId is 2 to 100 characters of [0-9a-zA-Z._:-]
MAX_TEXT = 1024  # Lex: the text of RecognizeText is at most 1024 characters
TAGS = re.compile(r"<[^>]+>")


def session_url(config: LexV2Config, locale: str, session: str) -> str:
    parts = ["bots", config.bot_id, "botAliases", config.bot_alias_id, "botLocales", locale, "sessions", session]
    return config.base_url() + "/" + "/".join(quote(p, safe="") for p in parts)


def signed(config: LexV2Config, method: str, url: str, body: bytes) -> dict[str, str]:
    return sigv4.sign(method, url, headers={"Content-Type": "application/json"}, body=body,
                      access_key=config.access_key_id, secret_key=config.secret_access_key, region=config.region,
                      service=SERVICE, session_token=config.session_token)


def turn_from(result: dict[str, Any], config: LexV2Config) -> BotTurn:
    texts: list[str] = []
    pairs: list[tuple[str, str]] = []
    for message in result.get("messages") or []:
        if not isinstance(message, dict):
            continue
        kind = message.get("contentType")
        if kind == "PlainText" and message.get("content"):
            texts.append(str(message["content"]))
        elif kind == "SSML" and message.get("content"):
            texts.append(" ".join(TAGS.sub(" ", str(message["content"])).split()))
        elif kind == "ImageResponseCard" and isinstance(message.get("imageResponseCard"), dict):
            card = message["imageResponseCard"]
            heading = "\n".join(str(card[k]) for k in ("title", "subtitle") if card.get(k))
            if heading:
                texts.append(heading)
            pairs += [(str(b.get("value", "")), str(b.get("text", ""))) for b in card.get("buttons") or []
                      if isinstance(b, dict)]
    session = result.get("sessionState") or {}
    intent = session.get("intent") or {}
    action = session.get("dialogAction") or {}
    handoff, reason = False, ""
    if intent.get("name") and intent.get("name") in config.handoff_intents:
        handoff = True
        reason = _("The Lex bot recognised the hand-off intent %(intent)s.") % {"intent": intent["name"]}
    elif action.get("type") == "Close" and intent.get("state") in config.handoff_close_states:
        handoff = True
        reason = _("The Lex bot closed the dialog with the intent %(intent)s %(state)s.") % {
            "intent": intent.get("name", ""), "state": intent.get("state", "")}
    return BotTurn(messages=texts, choices=choice_list(pairs), handoff=handoff, handoff_reason=reason, raw=result)


class LexV2(PlatformBot):
    kind: ClassVar[str] = "lex_v2"
    config_schema: ClassVar[type[LexV2Config]] = LexV2Config

    def turn(self, cfg: LexV2Config, session_id: str, text: str, language: str, choice: str | None,
             state: dict[str, Any] | None) -> BotTurn:
        locale = cfg.locales.get(language, cfg.locale_id)
        url = session_url(cfg, locale, session_key(session_id, max_length=MAX_SESSION)) + "/text"
        body = json.dumps({"text": (choice or text)[:MAX_TEXT]}, ensure_ascii=False).encode()
        headers = signed(cfg, "POST", url, body)
        response = transport.call(PLATFORM, lambda: http.post(url, content=body, headers=headers,
                                                              timeout=transport.timeout(cfg.timeout_seconds)))
        return turn_from(transport.json_body(PLATFORM, response), cfg)

    def check(self, cfg: LexV2Config) -> None:
        """`GetSession` of a session that does not exist: Lex checks the signature and the permission first,
        so 404 (no such session) means the key works; nothing is started in the bot."""
        url = session_url(cfg, cfg.locale_id, "threadline-connection-check")
        headers = signed(cfg, "GET", url, b"")
        try:
            transport.call(PLATFORM, lambda: http.get(url, headers=headers,
                                                      timeout=transport.timeout(cfg.timeout_seconds)))
        except PermanentBotError as exc:
            if exc.status != 404 or "ResourceNotFoundException" not in exc.message:
                raise
