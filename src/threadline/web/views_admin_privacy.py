"""The "Retention and redaction" screen (/app/admin/privacy): masking of personal identifiers at ingest (on/off,
the countries whose national identifiers are looked for, the detectors that apply, a box to try them), the
erasure grace period, and retention policies per workspace and per channel. A policy is previewed before it is
saved: the page shows what the retention run would delete with it (privacy.actions.preview_policy), and a
"Run now" button applies the saved policies at once, as the scheduler does. The domains audit every change."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from threadline.channels.queries import access_channel, list_channels
from threadline.privacy import retention
from threadline.privacy.actions import do_run_retention, do_set_policy, do_update_settings, preview_policy
from threadline.privacy.models import RetentionKind
from threadline.privacy.queries import list_policies, settings_for
from threadline.redaction import actions as redaction
from threadline.redaction.detectors import mask
from threadline.tenancy.permissions import Permission
from threadline.tenancy.workspace_settings import codes
from threadline.web.admin_forms import FormErrors, checked, screen, submit
from threadline.web.views import _int, _optional_int
from threadline.web.views_admin import admin_screen

URL = "/app/admin/privacy"
TEMPLATE = "web/admin/privacy.html"
MAX_SAMPLE = 5000
DETECTORS = (  # (what, the country whose identifier it is, or "" for every workspace)
    (gettext_lazy("Payment card numbers (Luhn check)"), ""),
    (gettext_lazy("IBANs (mod-97 check)"), ""),
    (gettext_lazy("Israeli ID numbers"), "IL"),
    (gettext_lazy("Czech birth numbers"), "CZ"),
    (gettext_lazy("US Social Security numbers"), "US"),
)


def _page(request: HttpRequest, *, error: Exception | None = None, **extra: Any) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    workspace = agent.workspace
    countries = workspace.country_codes
    context = {
        "workspace": workspace, "countries": ", ".join(workspace.countries or []),
        "detectors": [(label, country, not country or country in countries) for label, country in DETECTORS],
        "grace_days": settings_for(workspace.pk).erasure_grace_days,
        "policies": list_policies(agent).select_related("channel"), "kinds": RetentionKind.choices,
        "kind_labels": dict(RetentionKind.choices), "channels": list_channels(agent).order_by("name"),
        "due": retention.dry_run(workspace.pk), **extra,
    }
    return screen(request, TEMPLATE, context, error=error)


@require_http_methods(["GET", "POST"])
@admin_screen(Permission.ADMIN_SECURITY)
def privacy_view(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@admin_screen(Permission.ADMIN_SECURITY)
def redaction_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST
    if data.get("intent") == "try":  # nothing is stored: the sample is masked as an inbound message would be
        sample = (data.get("sample") or "")[:MAX_SAMPLE]
        masked, findings = mask(sample, agent.workspace.country_codes)
        return _page(request, sample=sample, masked=masked, findings=len(findings))
    return submit(request, lambda: redaction.do_update_settings(
        agent, redact_pii=checked(data, "redact_pii"), countries=codes(data.get("countries", ""))),
        _("Redaction settings saved."), URL, lambda exc: _page(request, error=exc))


@require_POST
@admin_screen(Permission.ADMIN_SECURITY)
def settings_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    return submit(request, lambda: do_update_settings(
        agent, erasure_grace_days=_int(request.POST.get("erasure_grace_days"), "erasure_grace_days")),
        _("Privacy settings saved."), URL, lambda exc: _page(request, error=exc))


@require_POST
@admin_screen(Permission.ADMIN_SECURITY)
def retention_view(request: HttpRequest) -> HttpResponse:
    """intent=preview (the default) shows the dry run with the policy; intent=save keeps it; intent=delete removes
    it (keep forever)."""
    agent = request.agent  # type: ignore[attr-defined]
    data = request.POST
    intent = data.get("intent") or "preview"
    kind = data.get("kind", "")
    try:
        channel_id = _optional_int(data.get("channel"), "channel")
        days = None if intent == "delete" else _int(data.get("days"), "days")
    except FormErrors as exc:
        return _page(request, error=exc)
    channel = access_channel(agent, channel_id) if channel_id else None  # another workspace's channel: 404
    proposal = {"kind": kind, "channel": channel, "days": days, "intent": intent}
    if intent == "preview":
        try:
            counts = preview_policy(agent, kind, days, channel=channel)
        except FormErrors as exc:
            return _page(request, error=exc)
        return _page(request, proposal=proposal, preview=counts)
    done = _("Retention policy removed.") if days is None else _("Retention policy saved.")
    return submit(request, lambda: do_set_policy(agent, kind, days, channel=channel), done, URL,
                  lambda exc: _page(request, error=exc, proposal=proposal))


@require_POST
@admin_screen(Permission.ADMIN_SECURITY)
def run_view(request: HttpRequest) -> HttpResponse:
    agent = request.agent  # type: ignore[attr-defined]
    with transaction.atomic():
        counts = do_run_retention(agent)
    labels = dict(RetentionKind.choices)
    removed = ", ".join(f"{labels[kind]}: {count}" for kind, count in counts.items()) or _("nothing")
    return _page(request, message=_("Retention applied. Removed: %(removed)s.") % {"removed": removed})
