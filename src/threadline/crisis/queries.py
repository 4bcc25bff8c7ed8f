"""Reads of crisis detection: the list, one crisis with its evidence (social's public items on its topic and
time when that domain is installed, else the mentions the detector counted), the workspace notice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from threadline.core.errors import NotFound
from threadline.core.time import now
from threadline.crisis.models import Crisis, Mention, Notice, Status
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require

EVIDENCE_BEFORE = dt.timedelta(hours=1)
MAX_EVIDENCE = 200


def crises(actor: Membership, *, status: str | None = None) -> QuerySet[Crisis]:
    require(actor, Permission.VIEW)
    rows = Crisis.objects.filter(workspace_id=actor.workspace_id)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-opened_at", "-pk")


def open_count(workspace_id: int) -> int:
    return Crisis.objects.filter(workspace_id=workspace_id, status=Status.OPEN).count()


def access_crisis(actor: Membership, crisis_id: int, permission: str = Permission.VIEW) -> Crisis:
    require(actor, permission)
    crisis = Crisis.objects.filter(workspace_id=actor.workspace_id, pk=crisis_id).first()
    if crisis is None:
        raise NotFound(_("No such crisis."), code="crisis_not_found")
    return crisis


def series_label(key: str) -> str:
    kind, _sep, name = key.partition(":")
    if kind == "topic":
        return _("topic “%(name)s”") % {"name": name}
    if kind == "channel":
        return _("channel %(name)s") % {"name": name}
    return _("all mentions")


def describe(crisis: Crisis) -> str:
    """One sentence: what rose, how much, against what."""
    figures = crisis.why.get("series", {}).get(crisis.key)
    label = series_label(crisis.key)
    if not figures:
        return _("Crisis opened by hand on %(series)s.") % {"series": label}
    values = {"series": label, "count": figures["count"], "minutes": figures["bucket_minutes"],
              "baseline": f"{figures['baseline']:.1f}", "z": f"{figures['z']:.1f}",
              "share": f"{figures['share']:.0%}", "baseline_share": f"{figures['baseline_share']:.0%}"}
    if figures["kind"] == "negative":
        return _("Negative mentions on %(series)s: %(share)s of %(count)s in %(minutes)s minutes, where "
                 "%(baseline_share)s is usual (z = %(z)s).") % values
    return _("%(count)s mentions on %(series)s in %(minutes)s minutes, where %(baseline)s are usual "
             "(z = %(z)s).") % values


def _window(crisis: Crisis) -> tuple[dt.datetime, dt.datetime]:
    return crisis.bucket_start - EVIDENCE_BEFORE, crisis.closed_at or now()


def evidence(crisis: Crisis) -> list[dict[str, Any]]:
    """The detector's mentions on the crisis's series in its time, newest first."""
    start, end = _window(crisis)
    keys = set(crisis.why.get("series", {})) or {crisis.key}
    rows = (Mention.objects.filter(workspace_id=crisis.workspace_id, posted_at__gte=start, posted_at__lte=end)
            .order_by("-posted_at")[:MAX_EVIDENCE * 5])
    found = [{"item_id": m.item_id, "channel_kind": m.channel_kind, "category": m.category, "sentiment": m.sentiment,
              "negative": m.negative, "posted_at": m.posted_at, "keys": m.keys}
             for m in rows if keys & set(m.keys) - {"all"} or "all" in keys]
    return found[:MAX_EVIDENCE]


def related_items(crisis: Crisis) -> list[Any]:
    """Social's public items on the crisis's topic in its time, when the social domain is installed."""
    if not apps.is_installed("threadline.social"):
        return []
    item_ids = [row["item_id"] for row in evidence(crisis) if row["item_id"]]
    model = apps.get_model("social", "PublicItem")
    return list(model.objects.filter(workspace_id=crisis.workspace_id, pk__in=item_ids).order_by("-pk")[:MAX_EVIDENCE])


def notice_of(workspace_id: int) -> Notice | None:
    return Notice.objects.filter(workspace_id=workspace_id).first()


def active_notice(workspace_id: int, language: str, default_language: str = "") -> str:
    """The banner text for a visitor reading `language` ("" when no notice is shown)."""
    notice = Notice.objects.filter(workspace_id=workspace_id, active=True).only("texts").first()
    if notice is None or not notice.texts:
        return ""
    texts = notice.texts
    return texts.get(language) or texts.get(language.split("-")[0]) or texts.get(default_language) or next(
        iter(texts.values()))
