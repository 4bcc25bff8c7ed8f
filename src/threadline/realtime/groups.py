"""Names of the channel-layer groups (the only place they are spelled)."""

from __future__ import annotations


def workspace_group(workspace_id: int) -> str:
    """Every agent socket of a workspace: domain events, presence changes."""
    return f"workspace.{workspace_id}"


def agent_group(membership_id: int) -> str:
    """One agent's sockets (all tabs): personal notifications."""
    return f"agent.{membership_id}"


def conversation_group(conversation_id: int) -> str:
    """Agents looking at one conversation: viewers and typing (collision detection)."""
    return f"conversation.{conversation_id}"


def contact_group(contact_id: int) -> str:
    """A customer's live sessions (chat widget tabs) on any channel that keeps a socket open."""
    return f"contact.{contact_id}"
