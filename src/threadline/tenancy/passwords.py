"""Passwords: an agent changes theirs, anyone asks for a reset link by email, an admin forces a reset or resets
a person's second factor. Callers own the transaction.

Reset links are one-time `SetupLink` rows (purpose `reset`; only the secret's SHA-256 is stored), valid
RESET_HOURS; issuing one expires the person's earlier reset links, and at most one is issued a minute per
account, so the form cannot be used to flood a mailbox. A new password ends every other session of the
account (Django's session hash follows the password hash) and, after commit, every open agent socket.

Account-wide operations by a workspace admin (forcing a reset, resetting the second factor) are refused
for a person who also works in another workspace: one workspace never changes how a person signs in to
another (`check_account_is_ours`).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from threadline.audit.actions import SYSTEM, record_change, record_for_user
from threadline.core import crypto
from threadline.core.errors import Conflict, NotFound, ValidationFailed
from threadline.core.time import now
from threadline.tenancy.models import LinkPurpose, Membership, SetupLink, User
from threadline.tenancy.signin import may_sign_in

RESET_HOURS = 2
RESET_EVERY = dt.timedelta(seconds=60)
MAX_PASSWORD = 512


def check_new_password(user: User, password: str, confirm: str) -> str:
    """Django's validators (length, common passwords, not like the account's own email or name)."""
    if password != confirm:
        raise ValidationFailed(_("The two passwords differ."), code="password_mismatch", field="confirm")
    if len(password) > MAX_PASSWORD:
        raise ValidationFailed(_("The password is too long."), code="invalid_password", field="password")
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), code="invalid_password", field="password") from exc
    return password


def close_sockets_after_commit(user_id: int) -> None:
    from threadline.realtime.sessions import close_user_sockets

    transaction.on_commit(lambda: close_user_sockets(user_id))


def end_sessions(user: User) -> None:
    """End every session and agent socket of `user` without touching the password (see User.session_epoch)."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    close_sockets_after_commit(user.pk)


def _set_password(user: User, password: str) -> None:
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    close_sockets_after_commit(user.pk)  # the sessions end with the old password hash; sockets too


def do_change_password(user: User, current: str, password: str, confirm: str) -> User:
    """The signed-in person changes their password; the caller keeps its own session
    (`update_session_auth_hash`), every other session and socket ends."""
    if not user.check_password(current or ""):
        raise ValidationFailed(_("Your current password is not right."), code="wrong_password", field="current")
    if current == password:
        raise ValidationFailed(_("Choose a password different from the current one."), code="same_password",
                               field="password")
    _set_password(user, check_new_password(user, password, confirm))
    record_for_user(user, "password.changed")
    return user


def do_set_required_password(user: User, password: str, confirm: str) -> User:
    """The new password a forced reset asks for at sign-in (the old one was just proved)."""
    if user.check_password(password or ""):
        raise ValidationFailed(_("Choose a password different from the current one."), code="same_password",
                               field="password")
    _set_password(user, check_new_password(user, password, confirm))
    record_for_user(user, "password.changed")
    return user


# ── reset by email link ──────────────────────────────────────────────────────────────────────────────
def do_request_reset(email: str) -> tuple[User, str] | None:
    """A reset secret for the account of `email`, or None (no such account, it cannot sign in, or a link was
    issued less than a minute ago). The caller answers the same whatever this returns."""
    email = (email or "").strip().lower()
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None or not may_sign_in(user):
        return None
    moment = now()
    links = SetupLink.objects.filter(user=user, purpose=LinkPurpose.RESET)
    if links.filter(created_at__gt=moment - RESET_EVERY).exists():
        return None
    raw = do_issue_reset_link(user)
    record_for_user(user, "password.reset_requested", actor=SYSTEM)
    return user, raw


def do_issue_reset_link(user: User) -> str:
    """A new one-time reset secret for `user`; their earlier reset links stop working."""
    moment = now()
    SetupLink.objects.filter(user=user, purpose=LinkPurpose.RESET, used_at__isnull=True,
                             expires_at__gt=moment).update(expires_at=moment)
    raw = secrets.token_urlsafe(32)
    SetupLink.objects.create(user=user, purpose=LinkPurpose.RESET, digest=crypto.token_digest(raw),
                             expires_at=moment + dt.timedelta(hours=RESET_HOURS))
    return raw


def find_reset_link(raw: str, *, lock: bool = False) -> SetupLink:
    """The live (unused, unexpired) reset link for `raw`, or NotFound."""
    links = SetupLink.objects.select_related("user").filter(
        digest=crypto.token_digest(raw or ""), purpose=LinkPurpose.RESET, used_at__isnull=True,
        expires_at__gt=now(), user__is_active=True)
    link = (links.select_for_update(of=("self",)) if lock else links).first()
    if link is None:
        raise NotFound(_("This link has expired or was already used. Ask for a new one."), code="reset_link_invalid")
    return link


def do_complete_reset(raw: str, password: str, confirm: str) -> User:
    """Set the password through a live reset link and spend every open link of the account. The link row is
    locked, so two submissions of one link cannot both succeed."""
    link = find_reset_link(raw, lock=True)
    user = link.user
    _set_password(user, check_new_password(user, password, confirm))
    SetupLink.objects.filter(user=user, used_at__isnull=True).update(used_at=now())
    record_for_user(user, "password.reset", actor=user)
    return user


# ── what an admin may do to a person's sign-in ───────────────────────────────────────────────────────
def check_account_is_ours(membership: Membership) -> None:
    if Membership.objects.filter(user_id=membership.user_id).exclude(workspace_id=membership.workspace_id).exists():
        raise Conflict(_("This person also works in another workspace; only they (or the installation's operator) "
                         "can change how they sign in."), code="shared_person")


def do_force_reset(membership: Membership) -> None:
    """The person must choose a new password at their next sign-in; every session and socket ends now."""
    check_account_is_ours(membership)
    user = membership.user
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    end_sessions(user)
    record_change("password.reset_forced", membership)


def do_reset_second_factor(membership: Membership) -> bool:
    """A workspace admin removes the person's authenticator (a lost phone) and ends their sessions; False when
    there was none."""
    check_account_is_ours(membership)
    removed = do_remove_second_factor(membership.user)
    if removed:
        record_change("2fa.reset", membership)
    return removed


def do_remove_second_factor(user: User) -> bool:
    """Remove the account's authenticator and end its sessions (the operator's command line: any account)."""
    try:
        user.totp_device.delete()  # type: ignore[attr-defined]  # web.TotpDevice's reverse accessor
    except ObjectDoesNotExist:
        return False
    end_sessions(user)
    return True
