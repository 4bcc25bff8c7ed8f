"""Reading the service screens' forms (teams, hours, SLA, routing, automations, fields): comma-separated or
repeated lists, ids and numbers as ValidationFailed naming the field, and `form_submit`, the shared
`admin_forms.submit` that re-renders the screen with the posted values on a refused change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from threadline.core.errors import ValidationFailed
from threadline.web.admin_forms import screen, submit


def posted_list(request: HttpRequest, name: str) -> list[str]:
    """Every non-empty value of a repeated field (a multi-select, checkboxes) or a comma-separated one."""
    values: list[str] = []
    for raw in request.POST.getlist(name):
        values.extend(part.strip() for part in raw.split(","))
    return [v for v in values if v]


def posted_ids(request: HttpRequest, name: str) -> list[int]:
    return [number(v, name, low=1) for v in posted_list(request, name)]


def number(value: Any, field: str, *, low: int = -1_000_000, high: int = 1_000_000) -> int:
    try:
        result = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("%(field)s must be a whole number.") % {"field": field}, code="invalid_number",
                               field=field) from exc
    if not low <= result <= high:
        raise ValidationFailed(_("%(field)s must be between %(low)s and %(high)s.")
                               % {"field": field, "low": low, "high": high}, code="invalid_number", field=field)
    return result


def optional_number(request: HttpRequest, name: str, *, low: int = 0, high: int = 1_000_000) -> int | None:
    raw = request.POST.get(name, "").strip()
    return None if raw == "" else number(raw, name, low=low, high=high)


def is_checked(request: HttpRequest, name: str) -> bool:
    return request.POST.get(name) in ("on", "1", "true", "yes")


def form_submit(request: HttpRequest, write: Callable[[], Any], *, done: str, back: str, template: str,
                context: Callable[[], dict[str, Any]]) -> HttpResponse:
    """`submit`: success → redirect to `back` with `done`; a refused change → the screen again with the reason,
    the posted values (`posted`) and the status the API would answer."""
    return submit(request, write, done, back,
                  lambda exc: screen(request, template, {**context(), "posted": request.POST}, error=exc))
