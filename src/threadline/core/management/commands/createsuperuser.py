"""`threadline createsuperuser --email E [--password P]`: the installation's operator, for `/admin/`.

The operator is a Django superuser with a seat in no workspace (workspace admins come from `createadmin` and
never get into `/admin/`). Without --password a one-time setup link is printed. Run it again with a new
password to reset an operator's password. Replaces Django's own `createsuperuser`.

Two-factor sign-in for the operator (who has no `/app/settings`): `--totp` prints a new authenticator's
secret and otpauth URI, `--totp-code CODE` confirms it; from then on `/login` asks the operator for a code.
"""

from __future__ import annotations

from typing import Any

import pyotp
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from threadline.core.bootstrap import do_issue_setup_link
from threadline.core.errors import ThreadlineError
from threadline.tenancy.actions import do_create_operator
from threadline.web.actions import do_start_totp, do_verify_totp
from threadline.web.models import TotpDevice


class Command(BaseCommand):
    help = "Create (or reset the password of) the installation's operator, who uses /admin/."
    # Django's system checks load every URL and schema (~3 s of CPU per command): `serve` runs them once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="Without it, a one-time setup link is printed.")
        parser.add_argument("--totp", action="store_true", help="Start two-factor sign-in: prints the secret.")
        parser.add_argument("--totp-code", help="Confirm the authenticator started with --totp.")

    def handle(self, *args: Any, email: str, password: str | None, totp: bool, totp_code: str | None,
               **options: Any) -> None:
        secret = ""
        try:
            with transaction.atomic():
                user = do_create_operator(email, password)
                url = "" if user.has_usable_password() else do_issue_setup_link(user)
                if totp:
                    secret = do_start_totp(user)
                if totp_code:
                    device = TotpDevice.objects.select_for_update().filter(user=user).first()
                    if device is None:
                        raise CommandError("Start with --totp first.")
                    do_verify_totp(device, totp_code)
        except ThreadlineError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Operator {user.email}: signs in at /login and uses /admin/.")
        if url:
            self.stdout.write(f"Set the password once at: {url} (valid 24 hours)")
        if secret:
            uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Threadline")
            self.stdout.write(f"Authenticator secret: {secret}\n{uri}\n"
                              f"Confirm with: threadline createsuperuser --email {user.email} --totp-code CODE")
        if totp_code:
            self.stdout.write("Two-factor sign-in is on.")
