"""First start: the first workspace and its admin, and the one-time link that lets an admin set a password.

`run()` is called by `threadline serve` on every start and is idempotent: once a workspace exists it never
creates another one or a second admin. The admin comes from THREADLINE_ADMIN_EMAIL (default
`admin@localhost`) and THREADLINE_ADMIN_PASSWORD; without a password the admin cannot sign in until they
open the printed setup link, which works once and expires.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from threadline.config import env
from threadline.core import crypto
from threadline.core.errors import NotFound
from threadline.core.time import now
from threadline.tenancy.actions import do_add_agent, do_create_setup_link, do_create_workspace
from threadline.tenancy.models import LinkPurpose, Membership, Role, SetupLink, User, Workspace
from threadline.tenancy.passwords import check_new_password

DEFAULT_ADMIN_EMAIL = "admin@localhost"
DEFAULT_WORKSPACE_NAME = "Threadline"
_LOCK_KEY = 0x7468_726C  # "thrl": serializes first starts of several nodes on PostgreSQL


@dataclass(frozen=True)
class FirstRun:
    workspace: Workspace | None
    admin: Membership | None
    setup_url: str = ""


def setup_url(raw: str) -> str:
    return f"{settings.PUBLIC_URL}/setup/{raw}/"


def _serialize_first_start() -> None:
    """Make two nodes starting at once on one PostgreSQL database take turns (SQLite already does)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def do_issue_setup_link(user: User) -> str:
    """A fresh one-time setup URL for `user`; links issued before it stop working."""
    SetupLink.objects.filter(user=user, purpose=LinkPurpose.SETUP, used_at__isnull=True,
                             expires_at__gt=now()).update(expires_at=now())
    return setup_url(do_create_setup_link(user))


def do_create_admin(workspace: Workspace, email: str, password: str | None = None) -> FirstRun:
    """Add a workspace admin to `workspace` (never a Django superuser: see `do_create_operator`); without
    password, issue a setup link."""
    membership = do_add_agent(workspace, email, role=Role.ADMIN, password=password or None, name=_("Administrator"))
    user = membership.user
    url = "" if user.has_usable_password() else do_issue_setup_link(user)
    return FirstRun(workspace, membership, url)


def do_first_run() -> FirstRun:
    """Create the first workspace and admin unless a workspace exists; the caller owns the transaction.

    When the first admin still has no password (the setup link was never used), a new link is issued so
    a restart recovers a lost console.
    """
    _serialize_first_start()
    email = (env.get("ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL).strip().lower()
    if Workspace.objects.exists():
        user = User.objects.filter(email=email, is_active=True).first()
        if user is not None and not user.has_usable_password():
            return FirstRun(None, None, do_issue_setup_link(user))
        return FirstRun(None, None)
    workspace = do_create_workspace(env.get("WORKSPACE_NAME") or DEFAULT_WORKSPACE_NAME)
    return do_create_admin(workspace, email, env.get("ADMIN_PASSWORD"))


def run() -> list[str]:
    """Bootstrap and return the lines to show the operator."""
    with transaction.atomic():
        result = do_first_run()
    lines: list[str] = []
    if result.workspace is not None and result.admin is not None:
        lines.append(
            f"Created workspace {result.workspace.name!r} with admin {result.admin.user.email}."
        )
    if result.setup_url:
        lines.append(f"Set the admin's password once at: {result.setup_url} (valid 24 hours)")
    return lines


# ── the setup link ──────────────────────────────────────────────────────────────────────────────────
def find_setup_link(raw: str) -> SetupLink:
    """The live (unused, unexpired) link for `raw`, or NotFound."""
    link = (
        SetupLink.objects.select_related("user")
        .filter(digest=crypto.token_digest(raw), purpose=LinkPurpose.SETUP, used_at__isnull=True, expires_at__gt=now(),
                user__is_active=True)
        .first()
    )
    if link is None:
        raise NotFound(_("This setup link has expired or was already used."), code="setup_link_invalid")
    return link


def do_complete_setup(raw: str, password: str, confirm: str) -> User:
    """Set the password through a live link and spend the link (and every other link of the user).

    The link row is locked, so two submissions racing on one link cannot both succeed.
    """
    link = find_setup_link(raw)
    link = SetupLink.objects.select_for_update().select_related("user").get(pk=link.pk)
    if link.used_at is not None:
        raise NotFound(_("This setup link has expired or was already used."), code="setup_link_invalid")
    user = link.user
    user.set_password(check_new_password(user, password, confirm))
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    moment = now()
    SetupLink.objects.filter(user=user, used_at__isnull=True).update(used_at=moment)
    transaction.on_commit(lambda: _close_sockets(user.pk))  # a new password ends every open agent socket
    return user


def _close_sockets(user_id: int) -> None:
    from threadline.realtime.sessions import close_user_sockets

    close_user_sockets(user_id)
