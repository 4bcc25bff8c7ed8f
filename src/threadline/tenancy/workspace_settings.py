"""A workspace's own settings (name, languages, time zone, phone region, countries, reopen window), and a new
workspace made by the installation's operator. Callers own the transaction; every change is audited."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

import phonenumbers
from django.utils.translation import gettext as _

from threadline.audit.actions import record
from threadline.core.errors import PermissionDenied, ValidationFailed
from threadline.tenancy.actions import do_create_workspace
from threadline.tenancy.models import Membership, Workspace
from threadline.tenancy.permissions import Permission, require
from threadline.tenancy.signin import is_operator

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
MAX_LANGUAGES = 30
MAX_REOPEN_DAYS = 365
FIELDS = ("name", "languages", "default_language", "time_zone", "default_region", "countries", "reopen_window_days")


def codes(value: str | list[str]) -> list[str]:
    """Codes typed as "he, en ar" (or already a list), trimmed, without empties."""
    items = value if isinstance(value, list) else re.split(r"[\s,;]+", value or "")
    return [item.strip() for item in items if item and item.strip()]


def check_languages(languages: list[str]) -> list[str]:
    clean = []
    for code in languages:
        code = code.lower().replace("_", "-")
        if not LANGUAGE_CODE.match(code):
            raise ValidationFailed(_("%(code)s is not a language code such as en or pt-br.") % {"code": code},
                                   code="invalid_language", field="languages")
        if code not in clean:
            clean.append(code)
    if len(clean) > MAX_LANGUAGES:
        raise ValidationFailed(_("At most %(n)d languages.") % {"n": MAX_LANGUAGES}, code="invalid_language",
                               field="languages")
    return clean


def check_time_zone(name: str) -> str:
    if name not in zoneinfo.available_timezones():
        raise ValidationFailed(_("Choose a time zone from the list."), code="invalid_time_zone", field="time_zone")
    return name


def check_region(code: str, field: str = "default_region") -> str:
    code = (code or "").strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationFailed(_("%(code)s is not a two-letter country code such as IL or CZ.") % {"code": code},
                               code="invalid_region", field=field)
    return code


def check_countries(countries: list[str]) -> list[str]:
    return sorted({check_region(code, "countries") for code in countries})


def check_reopen_window(days: Any) -> int:
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = -1
    if not 0 <= days <= MAX_REOPEN_DAYS:
        raise ValidationFailed(_("The reopen window is 0 to %(max)d days.") % {"max": MAX_REOPEN_DAYS},
                               code="invalid_reopen_window", field="reopen_window_days")
    return days


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed(_("A workspace needs a name of up to 200 characters."), code="invalid_name",
                               field="name")
    return name


def check_settings(workspace: Workspace, changes: dict[str, Any]) -> dict[str, Any]:
    """The given settings, validated and normalized (a default language outside the languages is refused)."""
    clean: dict[str, Any] = {}
    checks = {"name": check_name, "languages": check_languages, "time_zone": check_time_zone,
              "default_region": check_region, "countries": check_countries}
    for field, value in changes.items():
        if value is None or field not in FIELDS:
            continue
        clean[field] = checks[field](value) if field in checks else value
    if "reopen_window_days" in clean:
        clean["reopen_window_days"] = check_reopen_window(clean["reopen_window_days"])
    language = str(clean.get("default_language", workspace.default_language)).lower()
    offered = clean.get("languages", workspace.languages)
    if offered and language not in offered:
        raise ValidationFailed(_("The default language must be one of the languages offered."),
                               code="invalid_language", field="default_language")
    if "default_language" in clean:
        clean["default_language"] = check_languages([language])[0]
    return clean


def do_update_workspace(actor: Membership, **changes: Any) -> Workspace:
    """Change the actor's workspace settings (admins with the workspace permission); audited with before and
    after of what changed."""
    require(actor, Permission.ADMIN_WORKSPACE)
    workspace = Workspace.objects.select_for_update().get(pk=actor.workspace_id)
    clean = check_settings(workspace, changes)
    before = {field: getattr(workspace, field) for field in clean if getattr(workspace, field) != clean[field]}
    if not before:
        return workspace
    for field in before:
        setattr(workspace, field, clean[field])
    workspace.save(update_fields=[*before, "updated_at"])
    record("workspace.settings_changed", workspace_id=workspace.pk, target_type="workspace", target_id=workspace.pk,
           details={"area": "workspace", "before": before, "after": {f: clean[f] for f in before}}, actor=actor)
    return workspace


def do_create_workspace_as_operator(operator: Any, name: str, *, default_region: str = "US") -> Workspace:
    """A new workspace (with its default brand), made by the installation's operator; audited in it."""
    if not is_operator(operator):
        raise PermissionDenied(_("Only the installation's operator creates workspaces."), code="operator_only")
    workspace = do_create_workspace(check_name(name), default_region=check_region(default_region))
    record("workspace.created", workspace_id=workspace.pk, target_type="workspace", target_id=workspace.pk,
           details={"name": workspace.name, "slug": workspace.slug}, actor=operator)
    return workspace
