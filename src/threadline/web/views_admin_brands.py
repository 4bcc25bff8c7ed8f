"""The "Brands" screen (/app/admin/brands): brands with name, logo (uploaded, checked and stored by
tenancy.brands), colours, reply-from addresses (the workspace's own email addresses) and tone notes; which one is
the default. Logos are served to the workspace's members at /app/x/brands/<id>/logo."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from threadline.core.errors import NotFound
from threadline.tenancy.brands import LOGO_MAX_BYTES, do_delete_brand, do_save_brand, sending_addresses
from threadline.tenancy.models import Brand
from threadline.tenancy.permissions import Permission
from threadline.tenancy.queries import access_brand, list_brands
from threadline.tenancy.workspace_settings import codes
from threadline.web.admin_forms import checked, screen, submit
from threadline.web.session import agent_view
from threadline.web.views_admin import admin_screen

URL = "/app/admin/brands"


def _context(request: HttpRequest) -> dict[str, Any]:
    agent = request.agent  # type: ignore[attr-defined]
    own, domains = sending_addresses(agent.workspace_id)
    return {"brands": list_brands(agent), "own_addresses": sorted(own), "own_domains": sorted(domains),
            "logo_max_kb": LOGO_MAX_BYTES // 1024}


def _form(brand: Brand | None) -> dict[str, Any]:
    if brand is None:
        return {"primary_color": "#1d4ed8", "accent_color": "#e8efff"}
    return {"name": brand.name, "primary_color": brand.primary_color, "accent_color": brand.accent_color,
            "reply_from": "\n".join(brand.reply_from), "tone_notes": brand.tone_notes}


def _list_page(request: HttpRequest, error: Exception | None = None) -> HttpResponse:
    form = request.POST if error else _form(None)
    return screen(request, "web/admin/brands.html", {**_context(request), "form": form}, error=error)


def _brand_page(request: HttpRequest, brand: Brand, error: Exception | None = None) -> HttpResponse:
    form = request.POST if error else _form(brand)
    return screen(request, "web/admin/brand.html", {**_context(request), "brand": brand, "form": form}, error=error)


def _logo(request: HttpRequest) -> bytes | None:
    upload = request.FILES.get("logo")
    if upload is None:
        return None
    return upload.read(LOGO_MAX_BYTES + 1)  # one byte more than allowed is enough to refuse it


def _save(request: HttpRequest, brand: Brand | None) -> Any:
    data = request.POST
    return do_save_brand(
        request.agent, brand, name=data.get("name", ""),  # type: ignore[attr-defined]
        primary_color=data.get("primary_color", ""), accent_color=data.get("accent_color", ""),
        reply_from=codes(data.get("reply_from", "")), tone_notes=data.get("tone_notes", ""),
        is_default=checked(data, "is_default"), logo=_logo(request), remove_logo=checked(data, "remove_logo"))


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_WORKSPACE)
def brands_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _list_page(request)
    return submit(request, lambda: _save(request, None), _("Brand created."), URL,
                  lambda exc: _list_page(request, exc))


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_WORKSPACE)
def brand_view(request: HttpRequest, brand_id: int) -> HttpResponse:
    brand = access_brand(request.agent, brand_id)  # type: ignore[attr-defined]
    if request.method != "POST":
        return _brand_page(request, brand)
    return submit(request, lambda: _save(request, brand), _("Brand saved."), f"{URL}/{brand.pk}",
                  lambda exc: _brand_page(request, brand, exc))


@require_POST
@admin_screen(Permission.ADMIN_WORKSPACE)
def delete_view(request: HttpRequest, brand_id: int) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    brand = access_brand(agent, brand_id)
    return submit(request, lambda: do_delete_brand(agent, brand), _("Brand deleted."), URL,
                  lambda exc: _brand_page(request, brand, exc))


@require_GET
@agent_view
def logo_view(request: HttpRequest, brand_id: int) -> HttpResponse:
    """A brand's logo for any member of its workspace, with the type its bytes were found to be."""
    brand = access_brand(request.agent, brand_id)  # type: ignore[attr-defined]
    if not brand.logo:
        raise NotFound(_("This brand has no logo."), code="logo_not_found")
    try:
        handle = brand.logo.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound(_("The logo's file is missing from storage."), code="logo_missing") from exc
    response = FileResponse(handle, content_type=brand.logo_content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, max-age=300"
    return response
