"""Invitations: an admin invites a person by email to take a seat; they open a one-time link, and join.

The seat is created inactive with its role and teams (so it is listed, and the routing profile can be set
beforehand) and becomes active when the link is used. A new person sets their name, password, language and
time zone on the link's page. A person who already has an account (a seat in another workspace, or a
password) only accepts: this workspace never renames them or sets their password. Links last
INVITATION_DAYS; re-sending replaces the secret (the old link stops working), revoking ends it and removes
the unused seat. Callers own the transaction; mailing happens after commit (`tenancy.mails`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.core import crypto
from threadline.core.errors import Conflict, NotFound, ValidationFailed
from threadline.core.time import now
from threadline.events.bus import publish
from threadline.tenancy.actions import check_email, check_role, custom_details
from threadline.tenancy.events import AgentCreated
from threadline.tenancy.models import (
    CUSTOM_ROLE,
    CustomRole,
    Invitation,
    Membership,
    Role,
    Team,
    User,
    Workspace,
)
from threadline.tenancy.passwords import check_new_password
from threadline.tenancy.permissions import grants_of
from threadline.tenancy.roles import check_may_grant

INVITATION_DAYS = 7


def _secret() -> tuple[str, str, dt.datetime]:
    raw = secrets.token_urlsafe(32)
    return raw, crypto.token_digest(raw), now() + dt.timedelta(days=INVITATION_DAYS)


def check_invitable(workspace: Workspace, email: str) -> User | None:
    """The existing account of `email` (None for a new person), or Conflict when it cannot be invited."""
    user = User.objects.filter(email=email).first()
    if user is None:
        return None
    if user.is_superuser or user.is_staff:
        raise Conflict(_("%(email)s is the installation's operator account; agents need an address of their own.")
                       % {"email": email}, code="operator_account")
    seat = Membership.objects.filter(workspace=workspace, user=user).first()
    if seat is None:
        return user
    if seat.is_active:
        raise Conflict(_("%(email)s is already an agent of this workspace.") % {"email": email}, code="agent_exists")
    if pending_invitation(seat) is not None:
        raise Conflict(_("%(email)s is invited already; re-send the invitation instead.") % {"email": email},
                       code="invitation_exists")
    raise Conflict(_("%(email)s was deactivated; reactivate them instead.") % {"email": email},
                   code="agent_deactivated")


def is_new_person(user: User, workspace_id: int) -> bool:
    """Whether the invitation may set this account's name and password: it has no password and no seat in any
    other workspace (other than invitations it has not used yet)."""
    if user.has_usable_password():
        return False
    pending = Invitation.objects.filter(membership=OuterRef("pk"), accepted_at__isnull=True, revoked_at__isnull=True)
    elsewhere = Membership.objects.filter(user=user).exclude(workspace_id=workspace_id)
    return not elsewhere.exclude(Exists(pending)).exists()


def has_an_account(email: str, workspace_id: int) -> bool:
    """Whether adding `email` to this workspace must go through an invitation: the person already has an
    account of their own (a password, or a seat elsewhere) that the workspace must not take over."""
    user = User.objects.filter(email=check_email(email)).first()
    return user is not None and not is_new_person(user, workspace_id)


def do_invite(workspace: Workspace, email: str, *, invited_by: Membership | None, name: str = "",
              role: str | CustomRole = Role.AGENT, teams: list[Team] | None = None) -> tuple[Invitation, str]:
    """Invite `email` into `workspace` (`invited_by`: the admin, None for the operator's command line) with a
    built-in role's name or a custom role of the workspace, never one granting more than `invited_by` holds;
    returns the invitation and its secret (mailed or shown once, never stored)."""
    email = check_email(email)
    custom_role = role if isinstance(role, CustomRole) else None
    if custom_role is not None and custom_role.workspace_id != workspace.pk:
        raise ValidationFailed(_("No such role."), code="role_not_found", field="role")
    role = CUSTOM_ROLE if custom_role is not None else check_role(str(role))
    check_may_grant(invited_by, grants_of(custom_role or role))
    if any(team.workspace_id != workspace.pk for team in teams or []):
        raise ValidationFailed(_("Every team must belong to this workspace."), code="team_not_found", field="team_ids")
    user = check_invitable(workspace, email)
    name = (name or "").strip()[:200]
    if user is None:
        user = User.objects.create_user(email, None, name=name, language=workspace.default_language,
                                        time_zone=workspace.time_zone)
    elif name and is_new_person(user, workspace.pk) and not user.name:
        user.name = name
        user.save(update_fields=["name"])
    membership = Membership.objects.create(workspace=workspace, user=user, role=role, custom_role=custom_role,
                                           is_active=False)
    for team in teams or []:
        team.members.add(membership)
    raw, digest, expires = _secret()
    invitation = Invitation.objects.create(workspace=workspace, membership=membership, email=email,
                                           invited_by=invited_by, digest=digest, expires_at=expires)
    record_change("agent.invited", membership, {"email": email, "role": role, **custom_details(custom_role),
                                                "team_ids": sorted(t.pk for t in teams or [])}, actor=invited_by)
    return invitation, raw


def pending_invitation(membership: Membership) -> Invitation | None:
    return (Invitation.objects.filter(membership=membership, accepted_at__isnull=True, revoked_at__isnull=True)
            .order_by("-id").first())


def do_resend_invitation(invitation: Invitation) -> str:
    """A new secret and a new expiry; the previous link stops working."""
    if not invitation.is_pending or invitation.membership_id is None:
        raise Conflict(_("This invitation was already used or revoked."), code="invitation_closed")
    raw, invitation.digest, invitation.expires_at = _secret()
    invitation.sent_at = None
    invitation.save(update_fields=["digest", "expires_at", "sent_at", "updated_at"])
    record_change("agent.invitation_resent", invitation.membership, {"email": invitation.email})
    return raw


def do_revoke_invitation(invitation: Invitation) -> None:
    """End the link and remove the seat it would have activated (it never worked, so nothing hangs on it)."""
    if not invitation.is_pending:
        raise Conflict(_("This invitation was already used or revoked."), code="invitation_closed")
    invitation.revoked_at = now()
    invitation.save(update_fields=["revoked_at", "updated_at"])
    membership = invitation.membership
    if membership is not None:
        record_change("agent.invitation_revoked", membership, {"email": invitation.email})
        if not membership.is_active:
            membership.delete()


def find_invitation(raw: str, *, lock: bool = False) -> Invitation:
    """The live invitation for `raw` (pending, unexpired, its seat still there), or NotFound."""
    rows = Invitation.objects.select_related("membership__user", "workspace").filter(
        digest=crypto.token_digest(raw or ""), accepted_at__isnull=True, revoked_at__isnull=True,
        expires_at__gt=now(), membership__isnull=False, membership__user__is_active=True)
    invitation = (rows.select_for_update(of=("self",)) if lock else rows).first()
    if invitation is None:
        raise NotFound(_("This invitation has expired, was revoked or was already used. Ask your admin for a new "
                         "one."), code="invitation_invalid")
    return invitation


def check_profile(language: str, time_zone: str) -> tuple[str, str]:
    if language not in {code for code, _label in settings.LANGUAGES}:
        raise ValidationFailed(_("Unknown language %(v)s.") % {"v": language}, code="invalid_language",
                               field="language")
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(_("%(v)s is not a time zone.") % {"v": time_zone}, code="invalid_time_zone",
                               field="time_zone") from exc
    return language, time_zone


def do_accept_invitation(raw: str, *, name: str = "", password: str = "", confirm: str = "",
                         language: str = "", time_zone: str = "") -> Membership:
    """Use the link: a new person's name, password, language and time zone are set; the seat becomes active."""
    invitation = find_invitation(raw, lock=True)
    membership = invitation.membership
    assert membership is not None  # find_invitation filters on it
    user = membership.user
    if is_new_person(user, membership.workspace_id):
        name = (name or "").strip()[:200]
        if not name:
            raise ValidationFailed(_("Enter your name."), code="invalid_name", field="name")
        user.name = name
        user.language, user.time_zone = check_profile(language or user.language, time_zone or user.time_zone)
        user.set_password(check_new_password(user, password, confirm))
        user.must_change_password = False
        user.save(update_fields=["name", "language", "time_zone", "password", "must_change_password"])
    invitation.accepted_at = now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    membership.is_active = True
    membership.save(update_fields=["is_active", "updated_at"])
    record_change("agent.joined", membership, {"email": user.email}, actor=membership)
    publish(AgentCreated(workspace_id=membership.workspace_id, membership_id=membership.pk, email=user.email,
                         role=membership.role))
    return membership
