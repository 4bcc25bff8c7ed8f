"""Ephemeral presence in the cache: which agents are connected (and online or away), who is viewing or
typing in a conversation, whether a customer has a live chat session. Never database rows: entries expire
on their own when a process dies, and every live socket refreshes its own entry with a heartbeat.

Each key holds a small map of connection → expiry; reads drop expired entries. Two sockets updating one key
at the same moment may lose an entry until the next heartbeat (HEARTBEAT seconds): acceptable for presence.
The cache is per process in embedded mode (one process) and Redis in scaled mode (shared).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache

HEARTBEAT = 25  # seconds between a client's pings
TTL = 70  # an entry not refreshed for this long is gone
TYPING_TTL = 6
ONLINE, AWAY, OFFLINE = "online", "away", "offline"
CHOICES = (ONLINE, AWAY, OFFLINE)


def _agent_key(membership_id: int) -> str:
    return f"tl:presence:agent:{membership_id}"


def _choice_key(membership_id: int) -> str:
    return f"tl:presence:choice:{membership_id}"


def _viewers_key(conversation_id: int) -> str:
    return f"tl:presence:viewers:{conversation_id}"


def _contact_key(contact_id: int) -> str:
    return f"tl:presence:contact:{contact_id}"


def _live(entries: dict[str, Any] | None, now: float) -> dict[str, Any]:
    return {k: v for k, v in (entries or {}).items() if v.get("until", 0) > now}


def _update(key: str, conn: str, value: dict[str, Any] | None) -> dict[str, Any]:
    """Set (or with None remove) one connection's entry; returns the live entries."""
    now = time.time()
    entries = _live(cache.get(key), now)
    if value is None:
        entries.pop(conn, None)
    else:
        entries[conn] = {**entries.get(conn, {}), **value, "until": now + TTL}
    if entries:
        cache.set(key, entries, TTL)
    else:
        cache.delete(key)
    return entries


# ── agents ───────────────────────────────────────────────────────────────────────────────────────────
def agent_connected(membership_id: int, conn: str) -> str:
    """Record (or refresh) one socket of an agent; returns the agent's status now."""
    _update(_agent_key(membership_id), conn, {})
    return agent_status(membership_id)


def agent_disconnected(membership_id: int, conn: str) -> str:
    _update(_agent_key(membership_id), conn, None)
    return agent_status(membership_id)


def set_agent_choice(membership_id: int, status: str) -> str:
    """The status the agent picked (online or away; offline hides them while connected)."""
    if status not in CHOICES:
        raise ValueError(status)
    cache.set(_choice_key(membership_id), status, 30 * 24 * 3600)
    return agent_status(membership_id)


def agent_status(membership_id: int) -> str:
    return agent_statuses([membership_id])[membership_id]


def agent_statuses(membership_ids: list[int]) -> dict[int, str]:
    """online / away / offline for each agent: offline unless a socket of theirs is alive."""
    now = time.time()
    keys = {_agent_key(m): m for m in membership_ids} | {_choice_key(m): m for m in membership_ids}
    found = cache.get_many(list(keys))
    result: dict[int, str] = {}
    for membership_id in membership_ids:
        connected = bool(_live(found.get(_agent_key(membership_id)), now))
        choice = found.get(_choice_key(membership_id)) or ONLINE
        result[membership_id] = choice if connected else OFFLINE
    return result


def any_agent_online(membership_ids: list[int]) -> bool:
    return ONLINE in agent_statuses(membership_ids).values()


# ── viewers and typing ───────────────────────────────────────────────────────────────────────────────
def viewer_joined(conversation_id: int, conn: str, membership_id: int, name: str) -> list[dict[str, Any]]:
    entries = _update(_viewers_key(conversation_id), conn, {"membership_id": membership_id, "name": name})
    return _viewers(entries)


def viewer_typing(conversation_id: int, conn: str, membership_id: int, name: str, typing: bool) -> list[dict[str, Any]]:
    until = time.time() + TYPING_TTL if typing else 0
    entries = _update(_viewers_key(conversation_id), conn,
                      {"membership_id": membership_id, "name": name, "typing_until": until})
    return _viewers(entries)


def viewer_left(conversation_id: int, conn: str) -> list[dict[str, Any]]:
    return _viewers(_update(_viewers_key(conversation_id), conn, None))


def viewers(conversation_id: int) -> list[dict[str, Any]]:
    return _viewers(_live(cache.get(_viewers_key(conversation_id)), time.time()))


def _viewers(entries: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per agent (several tabs count once), typing if any of their tabs types."""
    now = time.time()
    by_agent: dict[int, dict[str, Any]] = {}
    for entry in entries.values():
        row = by_agent.setdefault(entry["membership_id"], {"membership_id": entry["membership_id"],
                                                           "name": entry.get("name", ""), "typing": False})
        row["typing"] = row["typing"] or entry.get("typing_until", 0) > now
    return sorted(by_agent.values(), key=lambda r: r["membership_id"])


# ── customers' live sessions ─────────────────────────────────────────────────────────────────────────
def contact_connected(contact_id: int, conn: str) -> None:
    _update(_contact_key(contact_id), conn, {})


def contact_disconnected(contact_id: int, conn: str) -> None:
    _update(_contact_key(contact_id), conn, None)


def contact_online(contact_id: int) -> bool:
    """Whether the customer has a live chat session (a widget tab with its socket open) right now."""
    return bool(_live(cache.get(_contact_key(contact_id)), time.time()))
