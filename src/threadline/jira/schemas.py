"""Request and response shapes of /api/v1/jira."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import Input


class JiraConnectionOut(Schema):
    base_url: str
    email: str
    project_key: str
    issue_type: str
    is_active: bool
    webhook_path: str = Field(description="Where Jira's webhook posts (prefix the installation's address)")


class JiraConnectionSavedOut(JiraConnectionOut):
    webhook_secret: str | None = Field(description="Paste into Jira's webhook Secret; shown once, on creation")


class JiraConnectionIn(Input):
    base_url: str = Field(min_length=1, max_length=300)
    email: str = Field(min_length=3, max_length=254)
    project_key: str = Field(min_length=1, max_length=32)
    issue_type: str = Field("Task", max_length=64)
    api_token: str | None = Field(None, max_length=500, description="Kept when not given")
    is_active: bool = True


class JiraIssueLinkOut(Schema):
    id: int
    issue_key: str
    summary: str
    status: str
    status_category: str
    url: str
    created_issue: bool
    created_at: dt.datetime


class JiraCreateIssueIn(Input):
    summary: str = Field(min_length=1, max_length=255)
    description: str = Field("", max_length=20000)


class JiraLinkIssueIn(Input):
    issue_key: str = Field(min_length=3, max_length=64)
