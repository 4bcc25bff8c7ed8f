"""How outbound webhooks are signed: `X-Threadline-Signature: t=<unix>,v1=<hex>`.

v1 is HMAC-SHA256 over `<t>.<raw body>` with the subscription's secret; receivers should reject a
timestamp older than five minutes (replay) and compare in constant time.
"""

from __future__ import annotations

import time

from threadline.core import crypto

TOLERANCE_SECONDS = 300


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={crypto.hmac_sha256_hex(secret, str(t).encode() + b'.' + body)}"


def verify(secret: str, body: bytes, header: str, *, now: int | None = None) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts.get("t", ""))
    except ValueError:
        return False
    current = int(time.time()) if now is None else now
    if abs(current - t) > TOLERANCE_SECONDS:
        return False
    expected = crypto.hmac_sha256_hex(secret, str(t).encode() + b"." + body)
    return crypto.constant_time_equals(parts.get("v1", ""), expected)
