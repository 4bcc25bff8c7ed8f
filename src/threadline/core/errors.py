"""The error hierarchy every domain raises; the API layer maps each to a stable `code` and HTTP status.

    ThreadlineError
    ├── ValidationFailed      400  bad input (field, reason)
    ├── NotFound              404  missing, or not visible to the actor
    ├── PermissionDenied      403  visible, but the actor's role may not do it
    ├── Conflict              409  the state forbids it (already merged, duplicate identity...)
    └── RateLimited           429  too many requests (retry_after seconds)
"""

from __future__ import annotations


class ThreadlineError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field


class ValidationFailed(ThreadlineError):
    status = 400
    code = "invalid"


class NotFound(ThreadlineError):
    status = 404
    code = "not_found"


class PermissionDenied(ThreadlineError):
    status = 403
    code = "forbidden"


class Conflict(ThreadlineError):
    status = 409
    code = "conflict"


class RateLimited(ThreadlineError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
