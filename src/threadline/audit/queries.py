"""Reads of the audit log: admins only, one workspace at a time, filtered, newest first."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from threadline.audit.models import ActorKind, AuditEntry
from threadline.core.errors import ValidationFailed
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

EXPORT_LIMIT = 100_000
COLUMNS = ("id", "created_at", "action", "actor_kind", "actor_id", "actor_label", "target_type", "target_id",
           "ip", "user_agent", "details")


def list_entries(actor: Membership, *, action: str | None = None, actor_filter: str | None = None,
                 since: dt.datetime | None = None, until: dt.datetime | None = None) -> QuerySet[AuditEntry]:
    """The workspace's entries. `action` ending in `*` matches a prefix (`token.*`); `actor_filter` is an
    agent id or `system`; `since` is inclusive, `until` exclusive."""
    require(actor, Permission.AUDIT)
    entries = AuditEntry.objects.filter(workspace_id=actor.workspace_id).select_related("actor_membership")
    if action:
        entries = (entries.filter(action__startswith=action[:-1]) if action.endswith("*")
                   else entries.filter(action=action))
    if actor_filter:
        if actor_filter == "system":
            entries = entries.filter(actor_kind=ActorKind.SYSTEM)
        elif actor_filter.isdigit() and len(actor_filter) < 19:
            entries = entries.filter(actor_membership_id=int(actor_filter))
        else:
            raise ValidationFailed(_("The actor is an agent id or “system”."), code="invalid_actor",
                                   field="actor")
    if since:
        entries = entries.filter(created_at__gte=since)
    if until:
        entries = entries.filter(created_at__lt=until)
    return entries


def as_row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk, "created_at": entry.created_at, "action": entry.action, "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_membership_id, "actor_label": entry.actor_label, "target_type": entry.target_type,
        "target_id": entry.target_id, "ip": entry.ip, "user_agent": entry.user_agent, "details": entry.details,
    }


def export_lines(entries: QuerySet[AuditEntry], fmt: str) -> Iterator[str]:
    """The entries as CSV (a header, then one line each) or as JSON Lines, newest first, streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if fmt == "csv":
        writer.writerow(COLUMNS)
    for entry in entries.order_by("-pk")[:EXPORT_LIMIT].iterator(chunk_size=1000):
        row = as_row(entry)
        row["created_at"] = entry.created_at.isoformat()
        if fmt == "csv":
            writer.writerow([json.dumps(row[c], ensure_ascii=False) if c == "details" else row[c] or ""
                             for c in COLUMNS])
        else:
            buffer.write(json.dumps(row, ensure_ascii=False) + "\n")
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def entries_about(workspace_id: int, target_type: str, target_ids: list[object]) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(workspace_id=workspace_id, target_type=target_type,
                                     target_id__in=[str(t) for t in target_ids]).order_by("pk")


ACTION_LABELS = {
    "signin.succeeded": _lazy("Signed in"),
    "signin.failed": _lazy("Sign-in failed"),
    "2fa.enabled": _lazy("Two-factor sign-in turned on"),
    "2fa.disabled": _lazy("Two-factor sign-in turned off"),
    "token.created": _lazy("API token created"),
    "token.used": _lazy("API token used (first use of the day)"),
    "token.revoked": _lazy("API token revoked"),
    "agent.added": _lazy("Agent added"),
    "agent.updated": _lazy("Agent changed (role, seat or name)"),
    "agent.invited": _lazy("Person invited"),
    "agent.invitation_resent": _lazy("Invitation re-sent"),
    "agent.invitation_revoked": _lazy("Invitation revoked"),
    "agent.joined": _lazy("Invitation accepted"),
    "agent.teams_changed": _lazy("Agent's teams changed"),
    "agent.routing_updated": _lazy("Agent's skills or capacity changed"),
    "password.changed": _lazy("Password changed"),
    "password.reset_requested": _lazy("Password reset link issued"),
    "password.reset": _lazy("Password reset through a link"),
    "password.reset_forced": _lazy("Password reset forced by an admin"),
    "2fa.reset": _lazy("Two-factor sign-in reset"),
    "role.created": _lazy("Role created"),
    "role.updated": _lazy("Role changed"),
    "role.deleted": _lazy("Role deleted"),
    "channel.created": _lazy("Channel created"),
    "channel.updated": _lazy("Channel changed"),
    "channel.secret_changed": _lazy("Channel secret changed"),
    "channel.deleted": _lazy("Channel deleted"),
    "webhook.created": _lazy("Webhook created"),
    "webhook.updated": _lazy("Webhook changed"),
    "webhook.secret_changed": _lazy("Webhook secret changed"),
    "webhook.deleted": _lazy("Webhook deleted"),
    "webhook.redelivered": _lazy("Webhook delivery sent again"),
    "workspace.created": _lazy("Workspace created"),
    "brand.created": _lazy("Brand created"),
    "brand.updated": _lazy("Brand changed"),
    "brand.deleted": _lazy("Brand deleted"),
    "template.created": _lazy("Reply template created"),
    "template.updated": _lazy("Reply template changed"),
    "template.deleted": _lazy("Reply template deleted"),
    "macro.created": _lazy("Macro created"),
    "macro.updated": _lazy("Macro changed"),
    "macro.deleted": _lazy("Macro deleted"),
    "contact.merged": _lazy("Customers merged"),
    "contact.unmerged": _lazy("Customers unmerged"),
    "conversation.merged": _lazy("Conversations merged"),
    "contact.exported": _lazy("Customer data exported"),
    "erasure.requested": _lazy("Erasure requested"),
    "erasure.confirmed": _lazy("Erasure confirmed and scheduled"),
    "erasure.cancelled": _lazy("Erasure cancelled"),
    "contact.erased": _lazy("Customer erased"),
    "workspace.settings_changed": _lazy("Workspace settings changed"),
    "retention.changed": _lazy("Retention policy changed"),
    "retention.applied": _lazy("Retention policy applied"),
    "message.redacted": _lazy("Message redacted"),
    "help_center.created": _lazy("Help center opened"),
    "help_center.updated": _lazy("Help center changed"),
    "help_center.deleted": _lazy("Help center closed"),
    "kb_category.created": _lazy("Knowledge-base category created"),
    "kb_category.updated": _lazy("Knowledge-base category changed"),
    "kb_category.deleted": _lazy("Knowledge-base category deleted"),
    "kb_section.created": _lazy("Knowledge-base section created"),
    "kb_section.updated": _lazy("Knowledge-base section changed"),
    "kb_section.deleted": _lazy("Knowledge-base section deleted"),
    "article.created": _lazy("Article created"),
    "article.updated": _lazy("Article moved, hidden or labelled"),
    "article.deleted": _lazy("Article deleted"),
    "article.related": _lazy("Articles related"),
    "article.unrelated": _lazy("Articles no longer related"),
    "article.attached": _lazy("File attached to an article"),
    "article.detached": _lazy("File removed from an article"),
    "article_translation.created": _lazy("Article translation written"),
    "article_translation.updated": _lazy("Article translation changed"),
    "article_translation.submitted": _lazy("Article submitted for review"),
    "article_translation.published": _lazy("Article published"),
    "article_translation.unpublished": _lazy("Article unpublished"),
    "article_translation.archived": _lazy("Article archived"),
    "article_version.restored": _lazy("Article version restored"),
}
