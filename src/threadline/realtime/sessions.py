"""Closing agent sockets when what authenticated them ends: sign-out, deactivation, a password change.

A socket is authenticated once, at connect, with the session cookie. So that it does not outlive the
session: sign-out closes the sockets of that session (`close_session_sockets`), a password change every
socket of the person (`close_user_sockets`; the tab that changed it reconnects with its renewed session),
and deactivating an agent closes their sockets when the `agent.updated` event reaches them. As a safety net
each heartbeat (`ping`) rechecks the session (`still_signed_in`): gone, a different password, an inactive
seat or account all close the socket with 4401.
"""

from __future__ import annotations

from typing import Any

from threadline.realtime.dispatch import send_to_group
from threadline.realtime.groups import session_group, user_group

CLOSE = {"type": "session.close"}
CLOSE_CODE = 4401


def close_session_sockets(session_key: str | None) -> None:
    if session_key:
        send_to_group(session_group(session_key), CLOSE)


def close_user_sockets(user_id: int) -> None:
    send_to_group(user_group(user_id), CLOSE)


def auth_hash(session: Any) -> str:
    from django.contrib.auth import HASH_SESSION_KEY

    return (session.get(HASH_SESSION_KEY) or "") if session is not None else ""


def still_signed_in(membership_id: int, session_key: str | None, signed_hash: str) -> bool:
    """The seat and account are active, the session still exists and was made with the current password."""
    from importlib import import_module

    from django.conf import settings
    from django.utils.crypto import constant_time_compare

    from threadline.tenancy.models import Membership

    seat = Membership.objects.select_related("user").filter(pk=membership_id).first()
    if seat is None or not seat.is_active or not seat.user.is_active:
        return False
    if session_key is None:
        return True
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not store().exists(session_key):
        return False
    return constant_time_compare(signed_hash, seat.user.get_session_auth_hash())
