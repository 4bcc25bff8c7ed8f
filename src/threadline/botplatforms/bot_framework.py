"""Microsoft Bot Framework through Direct Line 3.0 (any Azure Bot with the Direct Line channel).

A session is a Direct Line conversation. With `auth: "token"` (the default) the secret is exchanged for a
conversation token (`POST /v3/directline/tokens/generate`, bound to this customer's user id) and only the
token is used afterwards, refreshed (`POST /v3/directline/tokens/refresh`) before it expires; with
`auth: "secret"` the secret is sent on every call. `POST /v3/directline/conversations` starts the
conversation, `POST .../activities` sends the customer's message, and the bot's answers, which arrive
asynchronously, are polled with `GET .../activities?watermark=` until the bot's last activity no longer says
`inputHint: ignoringInput` (more is coming) or `reply_wait_seconds` pass.

Activities from the bot: `message` text (and hero/thumbnail card titles) become messages; `suggestedActions`
and card buttons (`imBack`, `postBack`, `messageBack`) become choices, their `value` the choice id, sent back
as the message text when picked. The hand-off signal is the documented protocol's `event` activity named
`handoff.initiate` (its `value`, the hand-off context, may carry a `reason`), or the older `handoff` activity
type.

The conversation id, token and watermark are returned in `BotTurn.state` for the caller to pass back; a caller
that does not is served from the cache (shared by every worker with Redis) for a day.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, ClassVar
from urllib.parse import quote

from django.core.cache import cache
from django.utils.translation import gettext as _

from threadline.botplatforms import transport
from threadline.botplatforms.base import (
    BotAuthError,
    BotFrameworkConfig,
    BotTurn,
    PermanentBotError,
    PlatformBot,
    choice_list,
    session_key,
)
from threadline.core import http

PLATFORM = "Bot Framework Direct Line"
REFRESH_BEFORE = 120  # seconds before a token's expiry when it is refreshed
STATE_TTL = 24 * 3600
CHOICE_ACTIONS = ("imBack", "postBack", "messageBack")
CARD_TYPES = ("application/vnd.microsoft.card.hero", "application/vnd.microsoft.card.thumbnail")
HANDOFF_EVENT = "handoff.initiate"
MAX_PAGE = 2 * 1024 * 1024  # bytes of one page of activities


def user_id(session_id: str) -> str:
    return "dl_" + session_key(session_id, max_length=64)  # "dl_": Direct Line's advice for user ids it binds


def _state_key(config: BotFrameworkConfig, session_id: str) -> str:
    ident = f"{config.api_base_url}\n{hashlib.sha256(config.secret.encode()).hexdigest()}\n{session_id}"
    return "botplatforms:directline:" + hashlib.sha256(ident.encode()).hexdigest()


class _Session:
    """One turn's view of the Direct Line conversation: where to call and with which bearer."""

    def __init__(self, config: BotFrameworkConfig, session_id: str, state: dict[str, Any]) -> None:
        self.config = config
        self.base = config.base_url() + "/v3/directline"
        self.user = user_id(session_id)
        self.state = dict(state)

    def _bearer(self) -> str:
        if self.config.auth == "token" and self.state.get("token"):
            return str(self.state["token"])
        return self.config.secret

    def _post(self, path: str, payload: dict[str, Any] | None, bearer: str) -> dict[str, Any]:
        return transport.post_json(PLATFORM, self.base + path, payload or {},
                                   headers={"Authorization": f"Bearer {bearer}"}, seconds=self.config.timeout_seconds)

    def _get(self, url: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._bearer()}"}
        response = transport.call(PLATFORM, lambda: http.get(
            url, headers=headers, timeout=transport.timeout(self.config.timeout_seconds), max_bytes=MAX_PAGE))
        return transport.json_body(PLATFORM, response)

    def start(self) -> None:
        self.state = {}
        user = {"id": self.user, **({"name": self.config.user_name} if self.config.user_name else {})}
        if self.config.auth == "token":
            issued = self._post("/tokens/generate", {"user": user}, self.config.secret)
            self._keep_token(issued)
        started = self._post("/conversations", None, self._bearer())
        conversation = started.get("conversationId")
        if not isinstance(conversation, str) or not conversation:
            raise PermanentBotError(f"{PLATFORM} started a conversation without a conversationId")
        self.state["conversation_id"] = conversation
        self.state["watermark"] = ""

    def _keep_token(self, issued: dict[str, Any]) -> None:
        token = issued.get("token")
        if not isinstance(token, str) or not token:
            raise PermanentBotError(f"{PLATFORM} issued no token")
        self.state["token"] = token
        try:
            lifetime = int(issued.get("expires_in", 1800))
        except (TypeError, ValueError):
            lifetime = 1800
        self.state["token_expires_at"] = int(time.time()) + lifetime

    def ensure(self) -> None:
        """A conversation to post into, with a token that will not expire during this turn."""
        if not self.state.get("conversation_id"):
            self.start()
            return
        if self.config.auth != "token":
            return
        if int(self.state.get("token_expires_at", 0)) - time.time() > REFRESH_BEFORE:
            return
        try:
            self._keep_token(self._post("/tokens/refresh", None, self.state.get("token", "")))
        except BotAuthError:
            self.start()  # the token expired already: a new conversation (the bot's memory of this one is lost)

    def post_message(self, text: str, language: str) -> str:
        activity = {"type": "message", "from": {"id": self.user}, "text": text, "locale": language}
        if self.config.user_name:
            activity["from"]["name"] = self.config.user_name
        path = f"/conversations/{quote(self.state['conversation_id'], safe='')}/activities"
        try:
            posted = self._post(path, activity, self._bearer())
        except PermanentBotError as exc:
            gone = exc.status == 404 or (exc.status == 403 and self.config.auth == "token")
            if not gone:  # 404: the conversation is gone; 403 with a token: the token is no longer valid
                raise
            self.start()
            path = f"/conversations/{quote(self.state['conversation_id'], safe='')}/activities"
            posted = self._post(path, activity, self._bearer())
        return str(posted.get("id", ""))

    def poll(self) -> list[dict[str, Any]]:
        """The bot's activities after the customer's message, polled until it stops or time runs out."""
        conversation = quote(self.state["conversation_id"], safe="")
        deadline = time.monotonic() + self.config.reply_wait_seconds
        found: list[dict[str, Any]] = []
        while True:
            watermark = self.state.get("watermark", "")
            url = f"{self.base}/conversations/{conversation}/activities"
            if watermark:
                url += f"?watermark={quote(str(watermark), safe='')}"
            page = self._get(url)
            if page.get("watermark") not in (None, ""):
                self.state["watermark"] = str(page["watermark"])
            found += [a for a in page.get("activities") or []
                      if isinstance(a, dict) and (a.get("from") or {}).get("id") != self.user]
            if _finished(found) or time.monotonic() + self.config.poll_interval_seconds > deadline:
                return found
            time.sleep(self.config.poll_interval_seconds)


