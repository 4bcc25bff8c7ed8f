"""Setting a conversation's custom field values (the workspace's definitions are in contacts.custom_fields).
Callers own the transaction."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from threadline.contacts.custom_fields import merged_values
from threadline.contacts.models import CustomField
from threadline.conversations.actions import record_event
from threadline.conversations.events import ConversationUpdated
from threadline.conversations.models import Conversation
from threadline.core.errors import Conflict, ValidationFailed
from threadline.events.bus import publish
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def do_set_custom_fields(actor: Membership | None, conversation: Conversation, values: dict[str, Any]) -> Conversation:
    """Change some custom field values (an empty value removes one); only defined keys are accepted, each
    checked by its type. A change is a timeline row and a `conversation.updated` with `custom_fields`."""
    if actor is not None:
        require(actor, Permission.ASSIGN)
    if conversation.merged_into_id:
        raise Conflict(_("This conversation was merged into another one."), code="conversation_merged")
    if not isinstance(values, dict):
        raise ValidationFailed(_("custom_fields must be an object."), code="invalid_custom_field",
                               field="custom_fields")
    old = dict(conversation.custom_fields or {})
    new = merged_values(conversation.workspace_id, CustomField.AppliesTo.CONVERSATION, old, values,
                        defined_only=True)
    if new == old:
        return conversation
    conversation.custom_fields = new
    conversation.save(update_fields=["custom_fields", "updated_at"])
    changed = {k: new.get(k) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}
    record_event(conversation, "custom_fields_changed", actor=actor, old={k: old.get(k) for k in changed},
                 new=changed)
    publish(ConversationUpdated(workspace_id=conversation.workspace_id, conversation_id=conversation.pk,
                                changes={"custom_fields": changed}, actor_id=actor.pk if actor else None))
    return conversation
