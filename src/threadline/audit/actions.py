"""`record`: add one entry to the audit log. Callers record inside their own transaction, so an entry exists
exactly when the change it describes was committed.

`details` never holds secrets: keys that name one (secret, password, token, key, signature, credential) keep
their name but lose their value.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from threadline.audit import context
from threadline.audit.models import ActorKind, AuditEntry
from threadline.core.time import now
from threadline.tenancy.models import ApiToken, Membership, User

SECRET_NAME = re.compile(r"secret|passw|token|key|signature|credential|authorization|cookie", re.IGNORECASE)
HIDDEN = "[hidden]"
SYSTEM = object()  # pass as `actor` to record the installation itself even inside a request


def scrub(value: Any) -> Any:
    """`value` with the values of secret-named keys hidden, at any depth."""
    if isinstance(value, dict):
        return {str(k): HIDDEN if SECRET_NAME.search(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def _set_actor(entry: AuditEntry, actor: Any, origin: context.Origin | None) -> None:
    token = None
    if actor is SYSTEM:
        return
    if actor is None and origin is not None:
        token, actor = origin.token, origin.user
    if isinstance(actor, ApiToken):
        token, actor = actor, actor.membership
    if isinstance(actor, Membership):
        entry.actor_membership, user = actor, actor.user
        if origin is not None and origin.token is not None and origin.token.membership_id == actor.pk:
            token = origin.token
    elif isinstance(actor, User):
        user = actor
        if entry.workspace_id is not None:
            entry.actor_membership = Membership.objects.filter(workspace_id=entry.workspace_id, user=user).first()
    else:
        return
    entry.actor_user, entry.actor_label = user, user.email
    entry.actor_kind = ActorKind.USER
    if token is not None:
        entry.actor_token, entry.actor_kind = token, ActorKind.TOKEN
        entry.actor_label = f"{user.email} ({token.name})"


def record(action: str, *, workspace_id: int | None, target_type: str = "", target_id: object = "",
           details: dict[str, Any] | None = None, actor: Any = None, at: dt.datetime | None = None) -> AuditEntry:
    """Append an entry. `actor` is a Membership, User or ApiToken; None takes the current request's."""
    origin = context.current()
    entry = AuditEntry(workspace_id=workspace_id, action=action, target_type=target_type,
                       target_id=str(target_id or "")[:64], details=scrub(details or {}), created_at=at or now())
    _set_actor(entry, actor, origin)
    if origin is not None:
        entry.ip, entry.user_agent = origin.ip, origin.user_agent
    entry.save()
    return entry


def record_for_user(user: User, action: str, *, actor: Any = None, **fields: Any) -> list[AuditEntry]:
    """One entry in every workspace where `user` has a seat (an installation-wide one when they have none)."""
    workspaces = list(Membership.objects.filter(user=user).order_by("workspace_id")
                      .values_list("workspace_id", flat=True))
    return [record(action, workspace_id=workspace_id, target_type="user", target_id=user.pk,
                   actor=user if actor is None else actor, **fields)
            for workspace_id in workspaces or [None]]


def record_sign_in(email: str, *, ok: bool, user: User | None = None, reason: str = "") -> None:
    """A sign-in attempt. A failure is recorded in the workspaces of the account tried (installation-wide
    for an unknown address), with the reason (`password`, `code`); never the password or the code."""
    email = (email or "").strip().lower()[:320]
    details: dict[str, Any] = {"email": email}
    if reason:
        details["reason"] = reason
    user = user or User.objects.filter(email=email).first()
    if user is None:
        record("signin.failed", workspace_id=None, details=details, actor=SYSTEM)
    else:
        record_for_user(user, "signin.succeeded" if ok else "signin.failed", details=details,
                        actor=user if ok else SYSTEM)


def update_action(prefix: str, changed: dict[str, Any] | None) -> str:
    """`<prefix>.secret_changed` when a secret-named field is among `changed`, else `<prefix>.updated`."""
    return f"{prefix}.secret_changed" if any(SECRET_NAME.search(k) for k in changed or {}) else f"{prefix}.updated"


def record_token_use(token: ApiToken, moment: dt.datetime) -> None:
    """A token's first use of the day (later uses the same day are not recorded: they are too many)."""
    last = token.last_used_at
    if last is None or last.date() != moment.date():
        record("token.used", workspace_id=token.workspace_id, target_type="token", target_id=token.pk,
               details={"name": token.name}, actor=token, at=moment)


TARGET_TYPES = {"membership": "agent", "apitoken": "token", "webhooksubscription": "webhook",
                "contactmerge": "merge", "totpdevice": "user"}


def record_change(action: str, row: Any, details: dict[str, Any] | None = None, *, actor: Any = None) -> AuditEntry:
    """`record` for a workspace row: its workspace, its kind and id as the target."""
    name = row._meta.model_name  # noqa: SLF001 - Django's public model metadata
    return record(action, workspace_id=row.workspace_id, target_type=TARGET_TYPES.get(name, name),
                  target_id=row.pk, details=details, actor=actor)
