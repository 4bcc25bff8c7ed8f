from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.tenancy.permissions import permissions_of

router = Router(tags=["me"])


class MeOut(Schema):
    membership_id: int
    workspace_id: int
    email: str
    name: str
    role: str = Field(description="admin, agent, light_agent, or custom (see role_id)")
    role_id: int | None = Field(description="The custom role's id when role is custom")
    permissions: list[str] = Field(description="The permission codes the role grants (see GET /roles)")


@router.get("/me", response=responses(MeOut), summary="The agent the token acts as")
def me(request: HttpRequest) -> MeOut:
    agent = actor(request)
    return MeOut(membership_id=agent.pk, workspace_id=agent.workspace_id, email=agent.user.email,
                 name=agent.user.name, role=agent.role, role_id=agent.custom_role_id,
                 permissions=sorted(permissions_of(agent)))
