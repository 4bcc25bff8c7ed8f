"""The contract between Threadline's answer bot and an external bot platform (Dialogflow CX, Lex V2, Direct Line).

The bot domain owns when a bot speaks; a platform module only turns one customer turn into the platform's
request and the platform's answer into a `BotTurn`: the texts to send, the choices to offer (rendered natively
by each channel kind), and whether the platform asked for a person (its own hand-off signal).

Every provider base URL is part of the config, so tests and self-hosted gateways point a bot at a local server.
Errors: `TransientBotError` (timeouts, 5xx, 429: try again later or hand over), `PermanentBotError` (the
configuration or the request is wrong: retrying will not help), `BotAuthError` (the platform refused the
credentials), all `BotPlatformError`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field, ValidationError, field_validator

from threadline.core.metrics import BOT_PLATFORM_TURNS

logger = logging.getLogger(__name__)


# ── errors ───────────────────────────────────────────────────────────────────────────────────────────
class BotPlatformError(Exception):
    """A bot platform could not answer this turn. `transient` says whether trying again may succeed."""

    transient: ClassVar[bool] = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class TransientBotError(BotPlatformError):
    """Timeout, connection failure, 5xx or 429: the same turn may succeed later."""

    transient = True


class PermanentBotError(BotPlatformError):
    """The platform refused the request as is (4xx, an invalid configuration): retrying will not help."""


class BotAuthError(PermanentBotError):
    """The platform (or its token endpoint) refused the credentials of the configuration."""


class BotConfigError(PermanentBotError):
    """The stored configuration does not satisfy the platform's config schema."""


# ── the turn ─────────────────────────────────────────────────────────────────────────────────────────
@dataclass
class BotTurn:
    """What the platform answered to one customer turn.

    `choices` are `{"id", "label"}` dicts (the id comes back as `choice` when the customer picks one).
    `state` (an extension of the agreed interface) is what the caller may store and pass back as `state=` on
    the next turn of the same session: Direct Line's conversation id, token and watermark. Platforms that keep
    the session themselves (Dialogflow CX, Lex V2) return `{}`.
    """

    messages: list[str]
    choices: list[dict[str, str]]
    handoff: bool
    handoff_reason: str
    raw: dict[str, Any]
    state: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class ExternalBot(Protocol):
    kind: ClassVar[str]
    config_schema: ClassVar[type[BaseModel]]

    def converse(self, config: dict[str, Any], session_id: str, text: str, language: str, choice: str | None,
                 *, state: dict[str, Any] | None = None) -> BotTurn: ...


# ── config schemas ───────────────────────────────────────────────────────────────────────────────────
class PlatformConfig(BaseModel):
    model_config = {"extra": "forbid"}

    timeout_seconds: float = Field(default=10.0, gt=0, le=30)

    def endpoints(self) -> dict[str, str]:
        """The URLs this config makes Threadline call, by field (checked when the config is saved)."""
        return {"api_base_url": self.base_url()}

    def base_url(self) -> str:
        raise NotImplementedError


