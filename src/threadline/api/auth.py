"""Bearer-token authentication and per-token rate limits for /api/v1."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from threadline.audit.context import note_token
from threadline.core.throttle import check_rate
from threadline.tenancy.models import Membership
from threadline.tenancy.queries import find_token

WINDOW_SECONDS = 60


def check_rate_limit(key: str, limit: int, *, window: int = WINDOW_SECONDS) -> None:
    """Per-token requests: a fixed window in the cache (core.throttle.check_rate)."""
    check_rate(key, limit, window=window, message=_("Too many requests for this token; retry later."))


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Membership | None:
        found = find_token(token)
        if found is None:
            return None
        note_token(found)
        # Keyed by the token's digest, not its row id: ids are reused (a restored database, one test
        # database per process) while the cache (Redis in scaled mode) is shared and outlives them.
        check_rate_limit(f"token:{found.digest[:32]}", settings.THREADLINE["API_RATE_LIMIT"])
        return found.membership


def actor(request: HttpRequest) -> Membership:
    """The authenticated agent of an API request."""
    return request.auth  # type: ignore[attr-defined,no-any-return]
