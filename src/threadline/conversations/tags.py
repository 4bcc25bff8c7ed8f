"""Administering a workspace's tags: rename, merge into another, delete. Callers own the transaction.

Conversations keep their tags through a rename; a merge moves every conversation of one tag to the other;
a delete takes the tag off every conversation. These are bulk changes of a label, recorded in the audit log
(not as a timeline row on each conversation). Automations name tags as text: rules that test or set an old
name keep that name.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.conversations.models import Tag
from threadline.core.errors import ValidationFailed

MAX_NAME = 100


def do_merge_tags(source: Tag, target: Tag) -> Tag:
    """Every conversation tagged `source` gets `target` instead; `source` is deleted."""
    if source.pk == target.pk or source.workspace_id != target.workspace_id:
        raise ValidationFailed(_("Choose another tag of this workspace."), code="invalid_tag", field="target")
    through = Tag.conversations.through
    conversation_ids = list(through.objects.filter(tag=source).values_list("conversation_id", flat=True))
    already = set(through.objects.filter(tag=target, conversation_id__in=conversation_ids)
                  .values_list("conversation_id", flat=True))
    through.objects.bulk_create([through(tag=target, conversation_id=c) for c in conversation_ids if c not in already])
    record_change("tag.merged", target, {"source": source.name, "target": target.name,
                                         "conversations": len(conversation_ids)})
    source.delete()
    return target


def do_rename_tag(tag: Tag, name: str) -> Tag:
    """Rename; a name another tag has already merges this one into it."""
    name = (name or "").strip()[:MAX_NAME]
    if not name:
        raise ValidationFailed(_("A tag needs a name."), code="invalid_name", field="name")
    if name == tag.name:
        return tag
    existing = Tag.objects.filter(workspace_id=tag.workspace_id, name=name).first()
    if existing is not None:
        return do_merge_tags(tag, existing)
    old, tag.name = tag.name, name
    tag.save(update_fields=["name", "updated_at"])
    record_change("tag.renamed", tag, {"old": old, "new": name})
    return tag


def do_delete_tag(tag: Tag) -> None:
    record_change("tag.deleted", tag, {"name": tag.name, "conversations": tag.conversations.count()})
    tag.delete()
