"""/app/admin/hours: business-hour schedules (a weekly grid of open intervals in one time zone), their holidays
(a country's public holidays and the workspace's own closed dates), and a preview of "open now / next
opening", through the same actions as /api/v1/sla/schedules."""

from __future__ import annotations

import zoneinfo
from typing import Any

import holidays as holidays_lib
from django.http import HttpRequest
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from threadline.core.errors import ValidationFailed
from threadline.core.time import now
from threadline.sla.actions import do_delete_schedule, do_save_schedule
from threadline.sla.businesshours import DAYS
from threadline.sla.models import BusinessSchedule
from threadline.sla.queries import access_schedule, list_schedules, opening_preview, upcoming_holidays
from threadline.tenancy.models import Brand
from threadline.tenancy.permissions import Permission
from threadline.web.admin_crud import Screen
from threadline.web.admin_inputs import optional_number

TEMPLATE = "web/admin/hours.html"
URL = "/app/admin/hours"
DEFAULT_WEEKLY = {day: [["09:00", "17:00"]] for day in DAYS[:5]}


def _grid(weekly: dict[str, list[list[str]]]) -> list[dict[str, Any]]:
    """One row per weekday with its intervals and one empty pair to add another (at least two pairs)."""
    rows = []
    for index, day in enumerate(DAYS):
        ranges = [list(r) for r in weekly.get(day, [])]
        rows.append({"day": day, "label": WEEKDAYS[index],
                     "ranges": ranges + [["", ""]] * max(1, 2 - len(ranges))})
    return rows


def _context(request: HttpRequest) -> dict[str, Any]:
    me = request.agent  # type: ignore[attr-defined]
    moment = now()
    schedules = []
    for schedule in list_schedules(me).select_related("brand").order_by("name", "id"):
        schedules.append({"schedule": schedule, "action": f"{URL}/{schedule.pk}", "grid": _grid(schedule.weekly),
                          "preview": opening_preview(schedule, moment),
                          "upcoming": upcoming_holidays(schedule, moment.date()),
                          "custom": [*schedule.custom_holidays, {"date": "", "name": ""}]})
    return {"schedules": schedules, "new_grid": _grid(DEFAULT_WEEKLY),
            "new_custom": [{"date": "", "name": ""}] * 3,
            "countries": sorted(holidays_lib.list_supported_countries()),
            "zones": sorted(zoneinfo.available_timezones()), "default_zone": me.workspace.time_zone,
            "brands": list(Brand.objects.filter(workspace_id=me.workspace_id).order_by("name"))}


def _weekly(request: HttpRequest) -> dict[str, list[list[str]]]:
    weekly: dict[str, list[list[str]]] = {}
    for day in DAYS:
        pairs = zip(request.POST.getlist(f"{day}_start"), request.POST.getlist(f"{day}_end"), strict=False)
        ranges = []
        for start, end in pairs:
            start, end = start.strip(), end.strip()
            if bool(start) != bool(end):
                raise ValidationFailed(_("Each opening needs a start and an end (%(day)s).") % {"day": day},
                                       code="invalid_range", field="weekly")
            if start:
                ranges.append([start[:5], "24:00" if end[:5] == "00:00" else end[:5]])
        if ranges:
            weekly[day] = sorted(ranges)
    return weekly


def _holidays(request: HttpRequest) -> list[dict[str, str]]:
    pairs = zip(request.POST.getlist("holiday_date"), request.POST.getlist("holiday_name"), strict=False)
    return [{"date": d.strip(), "name": n.strip()} for d, n in pairs if d.strip()]


def _save(request: HttpRequest, schedule: BusinessSchedule | None) -> BusinessSchedule:
    me = request.agent  # type: ignore[attr-defined]
    return do_save_schedule(
        me.workspace, schedule, name=request.POST.get("name", ""), time_zone=request.POST.get("time_zone", ""),
        weekly=_weekly(request), holiday_country=request.POST.get("holiday_country", "").strip(),
        holiday_subdiv=request.POST.get("holiday_subdiv", "").strip(), custom_holidays=_holidays(request),
        brand_id=optional_number(request, "brand_id", low=1))


hours_view, schedule_update_view, schedule_delete_view = Screen(
    permission=Permission.ADMIN_ROUTING, template=TEMPLATE, url=URL, context=_context, access=access_schedule,
    save=_save, delete=do_delete_schedule, created=gettext_lazy("Schedule created."),
    saved=gettext_lazy("Schedule saved."), deleted=gettext_lazy("Schedule deleted."),
).views()
