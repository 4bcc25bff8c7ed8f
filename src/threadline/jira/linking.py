"""Filing or linking an issue from a conversation, the order both the API and the workspace screen follow:
check permission, call Jira outside any transaction, write the link, then ask Jira for its link back."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from threadline.conversations.models import Conversation
from threadline.conversations.queries import access_conversation
from threadline.core.errors import ThreadlineError
from threadline.jira.actions import check_issue_key, check_summary, do_link_issue
from threadline.jira.client import Issue, JiraClient
from threadline.jira.models import IssueLink, JiraConnection
from threadline.jira.queries import access_active_connection
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

logger = logging.getLogger(__name__)
Fetch = Callable[[JiraClient, JiraConnection, Conversation], Issue]


def conversation_url(conversation: Conversation) -> str:
    return f"{settings.PUBLIC_URL}/app/c/{conversation.pk}/"


def _link(agent: Membership, conversation_id: int, fetch: Fetch, *, created: bool) -> tuple[IssueLink, JiraConnection]:
    require(agent, Permission.ASSIGN)
    conversation = access_conversation(agent, conversation_id, summary=False)
    connection = access_active_connection(agent)
    client = JiraClient(connection)
    issue = fetch(client, connection, conversation)
    with transaction.atomic():
        link = do_link_issue(agent, conversation, issue, created=created)
    try:
        client.add_remote_link(issue.key, global_id=f"threadline:conversation:{conversation.pk}",
                               url=conversation_url(conversation),
                               title=f"Threadline #{conversation.pk}: {conversation.subject or ''}".strip())
    except ThreadlineError:  # the link stands without Jira's link back; the log says why
        logger.warning("Jira remote link for %s on conversation %s failed", issue.key, conversation.pk, exc_info=True)
    return link, connection


def file_issue(agent: Membership, conversation_id: int, summary: str, description: str = "") -> tuple[IssueLink, JiraConnection]:
    """A new issue in the connection's project, its description ending with the conversation's address."""
    def fetch(client: JiraClient, connection: JiraConnection, conversation: Conversation) -> Issue:
        title, text = check_summary(summary, description)
        text = f"{text}\n\n{conversation_url(conversation)}".strip()
        return client.create_issue(project_key=connection.project_key, issue_type=connection.issue_type,
                                   summary=title, description=text)

    return _link(agent, conversation_id, fetch, created=True)


def link_existing(agent: Membership, conversation_id: int, key: str) -> tuple[IssueLink, JiraConnection]:
    return _link(agent, conversation_id, lambda client, _c, _v: client.get_issue(check_issue_key(key)),
                 created=False)
