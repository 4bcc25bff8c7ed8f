"""What a signed-in session proved, and who the installation's operator is.

There is one sign-in flow (`/login`, then `/login/verify` when the account has a second factor). It records in
the session which factor was passed: `totp`, or `password` for an account with no second factor enrolled.
Every area that trusts a session (`/app/`, the agent socket, `/admin/`) asks `second_factor_passed`: an
account with a confirmed authenticator is refused unless *this* session passed it, so a session made any
other way (Django's own login, a session from before the authenticator was enrolled) opens nothing.
A workspace's identity provider (threadline.sso) records `sso`, or `sso_mfa` when the provider asserted a
second factor (or the workspace trusts it to enforce one), which counts as passing it.

The operator runs the installation (`threadline createsuperuser`): a Django superuser who belongs to no
workspace and uses `/admin/`. Workspace admins are never superusers or staff.
"""

from __future__ import annotations

from typing import Any

from threadline.tenancy.models import Membership, User

SESSION_FACTOR = "tl_factor"
TOTP = "totp"
PASSWORD_ONLY = "password"
SSO = "sso"  # a workspace's identity provider signed the person in (see threadline.sso)
SSO_MFA = "sso_mfa"  # ... and it asserted a second factor, or the workspace trusts it to enforce one


def has_second_factor(user: Any) -> bool:
    """Whether the account has a confirmed authenticator (the agent workspace's TOTP device)."""
    return User.objects.filter(pk=user.pk, totp_device__confirmed_at__isnull=False).exists()


def record_sign_in(session: Any, factor: str) -> None:
    """Called by the sign-in views right after `login()` (which cycled the session key)."""
    session[SESSION_FACTOR] = factor


def upgrade_to_second_factor(session: Any) -> None:
    """The agent just proved their new authenticator in this session (enrolment): it counts as passed."""
    session[SESSION_FACTOR] = TOTP


def second_factor_passed(user: Any, session: Any) -> bool:
    """Whether a session may act for `user`: it passed the second factor, or the account has none."""
    if passed_second_factor(session):
        return True
    return not has_second_factor(user)


def passed_second_factor(session: Any) -> bool:
    """Whether this session itself passed a second factor (a TOTP code, or an identity provider's MFA)."""
    return session is not None and session.get(SESSION_FACTOR) in {TOTP, SSO_MFA}


def is_operator(user: Any) -> bool:
    """The installation's operator: an active Django superuser with a seat in no workspace."""
    return bool(
        user is not None and getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser
        and user.is_staff and not Membership.objects.filter(user_id=user.pk).exists()
    )


def may_sign_in(user: User) -> bool:
    """Agents with an active seat, and the operator."""
    return Membership.objects.filter(user_id=user.pk, is_active=True).exists() or is_operator(user)
