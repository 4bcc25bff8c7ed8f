"""/api/v1/crm: HubSpot and Salesforce connections (admins: set up, then sign in with OAuth 2), a contact's CRM
records (agents), a sync on demand, and the sync log with every conflict (admins)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import PageQuery, page, paginate
from threadline.contacts.queries import access_contact
from threadline.core.schemas import Id
from threadline.crm.actions import do_disconnect, do_prepare_connection
from threadline.crm.models import CrmConnection, CrmLink, CrmSyncLog, Provider
from threadline.crm.oauth import authorize_url
from threadline.crm.queries import access_connection, active_connections, links_of, list_connections, sync_log
from threadline.crm.schemas import CrmConfiguredOut, CrmConnectionIn, CrmConnectionOut, CrmLinkOut, CrmLogPage
from threadline.crm.sync import link_contact
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["crm"])


def _link_out(link: CrmLink) -> dict[str, Any]:
    return {"provider": link.connection.provider, "external_id": link.external_id, "url": link.url,
            "company": link.company, "owner": link.owner, "synced_at": link.synced_at}


def _log_out(row: CrmSyncLog) -> dict[str, Any]:
    return {"id": row.pk, "provider": row.connection.provider, "contact_id": row.contact_id, "kind": row.kind,
            "field": row.field, "ours": row.ours, "theirs": row.theirs, "kept": row.kept, "detail": row.detail,
            "created_at": row.created_at}


@router.get("/connections", response=responses(list[CrmConnectionOut]), summary="The workspace's CRMs (admins)")
def connections(request: HttpRequest) -> list[CrmConnection]:
    return list(list_connections(actor(request)))


@router.put("/connections/{provider}", response=responses(CrmConfiguredOut),
            summary="Set up HubSpot or Salesforce (admins); then open authorize_url to give access")
def configure(request: HttpRequest, provider: Provider, payload: CrmConnectionIn) -> dict[str, Any]:
    agent = actor(request)
    with transaction.atomic():
        connection = do_prepare_connection(agent, provider=provider.value, **payload.model_dump())
    return {**CrmConnectionOut.from_orm(connection).model_dump(), "authorize_url": authorize_url(connection, agent.pk)}


@router.delete("/connections/{provider}", response=responses(None, 204), summary="Disconnect a CRM (admins)")
def disconnect(request: HttpRequest, provider: Provider) -> Status[None]:
    agent = actor(request)
    with transaction.atomic():
        do_disconnect(agent, access_connection(agent, provider.value))
    return Status(204, None)


@router.get("/contacts/{contact_id}", response=responses(list[CrmLinkOut]), summary="A contact's CRM records")
def contact_links(request: HttpRequest, contact_id: Id) -> list[dict[str, Any]]:
    return [_link_out(link) for link in links_of(access_contact(actor(request), contact_id))]


@router.post("/contacts/{contact_id}/sync", response=responses(list[CrmLinkOut]),
             summary="Match the contact in each connected CRM now (by email, then phone) and refresh what is shown")
def sync_contact(request: HttpRequest, contact_id: Id) -> list[dict[str, Any]]:
    agent = actor(request)
    require(agent, Permission.CONTACTS_EDIT)
    contact = access_contact(agent, contact_id)
    for connection in active_connections(agent.workspace_id):
        link_contact(connection, contact)
    return [_link_out(link) for link in links_of(contact)]


@router.get("/log", response=responses(CrmLogPage), summary="The sync log, newest first, conflicts with both values (admins)")
def log(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    rows, cursor = paginate(sync_log(actor(request)), cursor=paging.cursor, limit=paging.limit)
    return page([_log_out(row) for row in rows], cursor)