class DialogflowCXConfig(PlatformConfig):
    """An agent's path parts, and a service account's JSON key allowed to call `detectIntent`."""

    project_id: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9-]+$")
    location: str = Field(default="global", min_length=1, max_length=50, pattern=r"^[a-z0-9-]+$")
    agent_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$")
    environment_id: str = Field(default="", max_length=100, pattern=r"^[A-Za-z0-9-]*$")
    service_account_key: dict[str, Any]  # the JSON key file as downloaded (client_email, private_key, token_uri)
    api_base_url: str = Field(default="", max_length=500)  # "" = Google's endpoint for `location`
    # Threadline language → CX languageCode when they differ (e.g. {"he": "iw"}); otherwise passed as is.
    language_codes: dict[str, str] = Field(default_factory=dict)
    handoff_on_end_interaction: bool = True

    @field_validator("service_account_key", mode="before")
    @classmethod
    def _key(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValueError("the service account key is not JSON") from exc
        if not isinstance(value, dict):
            raise ValueError("the service account key must be a JSON object")
        missing = [k for k in ("client_email", "private_key", "token_uri") if not value.get(k)]
        if missing:
            raise ValueError(f"the service account key lacks {', '.join(missing)}")
        return value

    def endpoints(self) -> dict[str, str]:
        return {"api_base_url": self.base_url(), "service_account_key.token_uri": self.service_account_key["token_uri"]}

    def base_url(self) -> str:
        if self.api_base_url:
            return self.api_base_url.rstrip("/")
        host = "dialogflow.googleapis.com" if self.location == "global" else f"{self.location}-dialogflow.googleapis.com"
        return f"https://{host}"


class LexV2Config(PlatformConfig):
    """A bot alias and locale, and an IAM access key allowed `lex:RecognizeText` on it."""

    region: str = Field(min_length=1, max_length=30, pattern=r"^[a-z0-9-]+$")
    bot_id: str = Field(min_length=1, max_length=10, pattern=r"^[0-9A-Za-z]+$")
    bot_alias_id: str = Field(min_length=1, max_length=10, pattern=r"^[0-9A-Za-z]+$")
    locale_id: str = Field(default="en_US", min_length=1, max_length=20)
    # Threadline language → Lex locale id (e.g. {"en": "en_US", "fr": "fr_FR"}); else `locale_id`.
    locales: dict[str, str] = Field(default_factory=dict)
    access_key_id: str = Field(min_length=16, max_length=128)
    secret_access_key: str = Field(min_length=1, max_length=128)
    session_token: str = Field(default="", max_length=4096)
    api_base_url: str = Field(default="", max_length=500)  # "" = https://runtime-v2-lex.<region>.amazonaws.com
    # hand over when the interpreted intent is one of these, or when Lex closes the dialog with an intent
    # in one of these states (e.g. "Failed")
    handoff_intents: list[str] = Field(default_factory=list)
    handoff_close_states: list[Literal["Failed", "Fulfilled", "ReadyForFulfillment"]] = Field(default_factory=list)

    def base_url(self) -> str:
        return (self.api_base_url or f"https://runtime-v2-lex.{self.region}.amazonaws.com").rstrip("/")


class BotFrameworkConfig(PlatformConfig):
    """A Direct Line channel secret of an Azure Bot (or a Bot Framework bot registered with Direct Line)."""

    secret: str = Field(min_length=10, max_length=500)
    # "token": exchange the secret for a conversation token (tokens/generate, refreshed before expiry) so the
    # secret only ever goes to the token endpoint; "secret": send the secret on every call.
    auth: Literal["token", "secret"] = "token"
    api_base_url: str = Field(default="https://directline.botframework.com", max_length=500)
    user_name: str = Field(default="", max_length=100)
    # how long to poll for the bot's answers to one turn, and how often
    reply_wait_seconds: float = Field(default=8.0, gt=0, le=30)
    poll_interval_seconds: float = Field(default=0.5, gt=0, le=5)

    def base_url(self) -> str:
        return self.api_base_url.rstrip("/")


class PlatformBot:
    """What the three platforms share: `converse` validates the config, runs the platform's `turn` and counts
    the outcome (`threadline_bot_platform_turns_total`)."""

    kind: ClassVar[str]
    config_schema: ClassVar[type[PlatformConfig]]

    def converse(self, config: dict[str, Any], session_id: str, text: str, language: str, choice: str | None,
                 *, state: dict[str, Any] | None = None) -> BotTurn:
        outcome = "error"
        try:
            cfg = parse_config(self.config_schema, config)
            try:
                turn = self.turn(cfg, session_id, text, language, choice, state)
            except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
                # a platform answer of a shape its documentation does not allow: refused, never a crash
                logger.exception("%s answered in an unexpected shape", self.kind)
                raise PermanentBotError(f"{self.kind}: unexpected answer: {type(exc).__name__}: {exc}") from exc
            outcome = "handoff" if turn.handoff else "answered"
            return turn
        except BotAuthError:
            outcome = "auth_refused"
            raise
        except TransientBotError:
            outcome = "transient_error"
            raise
        finally:
            BOT_PLATFORM_TURNS.labels(self.kind, outcome).inc()

    def turn(self, config: Any, session_id: str, text: str, language: str, choice: str | None,
             state: dict[str, Any] | None) -> BotTurn:
        raise NotImplementedError

    def check_connection(self, config: dict[str, Any]) -> None:
        """Prove the credentials (and, where the platform allows it without starting a dialog, the bot) work:
        an admin's "test connection". Raises the BotPlatformError that says what is wrong."""
        self.check(parse_config(self.config_schema, config))

    def check(self, config: Any) -> None:
        raise NotImplementedError


def parse_config(schema: type[PlatformConfig], config: dict[str, Any]) -> Any:
    """The validated config, or BotConfigError naming the first wrong field."""
    try:
        return schema.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "config"
        raise BotConfigError(f"{where}: {first.get('msg', 'invalid')}") from exc


SAFE_SESSION = re.compile(r"^[A-Za-z0-9._-]+$")


def session_key(session_id: str, *, max_length: int) -> str:
    """A session id every platform accepts in a URL path: the caller's own when it is short and plain,
    otherwise a stable digest of it (the same session id always maps to the same platform session)."""
    if 2 <= len(session_id) <= max_length and SAFE_SESSION.match(session_id):
        return session_id
    return hashlib.sha256(session_id.encode()).hexdigest()[:max_length]


def choice_list(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """`{"id", "label"}` dicts from (id, label) pairs, without empty ids or repeats."""
    seen: set[str] = set()
    choices = []
    for choice_id, label in pairs:
        if choice_id and choice_id not in seen:
            seen.add(choice_id)
            choices.append({"id": choice_id, "label": label or choice_id})
    return choices
