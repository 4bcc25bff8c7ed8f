from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from threadline.api.auth import actor
from threadline.api.errors import responses

router = Router(tags=["me"])


class MeOut(Schema):
    membership_id: int
    workspace_id: int
    email: str
    name: str
    role: str


@router.get("/me", response=responses(MeOut), summary="The agent the token acts as")
def me(request: HttpRequest) -> MeOut:
    agent = actor(request)
    return MeOut(membership_id=agent.pk, workspace_id=agent.workspace_id, email=agent.user.email,
                 name=agent.user.name, role=agent.role)
