"""Custom fields: a workspace's own fields on contacts and conversations, and checking their values by type.

A definition (`CustomField`) has a `key` (lowercase letters, digits, `_`), a label, a kind and, for `select`,
its options. Values are stored under the key: a contact's in `Contact.attributes` (which also holds free
attributes sent by sites and the API, left as they are), a conversation's in `Conversation.custom_fields`
(defined keys only). Automations reach them as `contact.attributes.<key>` and `conversation.custom.<key>`.

    text    a string, at most 1000 characters
    number  an int or a float ("3", "2.5" from a form)
    date    an ISO date, stored "YYYY-MM-DD"
    select  one of the options

An empty value (None, "") removes the key. Callers own the transaction.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from django.utils.translation import gettext as _

from threadline.audit.actions import record_change
from threadline.contacts.models import CustomField
from threadline.contacts.queries import list_fields
from threadline.core.errors import Conflict, ValidationFailed
from threadline.tenancy.models import Workspace

KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_TEXT = 1000
MAX_OPTIONS = 100
MAX_FIELDS = 200


# ── definitions ──────────────────────────────────────────────────────────────────────────────────────
def check_definition(workspace: Workspace, field: CustomField | None, *, key: str, label: str, kind: str,
                     applies_to: str, options: list[str]) -> dict[str, Any]:
    key = (key or "").strip().lower()
    if not KEY.match(key):
        raise ValidationFailed(_("A key is lowercase letters, digits and _, starting with a letter."),
                               code="invalid_key", field="key")
    label = (label or "").strip()[:200]
    if not label:
        raise ValidationFailed(_("A field needs a label."), code="invalid_label", field="label")
    if kind not in CustomField.Kind.values:
        raise ValidationFailed(_("Unknown field type."), code="invalid_kind", field="kind")
    if applies_to not in CustomField.AppliesTo.values:
        raise ValidationFailed(_("A field is on contacts or on conversations."), code="invalid_applies_to",
                               field="applies_to")
    options = list(dict.fromkeys(o.strip()[:200] for o in options if o and o.strip()))
    if kind == CustomField.Kind.SELECT and not options:
        raise ValidationFailed(_("A list field needs options."), code="invalid_options", field="options")
    if len(options) > MAX_OPTIONS:
        raise ValidationFailed(_("Too many options."), code="invalid_options", field="options")
    same = CustomField.objects.filter(workspace=workspace, applies_to=applies_to, key=key)
    if same.exclude(pk=field.pk if field else None).exists():
        raise Conflict(_("A field with this key exists already."), code="field_exists", field="key")
    if field is None and list_fields(workspace.pk).count() >= MAX_FIELDS:
        raise ValidationFailed(_("Too many fields."), code="too_many_fields")
    return {"key": key, "label": label, "kind": kind, "applies_to": applies_to,
            "options": options if kind == CustomField.Kind.SELECT else []}


def do_save_field(workspace: Workspace, field: CustomField | None, *, position: int = 0, **definition: Any) -> CustomField:
    """Create (field None) or change a definition. Values already stored are kept as they are."""
    clean = check_definition(workspace, field, **definition)
    created = field is None
    field = field or CustomField(workspace=workspace)
    for name, value in clean.items():
        setattr(field, name, value)
    field.position = position
    field.save()
    details = {("name" if k == "key" else k): v for k, v in clean.items()}  # "key" names a secret to the audit log
    record_change("custom_field.created" if created else "custom_field.updated", field, details)
    return field


def do_delete_field(field: CustomField) -> None:
    """Delete a definition; values stored under its key stay in the data (and the API) until overwritten."""
    record_change("custom_field.deleted", field, {"name": field.key, "applies_to": field.applies_to})
    field.delete()


# ── values ───────────────────────────────────────────────────────────────────────────────────────────
def _fail(field: CustomField, message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_custom_field", field=field.key)


def check_value(field: CustomField, value: Any) -> Any:
    """The value typed for `field`, or None for "remove"; ValidationFailed naming the key otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if field.kind == CustomField.Kind.NUMBER:
        if isinstance(value, bool):
            raise _fail(field, _("%(label)s must be a number.") % {"label": field.label})
        if isinstance(value, str):
            try:
                value = float(value.strip()) if re.search(r"[.eE]", value) else int(value.strip())
            except ValueError as exc:
                raise _fail(field, _("%(label)s must be a number.") % {"label": field.label}) from exc
        if not isinstance(value, int | float) or (isinstance(value, float) and not math.isfinite(value)):
            raise _fail(field, _("%(label)s must be a number.") % {"label": field.label})
        return value
    if not isinstance(value, str):
        raise _fail(field, _("%(label)s must be text.") % {"label": field.label})
    value = value.strip()
    if field.kind == CustomField.Kind.DATE:
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise _fail(field, _("%(label)s must be a date (YYYY-MM-DD).") % {"label": field.label}) from exc
    if field.kind == CustomField.Kind.SELECT and value not in field.options:
        raise _fail(field, _("%(label)s must be one of: %(options)s.")
                    % {"label": field.label, "options": ", ".join(field.options)})
    if len(value) > MAX_TEXT or "\x00" in value:
        raise _fail(field, _("%(label)s is too long.") % {"label": field.label})
    return value


def merged_values(workspace_id: int, applies_to: str, current: dict[str, Any], changes: dict[str, Any], *,
                  defined_only: bool) -> dict[str, Any]:
    """`current` with `changes` applied: defined keys checked by type (empty removes them); other keys are
    refused when `defined_only`, otherwise kept as given (a contact's free attributes)."""
    fields = {f.key: f for f in list_fields(workspace_id, applies_to)}
    result = dict(current or {})
    for key, value in changes.items():
        field = fields.get(key)
        if field is None:
            if defined_only:
                raise ValidationFailed(_("No such field: %(key)s.") % {"key": key}, code="invalid_custom_field",
                                       field=str(key)[:64])
            result[key] = value
            continue
        clean = check_value(field, value)
        if clean is None:
            result.pop(key, None)
        else:
            result[key] = clean
    return result
