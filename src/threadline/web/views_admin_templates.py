"""The "Message templates" screen (/app/admin/templates): the workspace's automatic replies and notifications with
their language variants (subject for email, text), and each WhatsApp number's templates as last synced from the
Business Account (name, language, category, approval status, variables) with when they were synced and a "Sync
now" button. Writes are the replies domain's and the WhatsApp channel's; both are audited."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from threadline.audit.actions import record_change
from threadline.channels.base import ChannelError
from threadline.channels.queries import access_channel, list_channels
from threadline.channels.registry import adapter_for
from threadline.core.errors import NotFound, ThreadlineError
from threadline.replies.actions import do_delete_template, do_save_template
from threadline.replies.models import Template
from threadline.replies.queries import access_template, list_templates
from threadline.tenancy.permissions import Permission
from threadline.web.admin_forms import checked, screen, submit
from threadline.web.admin_variants import placeholders, posted_variants, variant_rows
from threadline.web.views_admin import admin_screen

URL = "/app/admin/templates"
KINDS = (Template.Kind.AUTOMATIC, Template.Kind.NOTIFICATION)


class ProviderUnreachable(ThreadlineError):
    status = 502
    code = "provider_error"


def access_message_template(actor: Any, template_id: int) -> Template:
    template = access_template(actor, template_id)
    if template.kind not in KINDS:
        raise NotFound(_("No such template."), code="template_not_found")
    return template


def whatsapp_numbers(actor: Any) -> list[dict[str, Any]]:
    """Each channel whose provider approves templates (WhatsApp's numbers: the adapter's optional
    `provider_templates`) with its synced templates and the last sync."""
    numbers = []
    for channel in list_channels(actor).order_by("name"):
        listing = getattr(adapter_for(channel.kind), "provider_templates", None)
        if listing is not None:
            found = listing(channel)
            numbers.append({"channel": channel, "templates": found.templates, "synced_at": found.synced_at,
                            "can_sync": found.can_sync})
    return numbers


def _save(request: HttpRequest, template: Template | None) -> Template:
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST
    kind = data.get("kind", "") if template is None else template.kind
    if kind not in KINDS:
        kind = "invalid"  # the replies domain refuses it with its reason
    return do_save_template(agent.workspace, template, name=data.get("name", ""), kind=kind,
                            variants=posted_variants(data), is_active=checked(data, "is_active"))


def _list_page(request: HttpRequest, *, error: Exception | None = None) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    context = {"templates": list_templates(agent).filter(kind__in=KINDS).order_by("kind", "name"),
               "kinds": [(k.value, k.label) for k in KINDS], "form": request.POST if error else {"is_active": True},
               "rows": variant_rows(None, request.POST if error else None,
                                    default_language=agent.workspace.default_language),
               "placeholders": placeholders(), "numbers": whatsapp_numbers(agent)}
    return screen(request, "web/admin/templates.html", context, error=error)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def templates_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _list_page(request)
    return submit(request, lambda: _save(request, None), _("Template created."), URL,
                  lambda exc: _list_page(request, error=exc))


def _template_page(request: HttpRequest, template: Template, error: Exception | None = None) -> HttpResponse:
    form = request.POST if error else {"name": template.name, "is_active": template.is_active}
    context = {"template": template, "form": form, "placeholders": placeholders(),
               "rows": variant_rows(template, request.POST if error else None)}
    return screen(request, "web/admin/template.html", context, error=error)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def template_view(request: HttpRequest, template_id: int) -> HttpResponse:
    template = access_message_template(request.agent, template_id)  # type: ignore[attr-defined]
    if request.method != "POST":
        return _template_page(request, template)
    return submit(request, lambda: _save(request, template), _("Template saved."), f"{URL}/{template.pk}",
                  lambda exc: _template_page(request, template, exc))


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def template_delete_view(request: HttpRequest, template_id: int) -> HttpResponse:
    template = access_message_template(request.agent, template_id)  # type: ignore[attr-defined]
    return submit(request, lambda: do_delete_template(template), _("Template deleted."), URL,
                  lambda exc: _template_page(request, template, exc))


@require_POST
@admin_screen(Permission.ADMIN_AUTOMATIONS)
def whatsapp_sync_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    """Fetch the number's templates from Meta now; Meta unreachable or refusing answers 502 with its reason."""
    agent = request.agent  # type: ignore[attr-defined]
    channel = access_channel(agent, channel_id)
    sync = getattr(adapter_for(channel.kind), "sync_templates", None)
    if sync is None:
        raise NotFound(_("No such WhatsApp channel."), code="channel_not_found")
    try:
        with transaction.atomic():
            count = sync(channel)
            record_change("channel.updated", channel, {"whatsapp_templates_synced": count}, actor=agent)
    except ChannelError as exc:
        return _list_page(request, error=ProviderUnreachable(_("Meta answered: %(error)s") % {"error": exc}))
    messages.success(request, _("%(count)d WhatsApp templates synced.") % {"count": count})
    return redirect(f"{URL}#whatsapp")
