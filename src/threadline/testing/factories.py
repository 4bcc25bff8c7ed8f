"""Small builders for tests: a workspace with an admin, a token, a channel. They go through actions."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from threadline.channels.actions import do_create_channel
from threadline.channels.api.adapter import sign
from threadline.channels.models import Channel
from threadline.tenancy.actions import do_add_agent, do_create_api_token, do_create_workspace
from threadline.tenancy.models import CustomRole, Membership, Role
from threadline.tenancy.roles import do_create_role

PASSWORD = "correct-horse-battery-staple"


def make_workspace(name: str = "Acme Support", region: str = "IL") -> Membership:
    """A workspace and its admin membership."""
    with transaction.atomic():
        workspace = do_create_workspace(name, default_region=region)
        return do_add_agent(workspace, f"admin@{workspace.slug}.example", role=Role.ADMIN, name="Ada Admin",
                            password=PASSWORD)


def make_agent(admin: Membership, email: str, role: str = Role.AGENT) -> Membership:
    with transaction.atomic():
        return do_add_agent(admin.workspace, email, role=role, name=email.split("@")[0].title())


def make_token(membership: Membership) -> str:
    with transaction.atomic():
        return do_create_api_token(membership)[1]


def make_api_channel(admin: Membership, webhook_url: str = "", secret: str = "s" * 32) -> Channel:
    with transaction.atomic():
        return do_create_channel(admin, "api", "Shop backend", {"secret": secret, "webhook_url": webhook_url})


def signed_body(channel: Channel, document: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(document, ensure_ascii=False).encode()
    return body, {"HTTP_X_THREADLINE_SIGNATURE": sign(channel.config["secret"], body)}


def make_role_member(admin: Membership, email: str, permissions: list[str], *, role_name: str = "") -> Membership:
    """A member of `admin`'s workspace holding a custom role that grants exactly `permissions`."""
    with transaction.atomic():
        role = CustomRole.objects.filter(workspace_id=admin.workspace_id, name=role_name).first() if role_name else None
        if role is None:
            role = do_create_role(None, admin.workspace, name=role_name or f"Role of {email}", permissions=permissions)
        return do_add_agent(admin.workspace, email, custom_role=role, name=email.split("@")[0].title())
