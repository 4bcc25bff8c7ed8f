"""The one place where subscribers are wired to event types (no Django signals).

Durable subscribers run in a worker, once per event, with retries: one job per event, written in the same
transaction as the event (the outbox), runs every durable subscriber that wants it, each in a savepoint;
one that fails is retried alone (events/tasks.py, ADR 0004). A subscriber must only touch the database
(enqueue a job for network I/O) and be idempotent per outbox id. Immediate subscribers run in-process right after commit and may be
lost in a crash, so they only do what a client can recover from (real-time fan-out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Subscriber:
    name: str
    path: str  # "module:function", called with (event_type, payload, outbox_id)
    types: frozenset[str]  # event types, or {"*"}
    # "module:function" called with (event_type, payload) before the subscriber, in the same transaction:
    # False when it has nothing to do for this event (no webhook subscription, no automation wants it), so
    # neither it nor its savepoint runs. It reads through `core.batch_cache`: cheap inside a batch.
    interested: str = ""

    def wants(self, event_type: str) -> bool:
        return "*" in self.types or event_type in self.types

    def resolve(self) -> Callable[[str, dict[str, Any], int], None]:
        return _function(self.path)

    def has_work(self, event_type: str, payload: dict[str, Any]) -> bool:
        return not self.interested or bool(_function(self.interested)(event_type, payload))


def _function(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(import_module(module), attr)


DURABLE: list[Subscriber] = [
    Subscriber("webhooks", "threadline.webhooks.subscribers:on_event", frozenset({"*"}),
               interested="threadline.webhooks.subscribers:interested"),
    Subscriber("automations", "threadline.automations.subscribers:on_event", frozenset({"conversation.created", "conversation.updated", "message.received", "message.created", "language.set", "sla.warned", "sla.breached", "routing.escalated", "survey.answered"}),
               interested="threadline.automations.subscribers:interested"),
    Subscriber("language", "threadline.language.subscribers:on_event", frozenset({"message.received"})),
    Subscriber("sla", "threadline.sla.subscribers:on_event", frozenset({"conversation.created", "conversation.updated", "message.received", "message.created"})),
    Subscriber("bot", "threadline.bot.subscribers:on_event", frozenset({"message.received"}),
               interested="threadline.bot.subscribers:interested"),  # before routing: it holds bot conversations
    Subscriber("routing", "threadline.routing.subscribers:on_event", frozenset({"message.received", "conversation.updated", "agent.updated"})),
    Subscriber("search", "threadline.search.subscribers:on_event", frozenset({
        "message.received", "message.created", "conversation.created", "conversation.updated", "conversation.merged",
        "contact.created", "contact.updated", "contact.identity_linked", "contact.identity_removed", "contact.merged",
        "contact.unmerged", "contact.deleted", "article.published", "article.updated", "article.unpublished"}),
        interested="threadline.search.subscribers:interested"),
    Subscriber("crm", "threadline.crm.subscribers:on_event", frozenset({"conversation.updated"}),
               interested="threadline.crm.subscribers:interested"),
    Subscriber("analytics", "threadline.analytics.subscribers:on_event", frozenset({
        "conversation.created", "conversation.updated", "message.received", "message.created", "conversation.merged",
        "bot.resolved", "bot.handed_over", "bot.abandoned", "survey.answered"}),
        interested="threadline.analytics.subscribers:interested"),
    Subscriber("surveys", "threadline.surveys.subscribers:on_event", frozenset({"conversation.updated", "message.received",
                                                                              "call.recorded"}),
               interested="threadline.surveys.subscribers:interested"),
    Subscriber("helpcenter", "threadline.helpcenter.subscribers:on_event", frozenset({
        "article.published", "article.updated", "article.unpublished", "article.deleted"})),
    Subscriber("crisis", "threadline.crisis.subscribers:on_event", frozenset({"social.item_received"})),
    Subscriber("outreach", "threadline.outreach.subscribers:on_event", frozenset({"message.status_changed"}),
               interested="threadline.outreach.subscribers:interested"),
]

IMMEDIATE: list[Subscriber] = [
    Subscriber("realtime", "threadline.realtime.fanout:on_event", frozenset({"*"})),
]


def durable(name: str) -> Subscriber:
    return next(s for s in DURABLE if s.name == name)
