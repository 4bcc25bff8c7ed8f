"""HTTP hardening headers: HSTS when the server is reached over https, and a Content-Security-Policy on every
HTML page we render (`/app/`, sign-in, setup, the widget frame, the API docs).

The policy allows scripts only from our own origin: no inline script anywhere (templates load their code
from static files and pass data in `<script type="application/json">`). The few inline `<style>` blocks
carry the per-request nonce `request.csp_nonce` (`{{ request.csp_nonce }}` in templates). A view that sets
its own policy (the widget frame adds `frame-ancestors` from the channel's allowed origins) keeps it, and
builds it with `policy()`. The Django admin (operator-only) is left with Django's own headers.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

HSTS = "max-age=31536000; includeSubDomains"
SKIPPED_PREFIXES = ("/admin/",)


def https() -> bool:
    return settings.PUBLIC_URL.startswith("https://")


def policy(request: HttpRequest, *, frame_ancestors: str = "'none'", inline_styles: bool = False) -> str:
    nonce = getattr(request, "csp_nonce", "")
    try:
        sockets = f" ws://{request.get_host()} wss://{request.get_host()}"
    except DisallowedHost:  # the 400 page for a Host that is not ours
        sockets = ""
    styles = "'self' 'unsafe-inline'" if inline_styles else f"'self' 'nonce-{nonce}'"
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        f"style-src {styles}",
        "img-src 'self' data: blob: https:",
        "media-src 'self' blob:",
        f"connect-src 'self'{sockets}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(16)  # type: ignore[attr-defined]
        response = self.get_response(request)
        if https():
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        html = response.get("Content-Type", "").startswith("text/html")
        if html and "Content-Security-Policy" not in response and not request.path.startswith(SKIPPED_PREFIXES):
            # Swagger UI sets inline styles from its script; nothing else needs them
            docs = request.path.startswith("/api/")
            response["Content-Security-Policy"] = policy(request, inline_styles=docs)
        return response
