"""/app/admin/people: the workspace's people (active, invited, deactivated) with role, teams, presence and last
activity; inviting by email (role, teams, skills, capacity per channel class); per person: changing those,
deactivating (after a confirm step saying how many conversations go back to routing), reactivating,
resetting the second factor, forcing a password reset, re-sending or revoking an invitation.

Plain forms (POST, then a redirect with a message). When no mail server is configured (or it fails), the
invitation link is shown once to the admin who made it, to pass on another way: it is never lost.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from threadline.core.errors import NotFound, ThreadlineError, ValidationFailed
from threadline.routing.models import DEFAULT_CAPACITY, AgentProfile
from threadline.routing.queries import open_assigned_count
from threadline.routing.seats import do_invite_agent, do_update_seat
from threadline.tenancy.invitations import do_resend_invitation, do_revoke_invitation, pending_invitation
from threadline.tenancy.mails import invitation_url, send_invitation
from threadline.tenancy.models import CUSTOM_ROLE, Invitation, Membership, Role, Team
from threadline.tenancy.passwords import do_force_reset, do_reset_second_factor
from threadline.tenancy.permissions import Permission
from threadline.tenancy.queries import (
    access_agent,
    list_people,
    list_roles,
    list_teams,
    person_status,
    role_by_key,
)
from threadline.tenancy.signin import has_second_factor
from threadline.web.views_admin import admin_screen, render_admin

CAPACITY_CLASSES = ("chat", "email")


def role_options(actor: Membership) -> list[tuple[str, str]]:
    """The roles a person can be given here: the built-in ones, then the workspace's custom ones (`custom:<id>`)."""
    return [(str(value), str(label)) for value, label in Role.choices] + [
        (f"{CUSTOM_ROLE}:{role.pk}", role.name) for role in list_roles(actor)]


# ── form parsing ─────────────────────────────────────────────────────────────────────────────────────
def parse_teams(actor: Membership, values: list[str]) -> list[Team]:
    try:
        wanted = {int(v) for v in values if v}
    except ValueError as exc:
        raise ValidationFailed(_("Choose teams from the list."), code="team_not_found", field="team_ids") from exc
    teams = list(list_teams(actor).filter(pk__in=wanted))
    if len(teams) != len(wanted):
        raise ValidationFailed(_("Choose teams from the list."), code="team_not_found", field="team_ids")
    return teams


def parse_skills(value: str) -> list[str]:
    return [part.strip() for part in (value or "").replace("\n", ",").split(",") if part.strip()]


def parse_capacity(post: Any) -> dict[str, int]:
    capacity = {}
    for klass in CAPACITY_CLASSES:
        raw = (post.get(f"capacity_{klass}") or "").strip()
        if not raw:
            continue
        if not raw.isdigit():
            raise ValidationFailed(_("Capacity is a number from 0 to 1000."), code="invalid_capacity",
                                   field="capacity")
        capacity[klass] = int(raw)
    return capacity


# ── reads for the templates ──────────────────────────────────────────────────────────────────────────
def _row(membership: Membership, profile: AgentProfile | None) -> dict[str, Any]:
    seen = [t for t in (membership.last_seen_at, membership.user.last_login) if t is not None]
    return {"m": membership, "status": person_status(membership), "teams": list(membership.teams.all()),
            "presence": profile.get_presence_display() if profile else _("Offline"),
            "last_activity": max(seen) if seen else None,
            "skills": profile.skills if profile else [],
            "capacity": {**DEFAULT_CAPACITY, **((profile.capacity if profile else None) or {})}}


def _form_context(actor: Membership) -> dict[str, Any]:
    return {"roles": role_options(actor), "all_teams": list(list_teams(actor)), "default_capacity": DEFAULT_CAPACITY}


def _link_page(request: HttpRequest, invitation: Invitation, raw: str) -> HttpResponse:
    return render_admin(request, "web/admin/people_link.html", {"invitation": invitation, "url": invitation_url(raw)})


def _mail_or_show(request: HttpRequest, invitation: Invitation, raw: str) -> HttpResponse:
    """Mail the invitation after commit; when it cannot be mailed, show the link to the admin instead."""
    if send_invitation(invitation, raw):
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
        return redirect("/app/admin/people")
    return _link_page(request, invitation, raw)


# ── screens ──────────────────────────────────────────────────────────────────────────────────────────
@require_GET
@admin_screen(Permission.ADMIN_PEOPLE)
def people_view(request: HttpRequest) -> HttpResponse:
    actor = request.agent  # type: ignore[attr-defined]
    people = list(list_people(actor))
    profiles = {p.membership_id: p for p in AgentProfile.objects.filter(membership__in=people)}
    rows = [_row(m, profiles.get(m.pk)) for m in people]
    return render_admin(request, "web/admin/people.html", {"rows": rows, **_form_context(actor)})


