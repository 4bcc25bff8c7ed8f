"""Reads for the Jira link: the workspace's connection (admins) and a conversation's linked issues (agents)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.conversations.models import Conversation
from threadline.core.errors import NotFound
from threadline.jira.models import IssueLink, JiraConnection
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def connection_of(workspace_id: int) -> JiraConnection | None:
    """The workspace's active connection, or None (the conversation panel then offers nothing)."""
    return JiraConnection.objects.filter(workspace_id=workspace_id, is_active=True).first()


def access_connection_settings(actor: Membership) -> JiraConnection | None:
    """The connection for the admin screen (active or not), or None when none is set up."""
    require(actor, Permission.ADMIN_WORKSPACE)
    return JiraConnection.objects.filter(workspace_id=actor.workspace_id).first()


def access_active_connection(actor: Membership) -> JiraConnection:
    connection = connection_of(actor.workspace_id)
    if connection is None:
        raise NotFound(_("Jira is not connected to this workspace."), code="jira_not_connected")
    return connection


def links_of(conversation: Conversation) -> QuerySet[IssueLink]:
    """The issues linked to a conversation the caller already reached through `access_conversation`."""
    return IssueLink.objects.filter(workspace_id=conversation.workspace_id, conversation=conversation)


def access_link(conversation: Conversation, link_id: int) -> IssueLink:
    link = links_of(conversation).filter(pk=link_id).first()
    if link is None:
        raise NotFound(_("No such linked issue."), code="jira_link_not_found")
    return link
