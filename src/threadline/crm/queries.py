"""Reads of CRM sync: the workspace's connections and log (admins), a contact's CRM records (agents)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.contacts.models import Contact
from threadline.core.errors import NotFound
from threadline.crm.models import CrmConnection, CrmLink, CrmSyncLog
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def list_connections(actor: Membership) -> QuerySet[CrmConnection]:
    require(actor, Permission.ADMIN_WORKSPACE)
    return CrmConnection.objects.filter(workspace_id=actor.workspace_id).order_by("provider")


def access_connection(actor: Membership, provider: str) -> CrmConnection:
    connection = list_connections(actor).filter(provider=provider).first()
    if connection is None:
        raise NotFound(_("This CRM is not set up."), code="crm_not_configured")
    return connection


def sync_log(actor: Membership) -> QuerySet[CrmSyncLog]:
    require(actor, Permission.ADMIN_WORKSPACE)
    return CrmSyncLog.objects.filter(workspace_id=actor.workspace_id).select_related("connection", "contact")


def active_connections(workspace_id: int) -> list[CrmConnection]:
    return list(CrmConnection.objects.select_related("workspace").filter(workspace_id=workspace_id, is_active=True))


def links_of(contact: Contact) -> QuerySet[CrmLink]:
    """The CRM records of a contact the caller reached through an access_* lookup."""
    return CrmLink.objects.filter(workspace_id=contact.workspace_id, contact=contact,
                                  connection__is_active=True).select_related("connection")
