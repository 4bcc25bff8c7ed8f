"""Reads of panel apps: the workspace's list (admins) and the active ones a conversation's panel shows."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.core.errors import NotFound
from threadline.panelapps.models import PanelApp
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def list_apps(actor: Membership) -> QuerySet[PanelApp]:
    require(actor, Permission.ADMIN_WORKSPACE)
    return PanelApp.objects.filter(workspace_id=actor.workspace_id)


def access_app(actor: Membership, app_id: int) -> PanelApp:
    app = list_apps(actor).filter(pk=app_id).first()
    if app is None:
        raise NotFound(_("No such app."), code="app_not_found")
    return app


def active_apps(workspace_id: int) -> list[PanelApp]:
    return list(PanelApp.objects.filter(workspace_id=workspace_id, is_active=True))


def access_active_app(actor: Membership, app_id: int) -> PanelApp:
    """An active app of the actor's workspace (any member who sees the conversation sees its cards)."""
    app = PanelApp.objects.filter(workspace_id=actor.workspace_id, is_active=True, pk=app_id).first()
    if app is None:
        raise NotFound(_("No such app."), code="app_not_found")
    return app
