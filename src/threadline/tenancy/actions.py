"""Writes for workspaces, agents, teams and API tokens. Callers own the transaction."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.text import slugify
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.core import crypto
from threadline.core.errors import Conflict, ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.tenancy.events import AgentCreated, AgentUpdated, TeamChanged
from threadline.tenancy.models import (
    BUILT_IN_ROLES,
    CUSTOM_ROLE,
    ApiToken,
    Brand,
    CustomRole,
    Membership,
    Role,
    SetupLink,
    Team,
    User,
    Workspace,
)

TOKEN_PREFIX = "tl_"


def do_create_workspace(name: str, *, slug: str | None = None, default_region: str = "US") -> Workspace:
    base = slugify(slug or name) or "workspace"
    candidate, n = base, 1
    while Workspace.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    workspace = Workspace.objects.create(name=name, slug=candidate, default_region=default_region.upper())
    Brand.objects.create(workspace=workspace, name=name, is_default=True)
    return workspace


def check_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationFailed(_("Enter a valid email address."), field="email") from exc
    return email


def check_role(role: str) -> str:
    """A built-in role's name (a custom role is given as the row itself)."""
    if role not in BUILT_IN_ROLES:
        raise ValidationFailed(_("Unknown role %(role)s.") % {"role": role}, field="role")
    return role


def do_set_default_workspace(user: User, workspace: Workspace) -> None:
    """The workspace `user`'s sessions open in until they switch (see realtime.auth.membership_for)."""
    if user.default_workspace_id != workspace.pk:
        user.default_workspace = workspace
        user.save(update_fields=["default_workspace"])


def do_add_agent(
    workspace: Workspace,
    email: str,
    *,
    role: str = Role.AGENT,
    custom_role: CustomRole | None = None,
    name: str = "",
    password: str | None = None,
) -> Membership:
    """Create (or reuse) the user for `email` and give them a seat in `workspace`, with the built-in `role` or,
    when given, `custom_role` (of the same workspace).

    Agents (admins included) are never Django staff or superusers, and the operator's account
    (`threadline createsuperuser`) never gets a seat: the Django admin crosses every workspace.
    """
    email = check_email(email)
    role = CUSTOM_ROLE if custom_role is not None else check_role(role)
    if custom_role is not None and custom_role.workspace_id != workspace.pk:
        raise ValidationFailed(_("No such role."), code="role_not_found", field="role_id")
    user = User.objects.filter(email=email).first()
    if user is not None and (user.is_superuser or user.is_staff):
        raise Conflict(_("%(email)s is the installation's operator account; agents need an address of their own.")
                       % {"email": email}, code="operator_account")
    if user is None:
        if password:
            try:
                validate_password(password, User(email=email, name=name))  # not like their own email or name
            except DjangoValidationError as exc:
                raise ValidationFailed(" ".join(exc.messages), field="password") from exc
        user = User.objects.create_user(email, password, name=name)
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise Conflict(_("%(email)s is already an agent of this workspace.") % {"email": email}, code="agent_exists")
    membership = Membership.objects.create(workspace=workspace, user=user, role=role, custom_role=custom_role)
    record_change("agent.added", membership, {"role": role, **custom_details(custom_role)})
    publish(AgentCreated(workspace_id=workspace.pk, membership_id=membership.pk, email=email, role=role))
    return membership


def do_create_operator(email: str, password: str | None = None) -> User:
    """The installation's operator: a Django superuser for `/admin/`, with a seat in no workspace.

    An existing operator gets the new password; an agent's address is refused (an operator with a seat
    would carry the admin's reach into a workspace, and an agent with it would cross into all of them).
    """
    email = check_email(email)
    user = User.objects.filter(email=email).first()
    if user is not None and Membership.objects.filter(user=user).exists():
        raise Conflict(_("%(email)s is an agent of a workspace; the operator needs an address of its own.")
                       % {"email": email}, code="agent_exists")
    if password:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password") from exc
    if user is None:
        return User.objects.create_superuser(email, password or None, name=_("Operator"))
    user.is_superuser = user.is_staff = user.is_active = True
    if password:
        user.set_password(password)
    user.save()
    return user


def check_may_rename(actor: Membership | None, membership: Membership) -> None:
    """The name is the person's, shown in every workspace they work in: a workspace admin may change it only
    while the person has a seat in that workspace alone; otherwise only the person themselves may."""
    if actor is not None and actor.user_id == membership.user_id:
        return
    if Membership.objects.filter(user_id=membership.user_id).exclude(workspace_id=membership.workspace_id).exists():
        raise Conflict(_("This person also works in another workspace; only they can change their name."),
                       code="shared_person", field="name")


