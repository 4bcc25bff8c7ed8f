"""Writes for brands: name, logo, colours, the addresses replies are sent from, tone notes, the default brand.
Callers own the transaction; every change is audited (`brand.created`, `brand.updated`, `brand.deleted`).

A logo is stored like an attachment (outside the database, under a random name) after its bytes are checked: a
PNG, JPEG, GIF or WebP image (recognised by its signature, whatever the upload claimed; SVG is refused, it can
carry scripts) of at most LOGO_MAX_BYTES. It is served with the type found, `nosniff` and a sandbox policy.

Reply-from addresses must be the workspace's own: an address one of its email channels receives on, or an
address in a catch-all domain it has verified. The email claims are read through the app registry, so tenancy
does not import a channel kind.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.core.errors import Conflict, ValidationFailed
from threadline.tenancy.actions import check_email
from threadline.tenancy.models import Brand, Membership
from threadline.tenancy.permissions import Permission, require

LOGO_MAX_BYTES = 512 * 1024
COLOR = re.compile(r"#[0-9a-f]{6}")
MAX_REPLY_FROM = 20
MAX_TONE = 5000


def sniff_image(content: bytes) -> str | None:
    """The image type the bytes' signature says, among the ones a logo may be; None otherwise."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_logo(content: bytes) -> str:
    if len(content) > LOGO_MAX_BYTES:
        raise ValidationFailed(_("A logo is at most %(kb)d KB.") % {"kb": LOGO_MAX_BYTES // 1024},
                               code="logo_too_large", field="logo")
    content_type = sniff_image(content)
    if content_type is None:
        raise ValidationFailed(_("A logo is a PNG, JPEG, GIF or WebP image."), code="logo_type", field="logo")
    return content_type


def check_color(value: str, field: str) -> str:
    value = (value or "").strip().lower()
    if not COLOR.fullmatch(value):
        raise ValidationFailed(_("A colour is written #rrggbb, such as #1d4ed8."), code="invalid_color", field=field)
    return value


def sending_addresses(workspace_id: int) -> tuple[set[str], set[str]]:
    """The workspace's own email addresses, and its verified catch-all domains."""
    try:
        claims = apps.get_model("email_channel", "EmailClaim").objects.filter(workspace_id=workspace_id)
    except LookupError:  # an installation without the email channel
        return set(), set()
    addresses = set(claims.filter(kind="address").values_list("value", flat=True))
    domains = set(claims.filter(kind="domain", verified_at__isnull=False).values_list("value", flat=True))
    return {a.lower() for a in addresses}, {d.lower() for d in domains}


def check_reply_from(workspace_id: int, addresses: list[str]) -> list[str]:
    clean = list(dict.fromkeys(check_email(address) for address in addresses if address.strip()))
    if len(clean) > MAX_REPLY_FROM:
        raise ValidationFailed(_("At most %(n)d addresses.") % {"n": MAX_REPLY_FROM}, field="reply_from")
    own, domains = sending_addresses(workspace_id)
    foreign = [a for a in clean if a not in own and a.rpartition("@")[2] not in domains]
    if foreign:
        raise ValidationFailed(
            _("Not an address of this workspace's email channels or verified domains: %(addresses)s.")
            % {"addresses": ", ".join(foreign)}, code="reply_from_not_owned", field="reply_from")
    return clean


def check_name(workspace_id: int, brand: Brand | None, name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed(_("A brand needs a name of up to 200 characters."), code="invalid_name", field="name")
    clash = Brand.objects.filter(workspace_id=workspace_id, name=name).exclude(pk=brand.pk if brand else None)
    if clash.exists():
        raise Conflict(_("A brand with this name exists already."), code="brand_exists", field="name")
    return name


def _delete_file_after_commit(name: str) -> None:
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


def do_save_brand(actor: Membership, brand: Brand | None, *, name: str, primary_color: str, accent_color: str,
                  reply_from: list[str], tone_notes: str = "", is_default: bool = False,
                  logo: bytes | None = None, remove_logo: bool = False) -> Brand:
    """Create (`brand=None`) or change a brand. Making it the default takes that from the others; the default
    brand stays the default until another one is made the default."""
    require(actor, Permission.ADMIN_WORKSPACE)
    workspace_id = actor.workspace_id
    fields: dict[str, Any] = {
        "name": check_name(workspace_id, brand, name),
        "primary_color": check_color(primary_color, "primary_color"),
        "accent_color": check_color(accent_color, "accent_color"),
        "reply_from": check_reply_from(workspace_id, reply_from),
        "tone_notes": (tone_notes or "").strip()[:MAX_TONE],
    }
    logo_type = check_logo(logo) if logo else None
    created = brand is None
    brand = brand or Brand(workspace_id=workspace_id)
    changed = [field for field, value in fields.items() if getattr(brand, field) != value]
    for field, value in fields.items():
        setattr(brand, field, value)
    if is_default and not brand.is_default:
        brand.is_default = True
        changed.append("is_default")
    old_logo = brand.logo.name if brand.logo else ""
    if logo_type is not None or (remove_logo and old_logo):
        _delete_file_after_commit(old_logo)
        brand.logo, brand.logo_content_type = None, ""
        changed.append("logo")
    if logo_type is not None:
        brand.logo.save(uuid.uuid4().hex, ContentFile(logo), save=False)  # type: ignore[arg-type]
        brand.logo_content_type = logo_type
    if not created and not changed:
        return brand
    brand.save()
    if brand.is_default:
        Brand.objects.filter(workspace_id=workspace_id, is_default=True).exclude(pk=brand.pk).update(is_default=False)
    record_change("brand.created" if created else "brand.updated", brand,
                  {"name": brand.name, "changed": sorted(set(changed))}, actor=actor)
    return brand


def do_delete_brand(actor: Membership, brand: Brand) -> None:
    """Delete a brand (its conversations keep no brand); the default brand cannot be deleted."""
    require(actor, Permission.ADMIN_WORKSPACE)
    if brand.is_default:
        raise Conflict(_("The default brand cannot be deleted; make another brand the default first."),
                       code="default_brand")
    _delete_file_after_commit(brand.logo.name if brand.logo else "")
    record_change("brand.deleted", brand, {"name": brand.name}, actor=actor)
    brand.delete()
