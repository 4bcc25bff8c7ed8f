"""Which agent (Membership) a signed-in session acts as; shared by the workspace pages and the agent socket."""

from __future__ import annotations

from typing import Any

from threadline.sso.queries import usable_seats
from threadline.tenancy.models import Membership
from threadline.tenancy.signin import passed_second_factor, second_factor_passed

SESSION_WORKSPACE = "workspace_id"


def membership_for(user: Any, session: Any) -> Membership | None:
    """The active membership of `user` in the session's workspace, else in their default workspace (the last
    one they switched to, or the demo for the first admin of `serve --demo`), else in their first workspace.

    With a session, None unless that session passed the account's second factor (see tenancy.signin), and
    only among the seats the session may open (single sign-on, see sso.queries.usable_seats).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if session is not None and not second_factor_passed(user, session):
        return None
    memberships = (Membership.objects.filter(user_id=user.pk, is_active=True)
                   .select_related("user", "workspace", "custom_role").order_by("id"))
    memberships = usable_seats(user, session, memberships, second_factor=passed_second_factor(session))
    wanted = session.get(SESSION_WORKSPACE) if session is not None else None
    for workspace_id in (wanted, user.default_workspace_id):
        if workspace_id:
            chosen = memberships.filter(workspace_id=workspace_id).first()
            if chosen is not None:
                return chosen
    return memberships.first()
