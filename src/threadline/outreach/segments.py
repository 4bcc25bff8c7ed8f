"""Segments: a small filter language over contacts, stored as JSON on a campaign, previewable as a count.

A segment is one condition or a combination:
  {"all": [cond, ...]}  every condition      {"any": [cond, ...]}  at least one      {"not": cond}
Conditions:
  {"attribute": "plan", "op": "eq|ne|contains|exists|gt|gte|lt|lte", "value": ...}   a contact attribute
  {"tag": "vip"}                 the contact has a conversation with this tag
  {"language": "he"}             the contact's language (a prefix: "pt" matches "pt-BR")
  {"country": "TH"}              the contact's stored country
  {"active_within_days": 30}     the contact wrote within the last N days
  {"inactive_for_days": 90}      the contact has not written for N days (or never)
  {"has_identity": "phone"}      the contact has an identity of this kind
`{}` is every contact. Merged-away contacts are never in a segment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from threadline.contacts.models import Contact, ContactIdentity
from threadline.conversations.models import Conversation
from threadline.core.errors import ValidationFailed
from threadline.core.time import now

OPS = ("eq", "ne", "contains", "exists", "gt", "gte", "lt", "lte")
MAX_DEPTH = 5
MAX_CONDITIONS = 50


def _fail(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_segment", field="segment")


def check_segment(segment: Any) -> dict[str, Any]:
    """The segment as given when it is well formed; ValidationFailed (invalid_segment) saying what is wrong."""
    if segment in (None, {}):
        return {}
    count = [0]
    _check(segment, 0, count)
    return segment


def _days(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 36500:
        raise _fail(_("A number of days is a whole number from 1 to 36500."))
    return value


def _check(node: Any, depth: int, count: list[int]) -> None:
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_CONDITIONS:
        raise _fail(_("A segment has at most %(n)d conditions, nested at most %(d)d deep.")
                    % {"n": MAX_CONDITIONS, "d": MAX_DEPTH})
    if not isinstance(node, dict) or len(node) == 0:
        raise _fail(_("Each condition is an object such as {\"language\": \"he\"}."))
    if "all" in node or "any" in node:
        items = node.get("all", node.get("any"))
        if len(node) != 1 or not isinstance(items, list) or not items:
            raise _fail(_("\"all\" and \"any\" take a non-empty list of conditions."))
        for item in items:
            _check(item, depth + 1, count)
    elif "not" in node:
        _check(node["not"], depth + 1, count)
    elif "attribute" in node:
        if not isinstance(node["attribute"], str) or not node["attribute"].strip() or \
                node.get("op", "eq") not in OPS:
            raise _fail(_("An attribute condition needs a key and an op: %(ops)s.") % {"ops": ", ".join(OPS)})
        if node.get("op", "eq") != "exists" and "value" not in node:
            raise _fail(_("An attribute condition needs a value."))
    elif "tag" in node or "language" in node or "country" in node or "has_identity" in node:
        value = next(node[k] for k in ("tag", "language", "country", "has_identity") if k in node)
        if not isinstance(value, str) or not value.strip():
            raise _fail(_("Tags, languages, countries and identity kinds are non-empty text."))
    elif "active_within_days" in node:
        _days(node["active_within_days"])
    elif "inactive_for_days" in node:
        _days(node["inactive_for_days"])
    else:
        raise _fail(_("Unknown condition: %(keys)s.") % {"keys": ", ".join(sorted(map(str, node)))})


def _active_since(workspace_id: int, days: int) -> QuerySet[Conversation]:
    since = now() - dt.timedelta(days=days)
    return Conversation.objects.filter(workspace_id=workspace_id, last_inbound_at__gte=since).values("contact_id")


def _q(node: dict[str, Any], workspace_id: int) -> Q:
    if "all" in node:
        q = Q()
        for item in node["all"]:
            q &= _q(item, workspace_id)
        return q
    if "any" in node:
        q = Q(pk__in=[])
        for item in node["any"]:
            q |= _q(item, workspace_id)
        return q
    if "not" in node:
        return ~_q(node["not"], workspace_id)
    if "attribute" in node:
        key, op, value = node["attribute"].strip(), node.get("op", "eq"), node.get("value")
        path = f"attributes__{key}"
        if op == "exists":
            return Q(**{"attributes__has_key": key})
        if op == "ne":
            return ~Q(**{path: value})
        if op == "contains":
            return Q(**{f"{path}__icontains": str(value)}) if not isinstance(value, list) else Q(
                **{f"{path}__contains": value})
        return Q(**{path if op == "eq" else f"{path}__{op}": value})
    if "tag" in node:
        tagged = Conversation.objects.filter(workspace_id=workspace_id, tags__name=node["tag"].strip())
        return Q(pk__in=tagged.values("contact_id"))
    if "language" in node:
        language = node["language"].strip().lower()
        return Q(language__iexact=language) | Q(language__istartswith=f"{language}-")
    if "country" in node:
        return Q(country__iexact=node["country"].strip())
    if "has_identity" in node:
        return Q(pk__in=ContactIdentity.objects.filter(workspace_id=workspace_id, kind=node["has_identity"].strip())
                 .values("contact_id"))
    if "active_within_days" in node:
        return Q(pk__in=_active_since(workspace_id, node["active_within_days"]))
    return ~Q(pk__in=_active_since(workspace_id, node["inactive_for_days"]))


def contacts_in(workspace_id: int, segment: dict[str, Any]) -> QuerySet[Contact]:
    """The contacts of the workspace the segment selects (none merged away)."""
    found = Contact.objects.filter(workspace_id=workspace_id, merged_into__isnull=True)
    return found.filter(_q(segment, workspace_id)) if segment else found


def preview(workspace_id: int, segment: Any) -> int:
    """How many contacts the segment selects now."""
    return contacts_in(workspace_id, check_segment(segment)).count()
