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


def user_group(user_id: int) -> str:
    """Every agent socket of one person, in every workspace: closed when their password changes."""
    return f"user.{user_id}"


def session_group(session_key: str) -> str:
    """The agent sockets opened with one sign-in session (a digest: session keys stay out of the layer)."""
    import hashlib

    return f"session.{hashlib.sha256(session_key.encode()).hexdigest()[:32]}"
