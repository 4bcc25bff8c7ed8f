"""REST endpoints of the consent ledger: `GET /api/v1/consent` and `POST /api/v1/consent`."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.channels.models import Channel
from threadline.consent.actions import do_record_consent
from threadline.consent.models import ConsentRecord
from threadline.consent.queries import list_records
from threadline.contacts import identities
from threadline.core.errors import NotFound
from threadline.core.schemas import Id, Input
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["consent"])


class ConsentOut(Schema):
    id: int
    channel_id: int
    identity_kind: str
    address: str
    action: str
    keyword: str
    language: str
    source: str
    note: str
    purpose: str
    created_at: dt.datetime


class ConsentIn(Input):
    channel_id: Id
    identity_kind: str = Field(max_length=16)
    address: str = Field(min_length=1, max_length=320)
    action: str = Field(description="opt_out or opt_in")
    note: str = Field(default="", max_length=2000)
    purpose: str = Field(default="", description="marketing, transactional, or empty for every purpose")


@router.get("/consent", response=responses(list[ConsentOut]))
def consent_list(request: HttpRequest, address: str = "", channel_id: Id | None = None) -> list[ConsentRecord]:
    """The consent ledger, newest first, optionally for one address and channel."""
    return list(list_records(actor(request), address=address, channel_id=channel_id)[:500])


@router.post("/consent", response=responses(ConsentOut, 201))
def consent_record(request: HttpRequest, payload: ConsentIn) -> tuple[int, ConsentRecord]:
    """Record an opt-out or opt-in an agent learnt of; an opt-out blocks sends on that channel."""
    member = actor(request)
    require(member, Permission.CONTACTS_EDIT)
    channel = Channel.objects.filter(pk=payload.channel_id, workspace_id=member.workspace_id).first()
    if channel is None:
        raise NotFound(_("No such channel."), code="channel_not_found")
    address = identities.normalize(payload.identity_kind, payload.address, region=member.workspace.default_region)
    with transaction.atomic():
        record = do_record_consent(member, channel, payload.identity_kind, address, payload.action, note=payload.note,
                                   purpose=payload.purpose)
    return Status(201, record)
