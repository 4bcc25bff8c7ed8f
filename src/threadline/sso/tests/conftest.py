from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pyotp
import pytest
from django.db import transaction

from threadline.realtime.testkit import realtime  # noqa: F401
from threadline.sso.actions import do_save_provider
from threadline.sso.models import IdentityProvider
from threadline.sso.tests.oidc_idp import OidcIdp, running
from threadline.tenancy.models import Membership
from threadline.web.actions import do_start_totp, do_verify_totp, totp_secret
from threadline.web.models import TotpDevice

PUBLIC_URL = "http://testserver"
DANA = {"sub": "dana-0001", "email": "dana@acme.test", "email_verified": True, "name": "Dana Levi"}


@pytest.fixture(autouse=True)
def _own_cache(realtime, settings):  # noqa: F811
    """Throttles live in the cache: each test gets one of its own. Our public URL is the test client's."""
    settings.PUBLIC_URL = PUBLIC_URL
    yield


def callback_for(slug: str) -> str:
    return f"{PUBLIC_URL}/login/sso/{slug}/callback"


def start_idp(slug: str, **users: dict) -> Iterator[OidcIdp]:
    with running(OidcIdp(redirect_uris=[callback_for(slug)], users={"dana": dict(DANA), **users})) as idp:
        yield idp


@pytest.fixture
def idp(admin) -> Iterator[OidcIdp]:
    yield from start_idp(admin.workspace.slug)


def configure(admin: Membership, idp: OidcIdp, **settings: object) -> IdentityProvider:
    """Save the provider as `admin`; requiring single sign-on first gives the admin an authenticator (the
    action asks for one: it is the break-glass way in)."""
    if settings.get("enforce") and not TotpDevice.objects.filter(user=admin.user).exists():
        enrol_totp(admin)
    fields = {"kind": "oidc", "name": "Acme Okta", "issuer": idp.base, "client_id": idp.client_id, **settings}
    with transaction.atomic():
        return do_save_provider(admin, fields, client_secret=idp.client_secret)


def sso_sign_in(client, slug: str, idp: OidcIdp, who: str = "dana", *, next_url: str = ""):
    """The browser's round trip: our start page, the provider's authorization endpoint (over real HTTP), and
    back to our callback with the provider's code. Returns our callback's answer."""
    idp.login_as = who
    start = client.get(f"/login/sso/{slug}" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start.content
    assert start["Location"].startswith(f"{idp.base}/authorize?")
    at_idp = httpx.get(start["Location"], follow_redirects=False)
    assert at_idp.status_code == 302, at_idp.text
    back = urlparse(at_idp.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == callback_for(slug)
    return client.get(f"{back.path}?{back.query}")


def enrol_totp(membership: Membership) -> pyotp.TOTP:
    with transaction.atomic():
        do_start_totp(membership.user)
        device = TotpDevice.objects.get(user=membership.user)
        totp = pyotp.TOTP(totp_secret(device))
        do_verify_totp(device, totp.now())
    return totp
