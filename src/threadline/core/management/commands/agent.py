"""People from the command line (the operator's view: every workspace).

    threadline agent invite --email E --workspace SLUG [--role R] [--name N] [--team NAME ...]
    threadline agent reset-password --email E     a one-time reset link (mailed when mail is set up; printed)
    threadline agent reset-2fa --email E          removes the authenticator and ends the account's sessions

An invitation is mailed when THREADLINE_SYSTEM_MAIL_URL (or SMTP_RELAY_URL) is set; its link is printed either
way, so it is never lost. Every change is audited as the installation's.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from threadline.audit.actions import SYSTEM, record_for_user
from threadline.core.errors import ThreadlineError
from threadline.routing.seats import do_invite_agent
from threadline.tenancy.mails import invitation_url, reset_url, send_invitation, send_reset
from threadline.tenancy.models import Role, Team, User, Workspace
from threadline.tenancy.passwords import RESET_HOURS, do_issue_reset_link, do_remove_second_factor


def find_user(email: str) -> User:
    user = User.objects.filter(email=email.strip().lower()).first()
    if user is None:
        raise CommandError(f"No account {email}.")
    return user


class Command(BaseCommand):
    help = "Invite agents, reset a password or a second factor."
    # Django's system checks load every URL and schema (~3 s of CPU per command): `serve` runs them once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        invite = sub.add_parser("invite", help="Invite a person into a workspace by email.")
        invite.add_argument("--email", required=True)
        invite.add_argument("--workspace", required=True, help="Workspace slug.")
        invite.add_argument("--role", default=Role.AGENT, choices=Role.values)
        invite.add_argument("--name", default="", help="Used only for a person without an account yet.")
        invite.add_argument("--team", action="append", default=[], help="A team's name (repeat for several).")
        reset = sub.add_parser("reset-password", help="Issue a one-time password reset link.")
        reset.add_argument("--email", required=True)
        second = sub.add_parser("reset-2fa", help="Remove an account's authenticator and end its sessions.")
        second.add_argument("--email", required=True)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, "_" + action.replace("-", "_"))(**options)
        except ThreadlineError as exc:
            raise CommandError(exc.message) from exc

    def _invite(self, *, email: str, workspace: str, role: str, name: str, team: list[str], **_: Any) -> None:
        target = Workspace.objects.filter(slug=workspace).first()
        if target is None:
            raise CommandError(f"No workspace {workspace!r}.")
        teams = list(Team.objects.filter(workspace=target, name__in=team))
        missing = set(team) - {t.name for t in teams}
        if missing:
            raise CommandError(f"No team {', '.join(sorted(missing))} in {workspace!r}.")
        with transaction.atomic():
            invitation, raw = do_invite_agent(target, email, invited_by=None, name=name, role=role, teams=teams)
        mailed = send_invitation(invitation, raw)
        self.stdout.write(f"Invited {invitation.email} to {target.name!r} as {role}"
                          f"{' (mailed)' if mailed else ' (not mailed: no mail server, or it failed)'}.")
        self.stdout.write(f"Invitation link (works once, 7 days): {invitation_url(raw)}")

    def _reset_password(self, *, email: str, **_: Any) -> None:
        user = find_user(email)
        with transaction.atomic():
            raw = do_issue_reset_link(user)
            record_for_user(user, "password.reset_requested", actor=SYSTEM, details={"by": "cli"})
        mailed = send_reset(user, raw)
        self.stdout.write(f"Reset link for {user.email}{' (mailed)' if mailed else ''}, works once, "
                          f"{RESET_HOURS} hours: {reset_url(raw)}")

    def _reset_2fa(self, *, email: str, **_: Any) -> None:
        user = find_user(email)
        with transaction.atomic():
            removed = do_remove_second_factor(user)
            if removed:
                record_for_user(user, "2fa.reset", actor=SYSTEM, details={"by": "cli"})
        self.stdout.write(f"Two-factor sign-in of {user.email} removed; its sessions ended." if removed
                          else f"{user.email} had no two-factor sign-in.")
