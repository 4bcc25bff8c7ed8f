"""`threadline createsuperuser --email E [--password P]`: the installation's operator, for `/admin/`.

The operator is a Django superuser with a seat in no workspace (workspace admins come from `createadmin` and
never get into `/admin/`). Without --password a one-time setup link is printed. Run it again with a new
password to reset an operator's password. Replaces Django's own `createsuperuser`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from threadline.core.bootstrap import do_issue_setup_link
from threadline.core.errors import ThreadlineError
from threadline.tenancy.actions import do_create_operator


class Command(BaseCommand):
    help = "Create (or reset the password of) the installation's operator, who uses /admin/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="Without it, a one-time setup link is printed.")

    def handle(self, *args: Any, email: str, password: str | None, **options: Any) -> None:
        try:
            with transaction.atomic():
                user = do_create_operator(email, password)
                url = "" if user.has_usable_password() else do_issue_setup_link(user)
        except ThreadlineError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Operator {user.email}: signs in at /login and uses /admin/.")
        if url:
            self.stdout.write(f"Set the password once at: {url} (valid 24 hours)")
