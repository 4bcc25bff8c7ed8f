"""Durable subscriber: a knowledge change makes the workspace's cached help center pages stale at once (a new
content version, see pagecache.py). Idempotent: replaying an event only costs a render."""

from __future__ import annotations

from typing import Any

from threadline.helpcenter import pagecache


def on_event(event_type: str, payload: dict[str, Any], outbox_id: int) -> None:
    pagecache.bump(int(payload["workspace_id"]))