def custom_details(custom_role: CustomRole | None) -> dict[str, object]:
    return {} if custom_role is None else {"role_id": custom_role.pk, "role_name": custom_role.name}


def do_update_agent(membership: Membership, *, role: str | CustomRole | None = None, is_active: bool | None = None,
                    name: str | None = None, actor: Membership | None = None) -> Membership:
    """Change an agent's role (a built-in role's name or a custom role of the workspace), seat or display name
    (the name is the person's, shown in every workspace: see check_may_rename; `actor` is who asks, None for
    the system). Callers check `roster.check_keeps_an_admin` and `roles.check_may_grant` first."""
    if name is not None and name != membership.user.name:
        check_may_rename(actor, membership)
    changes: dict[str, object] = {}
    if isinstance(role, CustomRole):
        if role.workspace_id != membership.workspace_id:
            raise ValidationFailed(_("No such role."), code="role_not_found", field="role_id")
        if membership.custom_role_id != role.pk:
            membership.role, membership.custom_role = CUSTOM_ROLE, role
            changes.update(role=CUSTOM_ROLE, **custom_details(role))
    elif role is not None and (check_role(role) != membership.role or membership.custom_role_id is not None):
        changes["role"] = membership.role = role
        membership.custom_role = None
    if is_active is not None and is_active != membership.is_active:
        changes["is_active"] = membership.is_active = is_active
    if changes:
        fields = [f for f in changes if f in ("role", "is_active")] + (["custom_role"] if "role" in changes else [])
        membership.save(update_fields=[*fields, "updated_at"])
    if name is not None and name != membership.user.name:
        membership.user.name = name
        membership.user.save(update_fields=["name"])
        changes["name"] = name
    if changes:
        record_change("agent.updated", membership, changes)
        publish(AgentUpdated(workspace_id=membership.workspace_id, membership_id=membership.pk, changes=changes))
    return membership


def do_create_team(workspace: Workspace, name: str, members: list[Membership] | None = None) -> Team:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A team needs a name."), field="name")
    if Team.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(_("A team with this name exists already."), code="team_exists")
    team = Team.objects.create(workspace=workspace, name=name)
    record_change("team.created", team, {"name": name})
    return do_set_team_members(team, members or [])


def do_set_team_members(team: Team, members: list[Membership]) -> Team:
    if any(m.workspace_id != team.workspace_id for m in members):
        raise ValidationFailed(_("Every member must belong to the team's workspace."), field="member_ids")
    before = set(team.members.values_list("id", flat=True))
    team.members.set(members)
    if before != {m.pk for m in members}:
        record_change("team.members_changed", team, {"member_ids": sorted(m.pk for m in members)})
    publish(TeamChanged(workspace_id=team.workspace_id, team_id=team.pk, name=team.name,
                        member_ids=sorted(m.pk for m in members)))
    return team


def do_create_api_token(membership: Membership, name: str = "api") -> tuple[ApiToken, str]:
    """A new bearer token; the raw value is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        workspace_id=membership.workspace_id, membership=membership, name=name,
        digest=crypto.token_digest(raw), prefix=raw[:10],
    )
    record_change("token.created", token, {"name": name})
    return token, raw


def do_revoke_api_token(token: ApiToken) -> None:
    token.revoked_at = now()
    token.save(update_fields=["revoked_at"])
    record_change("token.revoked", token, {"name": token.name})


def do_create_setup_link(user: User, *, hours: int = 24) -> str:
    """A one-time secret that lets `user` set their password at /setup/<secret>/."""
    raw = secrets.token_urlsafe(24)
    SetupLink.objects.create(user=user, digest=crypto.token_digest(raw), expires_at=now() + dt.timedelta(hours=hours))
    return raw


SEEN_RESOLUTION = dt.timedelta(minutes=1)


def do_note_activity(membership: Membership) -> None:
    """Remember that the agent just did something (`last_seen_at`). At most one write a minute per seat: every
    request of the workspace and the API passes here, and on SQLite a write serializes."""
    moment = now()
    if membership.last_seen_at is None or moment - membership.last_seen_at >= SEEN_RESOLUTION:
        Membership.objects.filter(pk=membership.pk).update(last_seen_at=moment)
        membership.last_seen_at = moment
