"""Who and what a panel app is asked about: the conversation's contact with every identity Threadline knows
(verified or not: the app decides what to trust), the conversation and the agent looking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from threadline.conversations.models import Conversation
from threadline.tenancy.models import Membership


@dataclass(frozen=True)
class PanelContext:
    workspace_id: int
    conversation_id: int
    subject: str
    contact_id: int
    contact_name: str
    identities: tuple[tuple[str, str, bool], ...]  # (kind, address, verified)
    agent_email: str

    def addresses(self, kind: str) -> list[str]:
        """The contact's addresses of one kind, verified ones first."""
        rows = sorted((i for i in self.identities if i[0] == kind), key=lambda i: not i[2])
        return [address for _kind, address, _verified in rows]

    def document(self) -> dict[str, Any]:
        return {"workspace_id": self.workspace_id,
                "conversation": {"id": self.conversation_id, "subject": self.subject},
                "contact": {"id": self.contact_id, "name": self.contact_name, "identities": [
                    {"kind": kind, "address": address, "verified": verified}
                    for kind, address, verified in self.identities]},
                "agent": {"email": self.agent_email}}


def context_for(agent: Membership, conversation: Conversation) -> PanelContext:
    contact = conversation.contact
    identities = tuple(contact.identities.order_by("id").values_list("kind", "address", "verified"))
    return PanelContext(workspace_id=conversation.workspace_id, conversation_id=conversation.pk,
                        subject=conversation.subject or "", contact_id=contact.pk,
                        contact_name=contact.name or "", identities=identities, agent_email=agent.user.email)
