"""A workspace's Jira site (Jira Cloud REST API v3, an API token) and the issues linked to its conversations."""

from __future__ import annotations

from django.db import models

from threadline.core.models import WorkspaceScoped


class JiraConnection(WorkspaceScoped):
    """One Jira site per workspace. `secrets_encrypted` holds `{"api_token", "webhook_secret"}` (core.crypto)."""

    base_url = models.URLField(max_length=300)  # https://<site>.atlassian.net
    email = models.EmailField(max_length=254)  # the account the API token belongs to
    secrets_encrypted = models.TextField()
    project_key = models.CharField(max_length=32)  # where "Create issue" files new issues
    issue_type = models.CharField(max_length=64, default="Task")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="jira_one_connection_per_workspace")]

    def __str__(self) -> str:
        return self.base_url


class IssueLink(WorkspaceScoped):
    """A Jira issue linked to a conversation, with the status last seen (on linking or from Jira's webhook)."""

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE,
                                     related_name="jira_links")
    issue_id = models.CharField(max_length=32)
    issue_key = models.CharField(max_length=64)
    summary = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=128, blank=True)
    status_category = models.CharField(max_length=32, blank=True)  # new / indeterminate / done
    created_by = models.ForeignKey("tenancy.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_issue = models.BooleanField(default=False)  # filed from Threadline, not an existing issue linked

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "issue_id"], name="jira_link_once")]
        indexes = [models.Index(fields=["workspace", "issue_id"], name="jira_link_by_issue")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.issue_key
