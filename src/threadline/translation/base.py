"""The contract every machine-translation provider meets, and the errors a translation can end in.

A provider turns a list of texts in one language into the same number of texts in another, over its documented
HTTP API, through the one outbound client (`core.http`). It knows nothing of workspaces, caches or budgets
(`actions.translate_texts` does that). Errors are `core.errors` subclasses, so the API and the workspace answer
them as JSON `{code, message}`: the provider being slow or refusing is not the caller's mistake (502), except
its rate limit, which is passed on as 429 with its Retry-After.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from django.utils.translation import gettext_lazy as _

from threadline.core.errors import Conflict, RateLimited, ThreadlineError


class ProviderFailed(ThreadlineError):
    """The provider could not translate (no answer, 5xx, an answer that is not its documented shape)."""

    status = 502
    code = "translation_failed"


class ProviderAuthFailed(ProviderFailed):
    """The provider refused the key (DeepL 403, Google 400/403 keyInvalid, LibreTranslate 403)."""

    code = "translation_auth_failed"


class ProviderQuotaExhausted(ProviderFailed):
    """The provider's own quota is used up (DeepL 456, Google's daily limit)."""

    code = "translation_quota_exhausted"


class ProviderRateLimited(RateLimited):
    """The provider asked to slow down (429); `retry_after` is its Retry-After, in seconds."""

    code = "translation_rate_limited"


class BudgetExhausted(Conflict):
    """The workspace's monthly character budget would be exceeded."""

    code = "translation_budget_exhausted"


class NotConfigured(Conflict):
    """The workspace has no translation provider."""

    code = "translation_not_configured"

    def __init__(self) -> None:
        super().__init__(str(_("No translation provider is set up for this workspace.")))


@dataclass(frozen=True)
class Glossary:
    """What the provider may do natively with the workspace's glossary for one language pair: DeepL takes a
    glossary id; the others get the texts with the terms already protected (`glossary.protect`)."""

    version: int
    entries: dict[str, str] = field(default_factory=dict)  # term → what it becomes in the target language


@dataclass(frozen=True)
class Call:
    texts: list[str]
    source: str  # "" lets the provider detect it
    target: str
    glossary_id: str = ""  # a provider-side glossary (DeepL)


@dataclass(frozen=True)
class Result:
    texts: list[str]
    detected_source: str = ""


class TranslationProvider(Protocol):
    kind: ClassVar[str]
    default_base_url: ClassVar[str]
    native_glossary: ClassVar[bool]  # can hold a glossary itself (DeepL)

    def translate(self, call: Call) -> Result: ...

    def create_glossary(self, name: str, source: str, target: str, entries: dict[str, str]) -> str:
        """A provider-side glossary for the pair; its id ("" when the pair has no glossaries there)."""
        ...
