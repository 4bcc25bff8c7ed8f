"""Who is reading a community page: a signed-in member (the session remembers one member per workspace, set by
a one-time email link), an agent of the forum's workspace (their agent session, posting with the agent badge),
or nobody (reading is public)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from threadline.community.models import CommunityMember, Forum
from threadline.realtime.auth import membership_for
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, has_permission

SESSION_KEY = "community_members"


@dataclass(frozen=True)
class Viewer:
    member: CommunityMember | None
    agent: Membership | None

    @property
    def signed_in(self) -> bool:
        return self.member is not None or self.agent is not None

    @property
    def moderator(self) -> bool:
        return self.agent is not None and has_permission(self.agent, Permission.COMMUNITY_MODERATE)


def _agent(request: HttpRequest, forum: Forum) -> Membership | None:
    agent = membership_for(getattr(request, "user", None), request.session)
    if agent is None or agent.workspace_id != forum.workspace_id:
        return None
    return agent


def viewer_for(request: HttpRequest, forum: Forum) -> Viewer:
    agent = _agent(request, forum)
    if agent is not None:
        member = CommunityMember.objects.filter(workspace_id=forum.workspace_id, membership=agent).first()
        return Viewer(member, agent)
    member_id = (request.session.get(SESSION_KEY) or {}).get(str(forum.workspace_id))
    member = None
    if member_id:
        member = CommunityMember.objects.filter(pk=member_id, workspace_id=forum.workspace_id).first()
    return Viewer(member, None)


def remember(request: HttpRequest, member: CommunityMember) -> None:
    request.session.cycle_key()  # a new session id at sign-in (no fixation)
    members = dict(request.session.get(SESSION_KEY) or {})
    members[str(member.workspace_id)] = member.pk
    request.session[SESSION_KEY] = members


def forget(request: HttpRequest, forum: Forum) -> None:
    members = dict(request.session.get(SESSION_KEY) or {})
    members.pop(str(forum.workspace_id), None)
    request.session[SESSION_KEY] = members
