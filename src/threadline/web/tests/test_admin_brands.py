"""The Brands screen (/app/admin/brands): name, logo upload (type and size checked, served with the type found),
colours, reply-from addresses that must be the workspace's own, tone notes, the default brand."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from threadline.channels.email.claims import do_verify_domain
from threadline.channels.email.models import EmailClaim
from threadline.channels.email.testkit import make_email_channel
from threadline.tenancy.brands import LOGO_MAX_BYTES
from threadline.tenancy.models import Brand
from threadline.testing import factories
from threadline.web.tests.admin_helpers import audited, members, signed_in

URL = "/app/admin/brands"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 30


def _form(**extra):
    return {"name": "Northwind", "primary_color": "#AA0000", "accent_color": "#00aa00",
            "reply_from": "support@acme.test", "tone_notes": "Warm, first names, no jargon.", **extra}


@pytest.fixture
def email(admin):
    return make_email_channel(admin, "support@acme.test", aliases=["help@acme.test"])


def test_an_admin_creates_a_brand_with_a_logo_and_it_is_served_with_its_type(client, admin, email):
    signed_in(client, admin)
    page = client.get(URL).content.decode()
    assert "help@acme.test" in page and "support@acme.test" in page  # the addresses one may choose
    answer = client.post(URL, _form(logo=SimpleUploadedFile("logo.txt", PNG, content_type="text/plain"),
                                    reply_from="support@acme.test\nhelp@acme.test"))
    assert answer.status_code == 302
    brand = Brand.objects.get(name="Northwind")
    assert (brand.primary_color, brand.accent_color, brand.logo_content_type) == ("#aa0000", "#00aa00", "image/png")
    assert brand.reply_from == ["support@acme.test", "help@acme.test"]
    assert brand.tone_notes == "Warm, first names, no jargon." and not brand.is_default
    logo = client.get(f"/app/x/brands/{brand.pk}/logo")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content) == PNG and logo["X-Content-Type-Options"] == "nosniff"
    agent = members(admin)["agent"]
    signed_in(client, agent)
    assert client.get(f"/app/x/brands/{brand.pk}/logo").status_code == 200  # agents see logos, not the screen
    entry, = audited(admin.workspace_id, "brand.created")
    assert entry.details["name"] == "Northwind" and entry.actor_membership_id == admin.pk


def test_edit_replace_and_remove_the_logo_make_default_and_delete(client, admin, email,
                                                                 django_capture_on_commit_callbacks):
    signed_in(client, admin)
    client.post(URL, _form(logo=SimpleUploadedFile("a.png", PNG, content_type="image/png")))
    brand = Brand.objects.get(name="Northwind")
    first = brand.logo.name
    with django_capture_on_commit_callbacks(execute=True):  # the replaced file goes once the change is committed
        answer = client.post(f"{URL}/{brand.pk}", _form(
            name="Northwind EU", is_default="1", logo=SimpleUploadedFile("b.webp", WEBP, content_type="image/webp")))
    assert answer.status_code == 302
    brand.refresh_from_db()
    assert (brand.name, brand.is_default, brand.logo_content_type) == ("Northwind EU", True, "image/webp")
    assert brand.logo.name != first and not brand.logo.storage.exists(first)
    assert list(Brand.objects.filter(workspace_id=admin.workspace_id, is_default=True)) == [brand]
    refused = client.post(f"{URL}/{brand.pk}/delete")
    assert refused.status_code == 409 and "default brand cannot be deleted" in refused.content.decode()
    client.post(f"{URL}/{brand.pk}", _form(name="Northwind EU", remove_logo="1"))
    brand.refresh_from_db()
    assert not brand.logo and client.get(f"/app/x/brands/{brand.pk}/logo").status_code == 404
    original = Brand.objects.get(name="Acme Support")
    client.post(f"{URL}/{original.pk}", {**_form(name="Acme Support"), "is_default": "1"})
    assert client.post(f"{URL}/{brand.pk}/delete").status_code == 302
    assert not Brand.objects.filter(pk=brand.pk).exists()
    assert [e.action for e in audited(admin.workspace_id, "brand.deleted")] == ["brand.deleted"]
    assert len(audited(admin.workspace_id, "brand.updated")) == 3


@pytest.mark.parametrize(("extra", "status", "reason"), [
    ({"logo": ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")}, 400,
     "A logo is a PNG, JPEG, GIF or WebP image."),
    ({"logo": ("logo.png", b"MZ\x90\x00 not a png")}, 400, "A logo is a PNG, JPEG, GIF or WebP image."),
    ({"logo": ("big.png", PNG + b"\x00" * LOGO_MAX_BYTES)}, 400, "A logo is at most 512 KB."),
    ({"primary_color": "red"}, 400, "A colour is written #rrggbb"),
    ({"reply_from": "ceo@elsewhere.example"}, 400, "Not an address of this workspace"),
    ({"reply_from": "not an address"}, 400, "Enter a valid email address."),
    ({"name": ""}, 400, "A brand needs a name"),
    ({"name": "Acme Support"}, 409, "A brand with this name exists already."),
])
def test_invalid_brands_are_refused_and_nothing_is_stored(client, admin, email, extra, status, reason):
    signed_in(client, admin)
    if "logo" in extra:
        name, content = extra.pop("logo")
        extra["logo"] = SimpleUploadedFile(name, content, content_type="image/png")
    answer = client.post(URL, _form(**extra))
    assert answer.status_code == status and reason in answer.content.decode()
    assert list(Brand.objects.filter(workspace_id=admin.workspace_id).values_list("name", flat=True)) == [
        "Acme Support"]


def test_addresses_in_a_verified_domain_may_reply_and_unverified_ones_may_not(client, admin):
    make_email_channel(admin, "support@acme.test", catch_all_domains=["shop.acme.test"])
    signed_in(client, admin)
    refused = client.post(URL, _form(reply_from="orders@shop.acme.test"))
    assert refused.status_code == 400
    with transaction.atomic():
        do_verify_domain(EmailClaim.objects.get(value="shop.acme.test"), proven=True, by="operator")
    assert client.post(URL, _form(reply_from="orders@shop.acme.test")).status_code == 302


def test_another_workspaces_brand_answers_404_and_is_unchanged(client, admin, email):
    other = factories.make_workspace(name="Other Co")
    theirs = Brand.objects.get(workspace_id=other.workspace_id)
    signed_in(client, admin)
    assert "Other Co" not in client.get(URL).content.decode()
    assert client.get(f"{URL}/{theirs.pk}").status_code == 404
    assert client.post(f"{URL}/{theirs.pk}", _form(name="Taken")).status_code == 404
    assert client.post(f"{URL}/{theirs.pk}/delete").status_code == 404
    assert client.get(f"/app/x/brands/{theirs.pk}/logo").status_code == 404
    # Another workspace's email address is not ours to reply from either.
    make_email_channel(other, "desk@other.test")
    assert client.post(URL, _form(reply_from="desk@other.test")).status_code == 400
    theirs.refresh_from_db()
    assert theirs.name == "Other Co"


@pytest.mark.parametrize("role", ["agent", "light"])
def test_agents_and_light_agents_are_refused(client, admin, email, role):
    people = members(admin)
    brand = Brand.objects.get(workspace_id=admin.workspace_id)
    signed_in(client, people[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, _form()).status_code == 403
    assert client.post(f"{URL}/{brand.pk}", _form(name="Hijacked")).status_code == 403
    assert client.post(f"{URL}/{brand.pk}/delete").status_code == 403
    assert list(Brand.objects.values_list("name", flat=True)) == ["Acme Support"]
