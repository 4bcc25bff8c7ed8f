"""/api/v1/jira: the workspace's Jira site (admins) and the issues linked to a conversation (agents)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.conversations.queries import access_conversation
from threadline.core.errors import NotFound
from threadline.core.schemas import Id
from threadline.jira.actions import do_save_connection, do_unlink_issue
from threadline.jira.linking import file_issue, link_existing
from threadline.jira.models import IssueLink, JiraConnection
from threadline.jira.queries import (
    access_connection_settings,
    access_link,
    links_of,
)
from threadline.jira.schemas import (
    JiraConnectionIn,
    JiraConnectionOut,
    JiraConnectionSavedOut,
    JiraCreateIssueIn,
    JiraIssueLinkOut,
    JiraLinkIssueIn,
)
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["jira"])


def _connection_out(connection: JiraConnection, secret: str | None = None) -> dict[str, object]:
    return {"base_url": connection.base_url, "email": connection.email, "project_key": connection.project_key,
            "issue_type": connection.issue_type, "is_active": connection.is_active,
            "webhook_path": f"/hooks/jira/{connection.pk}/", "webhook_secret": secret}


def _link_out(link: IssueLink, base_url: str) -> dict[str, object]:
    return {"id": link.pk, "issue_key": link.issue_key, "summary": link.summary, "status": link.status,
            "status_category": link.status_category, "url": f"{base_url.rstrip('/')}/browse/{link.issue_key}",
            "created_issue": link.created_issue, "created_at": link.created_at}


@router.get("/connection", response=responses(JiraConnectionOut), summary="The workspace's Jira site (admins)")
def connection_detail(request: HttpRequest) -> dict[str, object]:
    connection = access_connection_settings(actor(request))
    if connection is None:
        raise NotFound(_("Jira is not connected to this workspace."), code="jira_not_connected")
    return _connection_out(connection)


@router.put("/connection", response=responses(JiraConnectionSavedOut), summary="Connect the workspace's Jira site (admins)")
def save_connection(request: HttpRequest, payload: JiraConnectionIn) -> dict[str, object]:
    """The webhook secret is answered once, when the connection is first made."""
    with transaction.atomic():
        connection, secret = do_save_connection(actor(request), **payload.model_dump())
    return _connection_out(connection, secret)


@router.get("/conversations/{conversation_id}/issues", response=responses(list[JiraIssueLinkOut]),
            summary="The Jira issues linked to a conversation")
def conversation_issues(request: HttpRequest, conversation_id: Id) -> list[dict[str, object]]:
    agent = actor(request)
    require(agent, Permission.VIEW)
    conversation = access_conversation(agent, conversation_id, summary=False)
    connection = JiraConnection.objects.filter(workspace_id=conversation.workspace_id).first()
    base_url = connection.base_url if connection else ""
    return [_link_out(link, base_url) for link in links_of(conversation)]


@router.post("/conversations/{conversation_id}/issues", response=responses(JiraIssueLinkOut, 201),
             summary="File a Jira issue from a conversation")
def create_issue(request: HttpRequest, conversation_id: Id, payload: JiraCreateIssueIn) -> Status[dict[str, object]]:
    link, connection = file_issue(actor(request), conversation_id, payload.summary, payload.description)
    return Status(201, _link_out(link, connection.base_url))


@router.post("/conversations/{conversation_id}/links", response=responses(JiraIssueLinkOut, 201),
             summary="Link an existing Jira issue to a conversation")
def link_issue(request: HttpRequest, conversation_id: Id, payload: JiraLinkIssueIn) -> Status[dict[str, object]]:
    link, connection = link_existing(actor(request), conversation_id, payload.issue_key)
    return Status(201, _link_out(link, connection.base_url))


@router.delete("/conversations/{conversation_id}/issues/{link_id}", response=responses(None, 204),
               summary="Unlink a Jira issue from a conversation (the issue stays in Jira)")
def unlink_issue(request: HttpRequest, conversation_id: Id, link_id: Id) -> Status[None]:
    agent = actor(request)
    require(agent, Permission.ASSIGN)
    with transaction.atomic():
        do_unlink_issue(agent, access_link(access_conversation(agent, conversation_id, summary=False), link_id))
    return Status(204, None)
