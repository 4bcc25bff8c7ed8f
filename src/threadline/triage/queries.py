"""Reads of the triage domain."""

from __future__ import annotations

from threadline.triage.policy import Policy


def policy_for(workspace_id: int) -> Policy:
    """The workspace's triage policy (the defaults until it saves its own)."""
    return Policy()