def _finished(activities: list[dict[str, Any]]) -> bool:
    if any(_handoff(a) is not None for a in activities):
        return True
    messages = [a for a in activities if a.get("type") == "message"]
    return bool(messages) and messages[-1].get("inputHint") != "ignoringInput"


def _handoff(activity: dict[str, Any]) -> str | None:
    """The reason when `activity` is a hand-off signal ("" when it gives none), else None."""
    if activity.get("type") == "handoff" or (activity.get("type") == "event" and activity.get("name") == HANDOFF_EVENT):
        value = activity.get("value")
        reason = value.get("reason") if isinstance(value, dict) else None
        return str(reason or activity.get("text") or "")
    return None


def _actions(actions: Any) -> list[tuple[str, str]]:
    pairs = []
    for action in actions if isinstance(actions, list) else []:
        if isinstance(action, dict) and action.get("type") in CHOICE_ACTIONS:
            value = action.get("value")
            choice = value if isinstance(value, str) and value else action.get("text") or action.get("title") or ""
            pairs.append((str(choice), str(action.get("title") or choice)))
    return pairs


def turn_from(activities: list[dict[str, Any]], state: dict[str, Any]) -> BotTurn:
    texts: list[str] = []
    pairs: list[tuple[str, str]] = []
    handoff, reason = False, ""
    for activity in activities:
        signal = _handoff(activity)
        if signal is not None:
            handoff, reason = True, signal or _("The Bot Framework bot asked for a person.")
            continue
        if activity.get("type") != "message":
            continue
        if activity.get("text"):
            texts.append(str(activity["text"]))
        for attachment in activity.get("attachments") or []:
            if isinstance(attachment, dict) and attachment.get("contentType") in CARD_TYPES:
                card = attachment.get("content") or {}
                heading = "\n".join(str(card[k]) for k in ("title", "subtitle", "text") if card.get(k))
                if heading:
                    texts.append(heading)
                pairs += _actions(card.get("buttons"))
        pairs += _actions((activity.get("suggestedActions") or {}).get("actions"))
    return BotTurn(messages=texts, choices=choice_list(pairs), handoff=handoff, handoff_reason=reason,
                   raw={"activities": activities}, state=state)


class BotFramework(PlatformBot):
    kind: ClassVar[str] = "bot_framework"
    config_schema: ClassVar[type[BotFrameworkConfig]] = BotFrameworkConfig

    def turn(self, cfg: BotFrameworkConfig, session_id: str, text: str, language: str, choice: str | None,
             state: dict[str, Any] | None) -> BotTurn:
        key = _state_key(cfg, session_id)
        session = _Session(cfg, session_id, state if state is not None else (cache.get(key) or {}))
        try:
            session.ensure()
            session.post_message(choice or text, language)
            activities = session.poll()
        finally:  # a turn that failed after the conversation started still continues it next time
            if session.state.get("conversation_id"):
                cache.set(key, session.state, timeout=STATE_TTL)
        return turn_from(activities, session.state)

    def check(self, cfg: BotFrameworkConfig) -> None:
        """The secret buys a token (nothing is posted to the bot)."""
        _Session(cfg, "threadline-connection-check", {})._post("/tokens/generate", {"user": {"id": "dl_check"}},
                                                               cfg.secret)
