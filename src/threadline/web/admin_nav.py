"""The sections of the administration screens (/app/admin/...), each shown only to members whose role grants
its permission, and only once its screen exists (a section whose URL does not resolve is left out)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import Resolver404, resolve
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, has_permission


@dataclass(frozen=True)
class Section:
    url: str
    label: str | Promise
    permission: str
    group: str | Promise


SECTIONS: tuple[Section, ...] = (
    Section("/app/admin/workspace", _("Workspace"), Permission.ADMIN_WORKSPACE, _("Workspace")),
    Section("/app/admin/brands", _("Brands"), Permission.ADMIN_WORKSPACE, _("Workspace")),
    Section("/app/admin/channels", _("Channels"), Permission.ADMIN_CHANNELS, _("Channels")),
    Section("/app/admin/people", _("People"), Permission.ADMIN_PEOPLE, _("People")),
    Section("/app/admin/roles", _("Roles"), Permission.ADMIN_PEOPLE, _("People")),
    Section("/app/admin/teams", _("Teams and skills"), Permission.ADMIN_ROUTING, _("People")),
    Section("/app/admin/hours", _("Business hours"), Permission.ADMIN_ROUTING, _("Service")),
    Section("/app/admin/sla", _("SLA policies"), Permission.ADMIN_ROUTING, _("Service")),
    Section("/app/admin/routing", _("Routing rules"), Permission.ADMIN_ROUTING, _("Service")),
    Section("/app/admin/automations", _("Automations"), Permission.ADMIN_AUTOMATIONS, _("Service")),
    Section("/app/admin/bot", _("Answer bot"), Permission.ADMIN_AUTOMATIONS, _("Service")),
    Section("/app/admin/surveys", _("Surveys"), Permission.ADMIN_AUTOMATIONS, _("Service")),
    Section("/app/outreach", _("Outreach campaigns"), Permission.ANALYTICS, _("Service")),
    Section("/app/admin/outreach", _("Outreach settings"), Permission.ADMIN_AUTOMATIONS, _("Service")),
    Section("/app/admin/triage", _("Public triage"), Permission.ADMIN_AUTOMATIONS, _("Service")),
    Section("/app/admin/replies", _("Canned replies and macros"), Permission.ADMIN_AUTOMATIONS, _("Service")),
    Section("/app/admin/templates", _("Message templates"), Permission.ADMIN_AUTOMATIONS, _("Service")),
    Section("/app/admin/fields", _("Tags and fields"), Permission.ADMIN_AUTOMATIONS, _("Service")),
    Section("/app/admin/tokens", _("API tokens"), Permission.ADMIN_WORKSPACE, _("Integrations")),
    Section("/app/admin/webhooks", _("Webhooks"), Permission.ADMIN_WORKSPACE, _("Integrations")),
    Section("/app/admin/translation", _("Machine translation"), Permission.ADMIN_WORKSPACE, _("Integrations")),
    Section("/app/admin/apps", _("Customer panel apps"), Permission.ADMIN_WORKSPACE, _("Integrations")),
    Section("/app/admin/jira", _("Jira"), Permission.ADMIN_WORKSPACE, _("Integrations")),
    Section("/app/admin/crm", _("CRM"), Permission.ADMIN_WORKSPACE, _("Integrations")),
    Section("/app/admin/security", _("Sign-in and single sign-on"), Permission.ADMIN_SECURITY, _("Security and privacy")),
    Section("/app/admin/privacy", _("Retention and redaction"), Permission.ADMIN_SECURITY, _("Security and privacy")),
    Section("/app/audit", _("Audit log"), Permission.AUDIT, _("Security and privacy")),
    Section("/app/attention", _("Needs attention"), Permission.ADMIN_CHANNELS, _("Security and privacy")),
)


def _exists(url: str) -> bool:
    try:
        resolve(url)
    except Resolver404:
        return False
    return True


def sections_for(actor: Membership) -> list[Section]:
    return [s for s in SECTIONS if has_permission(actor, s.permission) and _exists(s.url)]


def grouped_for(actor: Membership) -> list[tuple[str, list[Section]]]:
    groups: dict[str, list[Section]] = {}
    for section in sections_for(actor):
        groups.setdefault(str(section.group), []).append(section)
    return list(groups.items())