@require_POST
@admin_screen(Permission.ADMIN_PEOPLE)
def invite_view(request: HttpRequest) -> HttpResponse:
    actor = request.agent  # type: ignore[attr-defined]
    post = request.POST
    try:
        with transaction.atomic():
            invitation, raw = do_invite_agent(
                actor.workspace, post.get("email", ""), invited_by=actor, name=post.get("name", ""), role=role_by_key(actor, post.get("role")) or Role.AGENT,
                teams=parse_teams(actor, post.getlist("team_ids")), skills=parse_skills(post.get("skills", "")),
                capacity=parse_capacity(post))
    except ThreadlineError as exc:
        messages.error(request, exc.message)
        return redirect("/app/admin/people#invite")
    return _mail_or_show(request, invitation, raw)


@require_GET
@admin_screen(Permission.ADMIN_PEOPLE)
def person_view(request: HttpRequest, membership_id: int) -> HttpResponse:
    actor = request.agent  # type: ignore[attr-defined]
    person = list_people(actor).filter(pk=membership_id).first()
    if person is None:
        raise NotFound(_("No such agent."), code="agent_not_found")
    profile = AgentProfile.objects.filter(membership=person).first()
    context = {"row": _row(person, profile), "person": person, "invitation": pending_invitation(person),
               "has_second_factor": has_second_factor(person.user), "is_self": person.pk == actor.pk, **_form_context(actor)}
    if request.GET.get("confirm") == "deactivate":
        context["confirm_deactivate"] = open_assigned_count(person)
    return render_admin(request, "web/admin/person.html", context)


def _update(request: HttpRequest, actor: Membership, person: Membership) -> str:
    post = request.POST
    do_update_seat(actor, person, role=role_by_key(actor, post.get("role")), teams=parse_teams(actor, post.getlist("team_ids")),
                   skills=parse_skills(post.get("skills", "")), capacity=parse_capacity(post))
    return _("Saved.")


def _deactivate(request: HttpRequest, actor: Membership, person: Membership) -> str:
    count = open_assigned_count(person)
    do_update_seat(actor, person, is_active=False)
    return ngettext("%(email)s is deactivated; %(count)s conversation goes back to routing.",
                    "%(email)s is deactivated; %(count)s conversations go back to routing.", count) % {
        "email": person.user.email, "count": count}


def _reactivate(request: HttpRequest, actor: Membership, person: Membership) -> str:
    do_update_seat(actor, person, is_active=True)
    return _("%(email)s is active again.") % {"email": person.user.email}


def _reset_2fa(request: HttpRequest, actor: Membership, person: Membership) -> str:
    if do_reset_second_factor(person):
        return _("Two-factor sign-in is removed; their sessions were signed out. They can set it up again.")
    return _("This person had no two-factor sign-in.")


def _force_reset(request: HttpRequest, actor: Membership, person: Membership) -> str:
    do_force_reset(person)
    return _("Their sessions were signed out; they must choose a new password at their next sign-in.")


def _revoke(request: HttpRequest, actor: Membership, person: Membership) -> str:
    invitation = pending_invitation(person)
    if invitation is None:
        raise NotFound(_("There is no open invitation."), code="invitation_not_found")
    do_revoke_invitation(invitation)
    return _("The invitation of %(email)s is revoked.") % {"email": invitation.email}


OPERATIONS = {"update": _update, "deactivate": _deactivate, "reactivate": _reactivate, "reset-2fa": _reset_2fa,
              "force-reset": _force_reset, "revoke": _revoke}


@require_POST
@admin_screen(Permission.ADMIN_PEOPLE)
def operation_view(request: HttpRequest, membership_id: int, operation: str) -> HttpResponse:
    actor = request.agent  # type: ignore[attr-defined]
    person = access_agent(actor, membership_id)
    back = f"/app/admin/people/{person.pk}"
    if operation == "resend":
        try:
            with transaction.atomic():
                invitation = pending_invitation(person)
                if invitation is None:
                    raise NotFound(_("There is no open invitation."), code="invitation_not_found")
                raw = do_resend_invitation(invitation)
        except ThreadlineError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        return _mail_or_show(request, invitation, raw)
    if operation not in OPERATIONS:
        raise NotFound(_("No such operation."), code="not_found")
    try:
        with transaction.atomic():
            message = OPERATIONS[operation](request, actor, person)
    except ThreadlineError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, message)
    return redirect("/app/admin/people" if operation == "revoke" else back)

