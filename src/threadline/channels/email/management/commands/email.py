"""`threadline email domains [--workspace SLUG]` and `threadline email verify-domain DOMAIN [--force]`.

A catch-all domain receives mail only once verified: publish the TXT record `domains` prints, then run
`verify-domain`. `--force` is the operator's manual override (no DNS lookup), for a domain the operator
knows belongs to the workspace that claimed it. See docs/security.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from threadline.channels.email import claims
from threadline.channels.email.models import EmailClaim
from threadline.core.errors import ThreadlineError


class Command(BaseCommand):
    help = "Inbound email addresses and catch-all domains: list domain claims, verify a domain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("domains", help="Catch-all domains, who claimed them and their TXT record.")
        listing.add_argument("--workspace", help="Only this workspace (slug).")
        verify = sub.add_parser("verify-domain", help="Check a catch-all domain's TXT record now.")
        verify.add_argument("domain")
        verify.add_argument("--force", action="store_true",
                            help="Mark it verified without DNS (the operator vouches for the domain).")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "domains":
            self._list(options.get("workspace"))
        else:
            self._verify(options["domain"], force=options["force"])

    def _list(self, workspace: str | None) -> None:
        rows = EmailClaim.objects.select_related("workspace", "channel").filter(kind=EmailClaim.Kind.DOMAIN)
        if workspace:
            rows = rows.filter(workspace__slug=workspace)
        for claim in rows.order_by("value"):
            state = f"verified ({claim.verified_by})" if claim.verified_at else "not verified"
            self.stdout.write(f"{claim.value}\t{claim.workspace.slug}\tchannel {claim.channel_id}\t{state}\t"
                              f"TXT {claims.record_name(claim.value)} \"{claims.record_value(claim)}\"")

    def _verify(self, domain: str, *, force: bool) -> None:
        claim = EmailClaim.objects.filter(kind=EmailClaim.Kind.DOMAIN, value=domain.strip().lower()).first()
        if claim is None:
            raise CommandError(f"No email channel claims the catch-all domain {domain}.")
        proven = force or claims.published(claim)
        try:
            with transaction.atomic():
                claims.do_verify_domain(claim, proven=proven, by="operator" if force else "dns")
        except ThreadlineError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{claim.value} verified ({claim.verified_by}): mail to any address there now reaches "
                          f"channel {claim.channel_id}.")
