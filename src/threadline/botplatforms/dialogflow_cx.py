"""Dialogflow CX through its REST API (v3): `sessions.detectIntent`.

`POST {base}/v3/projects/{project}/locations/{location}/agents/{agent}[/environments/{env}]/sessions/{session}
:detectIntent` with a bearer token from the service account (see `service_account.py`), body
`{"queryInput": {"text": {"text": ...}, "languageCode": ...}}` (or `{"event": {"event": ...}}` when the
customer pressed a rich-content button that names an event). The session lives at Google: the same session
id continues the same conversation.

The answer's `queryResult.responseMessages`: `text.text[]` become messages; a `payload` in the Dialogflow
Messenger rich-content format gives choices (`chips` options and `button`s; those with a link become text);
`liveAgentHandoff` is the hand-off signal (its `metadata.reason`, when set, is the reason), and
`endInteraction` hands over too unless the config says otherwise.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.translation import gettext as _

from threadline.botplatforms import service_account, transport
from threadline.botplatforms.base import (
    BotAuthError,
    BotTurn,
    DialogflowCXConfig,
    PlatformBot,
    choice_list,
    session_key,
)

PLATFORM = "Dialogflow CX"
MAX_SESSION = 36  # CX: "the session ID must not exceed 36 characters"
EVENT_PREFIX = "event:"


def session_url(config: DialogflowCXConfig, session: str) -> str:
    agent = f"projects/{config.project_id}/locations/{config.location}/agents/{config.agent_id}"
    if config.environment_id:
        agent += f"/environments/{config.environment_id}"
    return f"{config.base_url()}/v3/{agent}/sessions/{session}:detectIntent"


def query_input(text: str, language: str, choice: str | None) -> dict[str, Any]:
    if choice and choice.startswith(EVENT_PREFIX):
        return {"event": {"event": choice[len(EVENT_PREFIX):]}, "languageCode": language}
    return {"text": {"text": choice or text}, "languageCode": language}


def _rich_content(payload: dict[str, Any], texts: list[str], pairs: list[tuple[str, str]]) -> None:
    """Dialogflow Messenger's `richContent`: a list of lists of elements."""
    for group in payload.get("richContent") or []:
        for element in group if isinstance(group, list) else []:
            if not isinstance(element, dict):
                continue
            kind = element.get("type")
            if kind == "chips":
                for option in element.get("options") or []:
                    label = str(option.get("text", "")) if isinstance(option, dict) else ""
                    if option.get("link"):
                        texts.append(f"{label} {option['link']}".strip())
                    else:
                        pairs.append((label, label))
            elif kind == "button":
                label = str(element.get("text", ""))
                event = (element.get("event") or {}).get("event")
                if event:
                    pairs.append((f"{EVENT_PREFIX}{event}", label))
                elif element.get("link"):
                    texts.append(f"{label} {element['link']}".strip())
            elif kind in ("info", "description"):
                body = element.get("text") or element.get("subtitle") or ""
                lines = [element.get("title") or "", *(body if isinstance(body, list) else [body])]
                text = "\n".join(str(line) for line in lines if line)
                if text:
                    texts.append(text)


def turn_from(result: dict[str, Any], config: DialogflowCXConfig) -> BotTurn:
    query = result.get("queryResult") or {}
    texts: list[str] = []
    pairs: list[tuple[str, str]] = []
    handoff, reason = False, ""
    for message in query.get("responseMessages") or []:
        if not isinstance(message, dict):
            continue
        if isinstance(message.get("text"), dict):
            texts += [str(t) for t in message["text"].get("text") or [] if str(t).strip()]
        if isinstance(message.get("payload"), dict):
            _rich_content(message["payload"], texts, pairs)
        if "liveAgentHandoff" in message:
            metadata = (message.get("liveAgentHandoff") or {}).get("metadata") or {}
            handoff = True
            reason = str(metadata.get("reason", "")) if isinstance(metadata, dict) else ""
            reason = reason or _("The Dialogflow CX agent asked for a person.")
        if "endInteraction" in message and config.handoff_on_end_interaction and not handoff:
            handoff, reason = True, _("The Dialogflow CX agent ended the conversation.")
    return BotTurn(messages=texts, choices=choice_list(pairs), handoff=handoff, handoff_reason=reason, raw=result)


class DialogflowCX(PlatformBot):
    kind: ClassVar[str] = "dialogflow_cx"
    config_schema: ClassVar[type[DialogflowCXConfig]] = DialogflowCXConfig

    def turn(self, cfg: DialogflowCXConfig, session_id: str, text: str, language: str, choice: str | None,
             state: dict[str, Any] | None) -> BotTurn:
        url = session_url(cfg, session_key(session_id, max_length=MAX_SESSION))
        payload = {"queryInput": query_input(text, cfg.language_codes.get(language, language), choice)}
        try:
            return turn_from(self._detect(cfg, url, payload), cfg)
        except BotAuthError as exc:
            if exc.status != 401:
                raise
            service_account.forget(cfg.service_account_key)  # revoked or expired early: one new token, once
            return turn_from(self._detect(cfg, url, payload), cfg)

    def check(self, cfg: DialogflowCXConfig) -> None:
        """The key buys a token (detectIntent would start a dialog in the agent, so it is not called)."""
        service_account.forget(cfg.service_account_key)
        service_account.access_token(cfg.service_account_key, seconds=cfg.timeout_seconds)

    def _detect(self, cfg: DialogflowCXConfig, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        token = service_account.access_token(cfg.service_account_key, seconds=cfg.timeout_seconds)
        return transport.post_json(PLATFORM, url, payload, headers={"Authorization": f"Bearer {token}"},
                                   seconds=cfg.timeout_seconds)
