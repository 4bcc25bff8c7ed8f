"""REST endpoints for WhatsApp templates: list the synced ones, and sync them from the Business Account."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from threadline.api.auth import actor
from threadline.api.errors import ErrorOut, responses
from threadline.channels.base import ChannelError
from threadline.channels.models import Channel
from threadline.channels.whatsapp.models import MessageTemplate
from threadline.channels.whatsapp.templates import do_sync_templates
from threadline.core.errors import NotFound, ThreadlineError
from threadline.core.schemas import Id
from threadline.tenancy.permissions import Permission, require

router = Router(tags=["whatsapp"])


class ProviderError(ThreadlineError):
    status = 502
    code = "provider_error"


class TemplateOut(Schema):
    name: str
    language: str
    category: str
    status: str
    variables: int
    components: list[dict]


class SyncOut(Schema):
    synced: int


def _channel(request: HttpRequest, channel_id: Id) -> Channel:
    channel = Channel.objects.filter(pk=channel_id, workspace_id=actor(request).workspace_id, kind="whatsapp").first()
    if channel is None:
        raise NotFound(_("No such WhatsApp channel."), code="channel_not_found")
    return channel


@router.get("/whatsapp/{channel_id}/templates", response=responses(list[TemplateOut]))
def template_list(request: HttpRequest, channel_id: Id) -> list[MessageTemplate]:
    """Templates of this number as last synced, with their approval status and variable count."""
    return list(MessageTemplate.objects.filter(channel=_channel(request, channel_id)).order_by("name", "language"))


@router.post("/whatsapp/{channel_id}/templates/sync", response={**responses(SyncOut), 502: ErrorOut})
def template_sync(request: HttpRequest, channel_id: Id) -> dict[str, int]:
    """Fetch the Business Account's templates from Meta now (admins); 502 when Meta cannot be reached."""
    require(actor(request), Permission.ADMIN_CHANNELS)
    channel = _channel(request, channel_id)
    try:
        with transaction.atomic():
            return {"synced": do_sync_templates(channel)}
    except ChannelError as exc:
        raise ProviderError(_("Meta answered: %(error)s") % {"error": exc}) from exc
