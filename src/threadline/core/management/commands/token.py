"""`threadline token create --email EMAIL [--workspace SLUG] [--name N]`: print a new API token, nothing else."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from threadline.tenancy.actions import do_create_api_token
from threadline.tenancy.models import Membership


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

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a bearer token acting as an agent.")
        create.add_argument("--email", required=True, help="The agent's e-mail.")
        create.add_argument("--workspace", help="Workspace slug (needed when the agent has several).")
        create.add_argument("--name", default="cli", help="A label for the token (default cli).")

    def handle(self, *args: Any, action: str, email: str, workspace: str | None, name: str, **options: Any) -> None:
        membership = find_membership(email, workspace)
        with transaction.atomic():
            _token, raw = do_create_api_token(membership, name=name)
        self.stdout.write(raw)
