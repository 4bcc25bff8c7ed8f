"""Writes of the Jira link. Calls to Jira (`client.py`) happen before these, outside the caller's transaction:
a write transaction on SQLite holds the one writer while it lasts, so none waits on a remote server."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from threadline.audit.actions import record
from threadline.conversations.actions import do_add_system_note
from threadline.conversations.models import Conversation
from threadline.core import crypto, http
from threadline.core.errors import ValidationFailed
from threadline.jira.client import Issue, issue_from
from threadline.jira.models import IssueLink, JiraConnection
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,31}-[1-9][0-9]{0,9}$")
DONE = "done"


def check_connection(base_url: Any, email: Any, project_key: Any, issue_type: Any) -> dict[str, str]:
    base_url, email = str(base_url or "").strip().rstrip("/"), str(email or "").strip()
    project_key, issue_type = str(project_key or "").strip().upper(), str(issue_type or "").strip() or "Task"
    if not base_url.startswith(("https://", "http://")) or len(base_url) > 300:
        raise ValidationFailed(_("The Jira address must be an https URL such as https://acme.atlassian.net."),
                               field="base_url")
    http.refuse_private_url(base_url, field="base_url")
    if "@" not in email or len(email) > 254:
        raise ValidationFailed(_("Give the email of the Jira account the API token belongs to."), field="email")
    if not PROJECT_KEY.match(project_key):
        raise ValidationFailed(_("A Jira project key is capital letters and digits, such as SUP."),
                               field="project_key")
    if len(issue_type) > 64:
        raise ValidationFailed(_("The issue type is too long."), field="issue_type")
    return {"base_url": base_url, "email": email, "project_key": project_key, "issue_type": issue_type}


def check_summary(summary: Any, description: Any) -> tuple[str, str]:
    summary, description = str(summary or "").strip(), str(description or "")
    if not summary or len(summary) > 255 or "\n" in summary:
        raise ValidationFailed(_("An issue needs a one-line summary of at most 255 characters."), field="summary")
    if len(description) > 20000:
        raise ValidationFailed(_("The description is too long."), field="description")
    return summary, description


def check_issue_key(key: Any) -> str:
    key = str(key or "").strip().upper()
    if not ISSUE_KEY.match(key):
        raise ValidationFailed(_("An issue key looks like SUP-123."), field="issue_key")
    return key


def do_save_connection(actor: Membership, *, base_url: Any, email: Any, project_key: Any, issue_type: Any,
                       api_token: Any = None, is_active: bool = True) -> tuple[JiraConnection, str | None]:
    """Connect (or reconnect) the workspace's Jira site. Answers the webhook secret when it is new: shown once,
    pasted into Jira's webhook; a new API token replaces the stored one, none keeps it."""
    require(actor, Permission.ADMIN_WORKSPACE)
    fields = check_connection(base_url, email, project_key, issue_type)
    connection = JiraConnection.objects.filter(workspace_id=actor.workspace_id).first()
    secrets = crypto.decrypt_json(connection.secrets_encrypted) if connection else {}
    token = str(api_token or "").strip()
    if not token and "api_token" not in secrets:
        raise ValidationFailed(_("Give the API token of the Jira account."), field="api_token")
    new_secret = None
    if "webhook_secret" not in secrets:
        new_secret = secrets["webhook_secret"] = crypto.new_secret()
    if token:
        secrets["api_token"] = token
    connection = connection or JiraConnection(workspace_id=actor.workspace_id)
    for name, value in fields.items():
        setattr(connection, name, value)
    connection.secrets_encrypted, connection.is_active = crypto.encrypt_json(secrets), bool(is_active)
    connection.save()
    record("jira.connected", workspace_id=actor.workspace_id, target_type="jira_connection",
           target_id=connection.pk, details={**fields, "api_token_changed": bool(token)}, actor=actor)
    return connection, new_secret


def do_link_issue(actor: Membership, conversation: Conversation, issue: Issue, *, created: bool) -> IssueLink:
    """Link `issue` (just read from, or filed in, Jira) to the conversation, with a note on its timeline."""
    require(actor, Permission.ASSIGN)
    link, new = IssueLink.objects.get_or_create(
        workspace_id=conversation.workspace_id, conversation=conversation, issue_id=issue.id,
        defaults={"issue_key": issue.key, "summary": issue.summary, "status": issue.status,
                  "status_category": issue.status_category, "created_by": actor, "created_issue": created})
    if new:
        text = (_("Jira issue %(key)s filed: %(summary)s") if created
                else _("Jira issue %(key)s linked: %(summary)s")) % {"key": issue.key, "summary": issue.summary}
        do_add_system_note(conversation, text)
        record("jira.issue_linked", workspace_id=conversation.workspace_id, target_type="conversation",
               target_id=conversation.pk, details={"issue": issue.key, "created": created}, actor=actor)
    return link


def do_unlink_issue(actor: Membership, link: IssueLink) -> None:
    require(actor, Permission.ASSIGN)
    record("jira.issue_unlinked", workspace_id=link.workspace_id, target_type="conversation",
           target_id=link.conversation_id, details={"issue": link.issue_key}, actor=actor)
    link.delete()


def do_apply_issue_event(connection: JiraConnection, document: dict[str, Any]) -> int:
    """Jira's `jira:issue_updated` / `jira:issue_deleted` webhook, verified: the links to that issue take its
    new key, summary and status, and a status change posts a note on each linked conversation. Answers how
    many conversations were told."""
    event = str(document.get("webhookEvent") or "")
    if event not in ("jira:issue_updated", "jira:issue_deleted") or not isinstance(document.get("issue"), dict):
        return 0
    issue = issue_from(document["issue"], connection.base_url)
    links = list(IssueLink.objects.filter(workspace_id=connection.workspace_id, issue_id=issue.id)
                 .select_related("conversation"))
    told = 0
    for link in links:
        if event == "jira:issue_deleted":
            do_add_system_note(link.conversation, _("Jira issue %(key)s was deleted.") % {"key": link.issue_key})
            link.delete()
            told += 1
            continue
        before = link.status
        link.issue_key, link.summary = issue.key or link.issue_key, issue.summary or link.summary
        link.status, link.status_category = issue.status or link.status, issue.status_category or link.status_category
        link.save(update_fields=["issue_key", "summary", "status", "status_category", "updated_at"])
        if link.status != before:
            do_add_system_note(link.conversation, _("Jira issue %(key)s moved from %(before)s to %(after)s.") % {
                "key": link.issue_key, "before": before or "—", "after": link.status})
            told += 1
    return told
