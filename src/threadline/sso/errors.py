"""Why a single sign-on was refused."""

from __future__ import annotations


class SsoFailed(Exception):
    """A sign-in through the identity provider that must not go through.

    `reason` is a short stable code (recorded in the audit log and counted by the throttle); `detail` says what
    exactly was wrong, for the audit log and the server log only: the browser is told much less.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail
