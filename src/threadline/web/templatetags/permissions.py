"""Permission tests for templates: `{% load permissions %}`, then `{% if agent|can:"admin.channels" %}` (a code of
`tenancy.permissions.Permission`) or `{% if agent|administers %}` (some administration screen is open to them)."""

from __future__ import annotations

from django import template

from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, has_permission
from threadline.web.admin_nav import sections_for

register = template.Library()


@register.filter
def can(agent: Membership | None, permission: str) -> bool:
    if agent is None:
        return False
    Permission(permission)  # an unknown code in a template is a bug: fail loudly, never hide silently
    return has_permission(agent, permission)


@register.filter
def administers(agent: Membership | None) -> bool:
    return agent is not None and bool(sections_for(agent))
