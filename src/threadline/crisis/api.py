"""/api/v1/crises: the workspace's crises, newest first (conversations.view), one crisis, and closing one by hand
(admin.automations)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.api.pagination import page, paginate
from threadline.core.schemas import Id
from threadline.crisis.actions import do_close_crisis
from threadline.crisis.models import Crisis
from threadline.crisis.queries import access_crisis, crises, describe
from threadline.crisis.schemas import CrisisOut, CrisisPage, CrisisQuery
from threadline.tenancy.permissions import Permission

router = Router(tags=["crisis"])


def crisis_out(crisis: Crisis) -> dict[str, Any]:
    return {"id": crisis.pk, "key": crisis.key, "kind": crisis.kind, "status": crisis.status,
            "description": describe(crisis), "opened_at": crisis.opened_at, "closed_at": crisis.closed_at,
            "closed_why": crisis.closed_why, "mentions": crisis.mentions, "why": crisis.why,
            "holding_reply_id": crisis.holding_reply_id}


@router.get("", response=responses(CrisisPage), summary="List the crises, newest first")
def list_crises(request: HttpRequest, query: Query[CrisisQuery]) -> dict[str, Any]:
    rows, cursor = paginate(crises(actor(request), status=query.status), cursor=query.cursor, limit=query.limit)
    return page([crisis_out(c) for c in rows], cursor)


@router.get("/{crisis_id}", response=responses(CrisisOut), summary="One crisis with the figures that opened it")
def crisis_detail(request: HttpRequest, crisis_id: Id) -> dict[str, Any]:
    return crisis_out(access_crisis(actor(request), crisis_id))


@router.post("/{crisis_id}/close", response=responses(CrisisOut), summary="Close a crisis (admin.automations)")
def close_crisis(request: HttpRequest, crisis_id: Id) -> dict[str, Any]:
    agent = actor(request)
    with transaction.atomic():
        crisis = do_close_crisis(agent, access_crisis(agent, crisis_id, Permission.ADMIN_AUTOMATIONS))
    return crisis_out(crisis)
