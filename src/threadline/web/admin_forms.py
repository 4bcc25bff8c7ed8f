"""What every administration form does the same way: run the change in one transaction, then redirect back with
a message (POST → redirect → GET); a refused change re-renders the screen with the reason and the status the API
would answer (400 invalid input, 409 conflict). A missing or foreign id is not caught: it answers 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect

from threadline.core.errors import Conflict, ValidationFailed
from threadline.web.views_admin import render_admin

FormErrors = (ValidationFailed, Conflict)


def screen(request: HttpRequest, template: str, context: dict[str, Any], *, error: Exception | None = None,
           status: int = 200) -> HttpResponse:
    """Render an administration screen with the message left by the last redirect, or `error`."""
    notes = [str(note.message) for note in messages.get_messages(request)]
    extra: dict[str, Any] = {"message": " ".join(notes)} if notes else {}
    if error is not None:
        extra["error"] = getattr(error, "message", str(error))
        extra["error_field"] = getattr(error, "field", None)
        status = getattr(error, "status", 400)
    return render_admin(request, template, {**context, **extra}, status=status)


def submit(request: HttpRequest, change: Callable[[], Any], done: str, back: str,
           again: Callable[[Exception], HttpResponse]) -> HttpResponse:
    """Run `change` atomically; on success redirect to `back` with the message `done`, otherwise `again(error)`."""
    try:
        with transaction.atomic():
            change()
    except FormErrors as exc:
        return again(exc)
    messages.success(request, done)
    return redirect(back)


def listed(data: QueryDict, name: str) -> list[str]:
    """A multi-valued field (checkboxes, a multiple select), trimmed, without empties."""
    return [value.strip() for value in data.getlist(name) if value.strip()]


def checked(data: QueryDict, name: str) -> bool:
    return data.get(name) in ("1", "on", "true", "yes")
