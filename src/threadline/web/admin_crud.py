"""The three views most service screens share: the screen (GET) with its "new" form (POST), a row's edit form
(POST) and its delete button (POST), each permission-checked, with the row looked up through the domain's
`access_*` (another workspace's id answers 404 before anything is written) and the write run by `form_submit`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods, require_POST

from threadline.web.admin_forms import screen
from threadline.web.admin_inputs import form_submit
from threadline.web.views_admin import admin_screen

View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Screen:
    permission: str
    template: str
    url: str
    context: Callable[[HttpRequest], dict[str, Any]]
    access: Callable[[Any, int], Any]  # access_*(actor, id)
    save: Callable[[HttpRequest, Any], Any]  # save(request, row or None for a new one)
    delete: Callable[[Any], Any]
    created: str
    saved: str
    deleted: str

    def submit(self, request: HttpRequest, write: Callable[[], Any], done: str) -> HttpResponse:
        return form_submit(request, write, done=done, back=self.url, template=self.template,
                           context=lambda: self.context(request))

    def views(self) -> tuple[View, View, View]:
        """(the screen and its "new" form, a row's edit form, a row's delete); row views take one id kwarg."""

        @require_http_methods(["GET", "POST"])
        @admin_screen(self.permission)
        def index(request: HttpRequest) -> HttpResponse:
            if request.method == "POST":
                return self.submit(request, lambda: self.save(request, None), str(self.created))
            return screen(request, self.template, self.context(request))

        @require_POST
        @admin_screen(self.permission)
        def update(request: HttpRequest, **ids: int) -> HttpResponse:
            row = self.access(request.agent, *ids.values())  # type: ignore[attr-defined]
            return self.submit(request, lambda: self.save(request, row), str(self.saved))

        @require_POST
        @admin_screen(self.permission)
        def delete(request: HttpRequest, **ids: int) -> HttpResponse:
            row = self.access(request.agent, *ids.values())  # type: ignore[attr-defined]
            return self.submit(request, lambda: self.delete(row), str(self.deleted))

        return index, update, delete
