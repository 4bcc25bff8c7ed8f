"""Writes of panel apps: an admin adds, changes or removes one; an action an agent ran is recorded on the
conversation's timeline and in the audit log."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from threadline.audit.actions import record
from threadline.conversations.actions import do_add_system_note
from threadline.conversations.models import Conversation
from threadline.core import crypto, http
from threadline.core.errors import ValidationFailed
from threadline.panelapps.models import PanelApp
from threadline.panelapps.registry import SECRETS
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def check_app(kind: Any, name: Any, base_url: Any) -> tuple[str, str, str]:
    kind, name, base_url = str(kind or ""), str(name or "").strip(), str(base_url or "").strip()
    if kind not in PanelApp.Kind.values:
        raise ValidationFailed(_("Choose the kind of app."), field="kind")
    if not name or len(name) > 80:
        raise ValidationFailed(_("Give the app a name of at most 80 characters."), field="name")
    if not base_url.startswith(("https://", "http://")) or len(base_url) > 300:
        raise ValidationFailed(_("The app's address must be an https URL."), field="base_url")
    http.refuse_private_url(base_url, field="base_url")
    return kind, name, base_url


def do_save_app(actor: Membership, app: PanelApp | None, *, kind: Any, name: Any, base_url: Any,
                secrets: dict[str, Any] | None = None, is_active: bool = True, position: int = 0) -> PanelApp:
    """Add (`app` None) or change an app. Secrets not given keep their stored value; a new app needs all."""
    require(actor, Permission.ADMIN_WORKSPACE)
    kind, name, base_url = check_app(kind, name, base_url)
    stored = crypto.decrypt_json(app.secrets_encrypted) if app is not None and app.kind == kind else {}
    given = {key: str(value).strip() for key, value in (secrets or {}).items() if key in SECRETS[kind] and value}
    merged = {**stored, **given}
    missing = [key for key in SECRETS[kind] if not merged.get(key)]
    if missing:
        raise ValidationFailed(_("Give the app's %(names)s.") % {"names": ", ".join(missing)}, field=missing[0])
    app = app or PanelApp(workspace_id=actor.workspace_id)
    app.kind, app.name, app.base_url, app.is_active, app.position = kind, name, base_url, bool(is_active), position
    app.secrets_encrypted = crypto.encrypt_json(merged)
    app.save()
    record("panel_app.saved", workspace_id=actor.workspace_id, target_type="panel_app", target_id=app.pk,
           details={"kind": kind, "name": name, "base_url": base_url, "secrets_changed": sorted(given)}, actor=actor)
    return app


def do_delete_app(actor: Membership, app: PanelApp) -> None:
    require(actor, Permission.ADMIN_WORKSPACE)
    record("panel_app.deleted", workspace_id=actor.workspace_id, target_type="panel_app", target_id=app.pk,
           details={"name": app.name}, actor=actor)
    app.delete()


def check_can_run_actions(actor: Membership) -> None:
    require(actor, Permission.ASSIGN)


def do_record_action(actor: Membership, conversation: Conversation, app: PanelApp, action_id: str,
                     message: str) -> None:
    """After the app ran it: a note on the timeline (who, what the app said) and an audit entry."""
    check_can_run_actions(actor)
    do_add_system_note(conversation, _("%(app)s: %(message)s (by %(agent)s)") % {
        "app": app.name, "message": message, "agent": actor.user.email})
    record("panel_app.action_run", workspace_id=actor.workspace_id, target_type="conversation",
           target_id=conversation.pk, details={"app": app.name, "action": action_id, "message": message}, actor=actor)
