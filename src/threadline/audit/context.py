"""Where an audited action comes from: the request being served (address, browser, signed-in person or API
token), kept in a context variable by `AuditContextMiddleware` so actions deep in a domain can record it.

Outside a request (workers, the scheduler, the command line) there is no context and entries name the system.
"""

from __future__ import annotations

import contextvars
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse

from threadline.core.client_address import client_address


@dataclass
class Origin:
    ip: str | None = None
    user_agent: str = ""
    request: HttpRequest | None = None
    token: Any = None

    @property
    def user(self) -> Any:
        """The person acting: the token's owner, or whoever the session has signed in (read when recording)."""
        if self.token is not None:
            return self.token.membership.user
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None


_ORIGIN: contextvars.ContextVar[Origin | None] = contextvars.ContextVar("threadline_audit_origin", default=None)


def current() -> Origin | None:
    return _ORIGIN.get()


def client_ip(request: HttpRequest) -> str | None:
    """The client's address (behind THREADLINE_TRUSTED_PROXIES, the one they forwarded), or None."""
    address = client_address(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def origin_of(request: HttpRequest) -> Origin:
    return Origin(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300], request=request)


def note_token(token: Any) -> None:
    """Called by the API's bearer authentication: the request acts through this token."""
    origin = _ORIGIN.get()
    if origin is not None:
        origin.token = token


class AuditContextMiddleware:
    """Keeps the request's origin for the audit log while the request is served."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reset = _ORIGIN.set(origin_of(request))
        try:
            return self.get_response(request)
        finally:
            _ORIGIN.reset(reset)
