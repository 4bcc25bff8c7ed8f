"""`threadline createadmin --email E [--password P] [--workspace NAME]`: add an admin, non-interactively.

Without --password the admin gets no usable password and a one-time setup link is printed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q

from threadline.core.bootstrap import DEFAULT_WORKSPACE_NAME, do_create_admin
from threadline.core.errors import ThreadlineError
from threadline.tenancy.actions import do_create_workspace
from threadline.tenancy.models import Workspace


class Command(BaseCommand):
    help = "Create an admin of a workspace (created when it does not exist)."
    # Django's system checks load every URL and schema (~3 s of CPU per command): `serve` runs them once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="Without it, a one-time setup link is printed.")
        parser.add_argument("--workspace", help="Workspace name or slug (default: the first workspace).")

    def handle(self, *args: Any, email: str, password: str | None, workspace: str | None, **options: Any) -> None:
        try:
            with transaction.atomic():
                if workspace:
                    target = Workspace.objects.filter(Q(slug=workspace) | Q(name=workspace)).order_by("id").first()
                    target = target or do_create_workspace(workspace)
                else:
                    target = Workspace.objects.order_by("id").first() or do_create_workspace(DEFAULT_WORKSPACE_NAME)
                result = do_create_admin(target, email, password)
        except ThreadlineError as exc:
            raise CommandError(str(exc)) from exc
        assert result.admin is not None
        self.stdout.write(f"Admin {result.admin.user.email} of workspace {target.name!r} ({target.slug}).")
        if result.setup_url:
            self.stdout.write(f"Set the password once at: {result.setup_url} (valid 24 hours)")
