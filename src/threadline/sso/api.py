"""The workspace's single sign-on settings, for members whose role grants the security settings:

    GET|PUT|DELETE /sso     the identity provider (the client secret is write-only)
    POST /sso/test          reach the provider now and say what it publishes
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from threadline.api.auth import actor
from threadline.api.errors import responses
from threadline.core.errors import NotFound, ValidationFailed
from threadline.sso.actions import do_delete_provider, do_save_provider
from threadline.sso.connection import check_connection
from threadline.sso.errors import SsoFailed
from threadline.sso.models import IdentityProvider
from threadline.sso.queries import access_provider
from threadline.sso.schemas import SsoProviderIn, SsoProviderOut, SsoTestOut

router = Router(tags=["single sign-on"])


def _provider(request: HttpRequest) -> IdentityProvider:
    provider = access_provider(actor(request))
    if provider is None:
        raise NotFound("No single sign-on is set up for this workspace.", code="not_found")
    return provider


@router.get("", response=responses(SsoProviderOut), summary="The workspace's identity provider")
def get_provider(request: HttpRequest) -> IdentityProvider:
    return _provider(request)


@router.put("", response=responses(SsoProviderOut), summary="Set up or change the identity provider")
def put_provider(request: HttpRequest, payload: SsoProviderIn) -> IdentityProvider:
    changes = payload.model_dump(exclude={"client_secret"})
    with transaction.atomic():
        return do_save_provider(actor(request), changes, client_secret=payload.client_secret)


@router.delete("", response=responses(None, 204), summary="Remove single sign-on")
def delete_provider(request: HttpRequest) -> Status[Any]:
    _provider(request)
    with transaction.atomic():
        do_delete_provider(actor(request))
    return Status(204, None)


@router.post("/test", response=responses(SsoTestOut), summary="Test the connection to the identity provider")
def test_provider(request: HttpRequest) -> dict[str, str]:
    provider = _provider(request)
    try:
        return check_connection(provider)
    except SsoFailed as failure:
        raise ValidationFailed(f"The connection test failed: {failure.detail or failure.reason}",
                               code="sso_unreachable") from failure
