"""Throttles for everything that checks a password or a code: exponential back-off per (account, client).

Failures are counted per account *and* client address (core.client_address, which believes
`X-Forwarded-For` only from trusted proxies). After FREE_FAILURES failures from one address the account is
locked for that address only, BASE_DELAY seconds, doubling with every further failure up to MAX_DELAY; so a
wrong password typed somewhere never locks the real user out from another address (or everybody behind the
same proxy). Each address also has a budget across all accounts against password spraying (SPRAY.free
failures within an hour, then a back-off of at most 15 minutes: generous, since an office behind one NAT
address shares it). A success clears the (account, client) record. Counters live in the cache: Redis in scaled mode,
so every web node sees them; the process's memory in embedded mode.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

from threadline.core.errors import RateLimited

BASE_DELAY = 30
ANY_ACCOUNT = "*"


@dataclass(frozen=True)
class Budget:
    """`free` failures are remembered for `memory` seconds; the back-off stops growing at `cap` seconds."""

    free: int
    memory: int
    cap: int


PER_ACCOUNT = Budget(free=5, memory=24 * 3600, cap=6 * 3600)
SPRAY = Budget(free=100, memory=3600, cap=15 * 60)


@dataclass(frozen=True)
class Throttle:
    """One password or code form: `scope` names it (login, totp, setup). A public form that is not a password
    (the help center's feedback and contact forms) counts every submission as a failure, with budgets of its own."""

    scope: str
    per_account: Budget = PER_ACCOUNT
    per_client: Budget = SPRAY

    def _key(self, account: str, client: str) -> str:
        digest = hashlib.sha256(f"{self.scope}\0{account.strip().lower()}".encode()).hexdigest()[:32]
        return f"tl:throttle:{self.scope}:{digest}:{client}"

    def _keys(self, account: str, client: str) -> list[tuple[str, Budget]]:
        return [(self._key(account, client), self.per_account), (self._key(ANY_ACCOUNT, client), self.per_client)]

    def retry_after(self, account: str, client: str) -> int:
        """Seconds this client must wait before trying this account again; 0 when it may try now."""
        moment = time.time()
        until = max((cache.get(f"{key}:until") or 0.0) for key, _budget in self._keys(account, client))
        return max(0, math.ceil(until - moment))

    def failed(self, account: str, client: str) -> int:
        """Count a failure; returns the seconds the client is now locked out of this account (0: none)."""
        moment = time.time()
        for key, budget in self._keys(account, client):
            cache.add(f"{key}:n", 0, budget.memory)
            try:
                failures = cache.incr(f"{key}:n")
            except ValueError:  # expired between add and incr
                cache.add(f"{key}:n", 1, budget.memory)
                failures = 1
            delay = backoff(failures, budget)
            if delay:
                cache.set(f"{key}:until", moment + delay, delay + 1)
        return self.retry_after(account, client)

    def succeeded(self, account: str, client: str) -> None:
        key = self._key(account, client)
        cache.delete_many([f"{key}:n", f"{key}:until"])


def backoff(failures: int, budget: Budget) -> int:
    """0 for the first `free - 1` failures, then BASE_DELAY, doubling with each failure, at most `cap`."""
    if failures < budget.free:
        return 0
    return min(budget.cap, BASE_DELAY * 2 ** min(failures - budget.free, 20))


LOGIN = Throttle("login")
SECOND_FACTOR = Throttle("totp")
SETUP_LINK = Throttle("setup")
PASSWORD_CHANGE = Throttle("password")  # the current password asked for by a change (per account and client)
RESET_REQUEST = Throttle("reset")  # every reset request counts, whether or not the address exists


def check_rate(key: str, limit: int, *, window: int, message: str) -> None:
    """A fixed-window counter in the cache (Redis in scaled mode, so shared by every web node): the `limit + 1`th
    call for `key` within `window` seconds raises RateLimited(message) with the seconds left in the window."""
    slot = int(time.time() // window)
    cache_key = f"ratelimit:{key}:{slot}"
    if cache.add(cache_key, 1, timeout=window + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=window + 1)
            count = 1
    if count > limit:
        retry_after = max(1, math.ceil((slot + 1) * window - time.time()))
        raise RateLimited(message, retry_after=retry_after)
