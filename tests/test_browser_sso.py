"""In headless Chromium against a real `threadline serve` and a real OpenID Connect provider (pyop over HTTP):
a new person finds their workspace's single sign-on from their work email on the sign-in page, goes through the
provider and lands in the inbox as a just-in-time agent; the "Sign-in and single sign-on" screen fits a phone in
Hebrew (right to left) and a desktop in English. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import pytest

from threadline.sso.tests.oidc_idp import OidcIdp, running
from threadline.testing.server import migrated_copy
from threadline.web.testkit import ADMIN_EMAIL, screenshot, sign_in, threadline_server

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
SET_UP = """
from django.db import transaction
from threadline.sso.actions import do_save_provider
from threadline.tenancy.models import Membership
admin = Membership.objects.select_related("workspace").get(user__email={admin!r})
with transaction.atomic():
    do_save_provider(admin, {{"kind": "oidc", "name": "Acme Okta", "issuer": {issuer!r}, "client_id": "threadline",
                             "allowed_domains": ["acme.test"], "jit_enabled": True, "jit_role": "agent"}},
                     client_secret={secret!r})
print(admin.workspace.slug)
"""


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("sso") / "data"
    with migrated_copy(request, tmp_path_factory, data_dir) as url, threadline_server(data_dir, url) as proc:
        yield proc


@pytest.fixture(scope="module")
def public_url(server):
    """Where the server says it is (THREADLINE_PUBLIC_URL, else the URL it serves on): the browser must use
    that host too, or the callback would come back to a host without the browser's session cookie."""
    return server.shell("from django.conf import settings; print(settings.PUBLIC_URL)")


@pytest.fixture(scope="module")
def idp(server, public_url):
    slug = server.shell("from threadline.tenancy.models import Membership; "
                        f"print(Membership.objects.get(user__email={ADMIN_EMAIL!r}).workspace.slug)")
    users = {"dana": {"sub": "dana-1", "email": "dana@acme.test", "email_verified": True, "name": "Dana Levi"}}
    with running(OidcIdp(redirect_uris=[f"{public_url}/login/sso/{slug}/callback"], users=users,
                         login_as="dana")) as provider:
        assert server.shell(SET_UP.format(admin=ADMIN_EMAIL, issuer=provider.base,
                                          secret=provider.client_secret)) == slug
        yield provider


def test_a_new_agent_signs_in_through_the_provider_from_the_sign_in_page(server, browser, idp, public_url):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{public_url}/login")
    assert page.evaluate(OVERFLOW) <= 0
    page.fill("input[name=who]", "dana@acme.test")
    page.click("form.sso-find button[type=submit]")
    page.wait_for_load_state()
    assert page.evaluate(OVERFLOW) <= 0
    screenshot(page, "sso-choice-390")
    page.click("ul.sso-choices a")  # a link: the provider's redirect is not a form's (CSP form-action)
    page.wait_for_url(f"{public_url}/app/**")
    assert "Dana Levi" in page.content() or "dana@acme.test" in page.content()
    screenshot(page, "sso-signed-in-390")
    assert server.shell("from threadline.tenancy.models import Membership; "
                        "print(Membership.objects.get(user__email='dana@acme.test').role)") == "agent"


@pytest.mark.parametrize(("language", "width", "height"), [("he", 390, 844), ("en", 1280, 800)])
def test_the_screen_fits_the_window_in_both_directions(server, browser, idp, language, width, height):
    server.shell("from threadline.tenancy.models import User; "
                 f"User.objects.filter(email={ADMIN_EMAIL!r}).update(language={language!r})")
    page = browser.new_page(viewport={"width": width, "height": height})
    sign_in(page, server.url)
    page.goto(f"{server.url}/app/admin/security")
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "he" else "ltr")
    assert page.evaluate(OVERFLOW) <= 0, f"the screen is wider than {width}px"
    assert page.locator("input[name=client_secret]").input_value() == ""
    page.locator("form.stack").scroll_into_view_if_needed()
    screenshot(page, f"admin-security-{language}-{width}")
    page.click("form[action='/app/admin/security/test'] button")
    page.wait_for_load_state()
    assert f"{idp.base}/authorize" in page.content()
