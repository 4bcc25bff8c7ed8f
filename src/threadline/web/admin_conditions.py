"""The conversation conditions SLA policies and routing rules share (priorities, channel kinds, brands,
languages: lists, empty means any), read from a posted form and offered as choices."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from threadline.channels.registry import kinds
from threadline.conversations.models import Priority
from threadline.tenancy.models import Brand, Membership
from threadline.web.admin_inputs import posted_ids, posted_list
from threadline.web.templatetags.web import kind_label


def posted_conditions(request: HttpRequest) -> dict[str, list[Any]]:
    """Only the lists that were given: an absent key means "any"."""
    found: dict[str, list[Any]] = {
        "priorities": posted_list(request, "priorities"),
        "channel_kinds": posted_list(request, "channel_kinds"),
        "languages": [v.lower() for v in posted_list(request, "languages")],
        "brand_ids": posted_ids(request, "brand_ids"),
    }
    return {key: values for key, values in found.items() if values}


def condition_choices(actor: Membership) -> dict[str, Any]:
    return {"priority_choices": Priority.choices,
            "kind_choices": [(kind, kind_label(kind)) for kind in kinds()],
            "brand_choices": list(Brand.objects.filter(workspace_id=actor.workspace_id).order_by("name"))}


def describe_conditions(conditions: dict[str, Any], choices: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, values) per condition, in words: priority and channel names, brand names, language codes."""
    names = {**dict(choices["priority_choices"]), **dict(choices["kind_choices"]),
             **{b.pk: b.name for b in choices["brand_choices"]}}
    labels = {"priorities": _("Priority"), "channel_kinds": _("Channel"), "brand_ids": _("Brand"),
              "languages": _("Language"), "team_ids": _("Team"), "tags": _("Tags")}
    return [(str(labels.get(key, key)), ", ".join(str(names.get(v, v)) for v in values))
            for key, values in conditions.items() if isinstance(values, list)]
