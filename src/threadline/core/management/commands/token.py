"""API tokens from the command line (the operator's view: every workspace).

    threadline token create --email EMAIL [--workspace SLUG] [--name N]   prints a new token, nothing else
    threadline token list [--email EMAIL] [--workspace SLUG] [--all]      id, prefix, name, agent, state
    threadline token revoke ID|PREFIX                                     the token stops working at once
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from threadline.tenancy.actions import do_create_api_token, do_revoke_api_token
from threadline.tenancy.models import ApiToken, Membership


def find_membership(email: str, workspace: str | None) -> Membership:
    """The active seat of `email`, in workspace `workspace` (slug) or in their only workspace."""
    seats = Membership.objects.select_related("workspace", "user").filter(
        user__email=email.strip().lower(), is_active=True, user__is_active=True
    )
    if workspace:
        seats = seats.filter(workspace__slug=workspace)
    found = list(seats.order_by("id")[:20])
    if not found:
        where = f" in workspace {workspace!r}" if workspace else ""
        raise CommandError(f"No active agent {email}{where}.")
    if len(found) > 1:
        slugs = ", ".join(seat.workspace.slug for seat in found)
        raise CommandError(f"{email} is an agent of several workspaces ({slugs}); choose one with --workspace.")
    return found[0]


class Command(BaseCommand):
    help = "Manage API tokens. `token create` prints only the token, for scripts."
    # Django's system checks load every URL and schema (~3 s of CPU per command): `serve` runs them once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a bearer token acting as an agent.")
        create.add_argument("--email", required=True, help="The agent's e-mail.")
        create.add_argument("--workspace", help="Workspace slug (needed when the agent has several).")
        create.add_argument("--name", default="cli", help="A label for the token (default cli).")
        listing = sub.add_parser("list", help="List tokens (active ones; --all for revoked too).")
        listing.add_argument("--email", help="Only this agent's tokens.")
        listing.add_argument("--workspace", help="Only this workspace (slug).")
        listing.add_argument("--all", action="store_true", help="Include revoked tokens.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id or prefix (as `list` shows).")
        revoke.add_argument("token", help="The token's id or prefix (e.g. tl_AbCdEfG).")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "create":
            membership = find_membership(options["email"], options["workspace"])
            with transaction.atomic():
                _token, raw = do_create_api_token(membership, name=options["name"])
            self.stdout.write(raw)
        elif action == "list":
            self._list(options["email"], options["workspace"], include_revoked=options["all"])
        else:
            self._revoke(options["token"])

    def _list(self, email: str | None, workspace: str | None, *, include_revoked: bool) -> None:
        tokens = ApiToken.objects.select_related("membership__user", "workspace").order_by("id")
        if email:
            tokens = tokens.filter(membership__user__email=email.strip().lower())
        if workspace:
            tokens = tokens.filter(workspace__slug=workspace)
        if not include_revoked:
            tokens = tokens.filter(revoked_at__isnull=True)
        for token in tokens:
            used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never used"
            state = f"revoked {token.revoked_at.isoformat(timespec='seconds')}" if token.revoked_at else "active"
            self.stdout.write(f"{token.pk}\t{token.prefix}\t{token.name}\t{token.membership.user.email}\t"
                              f"{token.workspace.slug}\t{used}\t{state}")

    def _revoke(self, which: str) -> None:
        which = which.strip().rstrip("…")
        found = list(ApiToken.objects.filter(pk=int(which)) if which.isdigit()
                     else ApiToken.objects.filter(prefix__startswith=which)[:2]) if which else []
        if not found:
            raise CommandError(f"No token {which!r}; `threadline token list` shows ids and prefixes.")
        if len(found) > 1:
            raise CommandError(f"Several tokens start with {which!r}; give the id instead.")
        token = found[0]
        if token.revoked_at is None:
            with transaction.atomic():
                do_revoke_api_token(token)
        self.stdout.write(f"Token {token.pk} ({token.prefix}…, {token.name}) revoked.")
