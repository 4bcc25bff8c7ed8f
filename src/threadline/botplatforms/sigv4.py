"""AWS Signature Version 4 (the `Authorization: AWS4-HMAC-SHA256 ...` header), as AWS documents it.

canonical request = method \\n canonical URI \\n canonical query \\n canonical headers \\n signed headers \\n
hex(sha256(body)); string to sign = "AWS4-HMAC-SHA256" \\n amz-date \\n scope \\n hex(sha256(canonical
request)); the signing key is HMAC-chained over date, region, service and "aws4_request" from "AWS4" + secret.
For every service but S3, each path segment is URI-encoded twice: once in the URL sent, once more here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
UNRESERVED = "-_.~"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret}".encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def canonical_uri(path: str) -> str:
    return quote(path or "/", safe="/" + UNRESERVED)


def canonical_query(query: str) -> str:
    pairs = []
    for part in query.split("&") if query else []:
        name, _eq, value = part.partition("=")
        pairs.append((quote(name, safe=UNRESERVED + "%"), quote(value, safe=UNRESERVED + "%")))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def canonical_request(method: str, path: str, query: str, headers: dict[str, str], signed: list[str],
                      body_hash: str) -> str:
    lowered = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in signed)
    return "\n".join([method.upper(), canonical_uri(path), canonical_query(query), canonical_headers,
                      ";".join(signed), body_hash])


def string_to_sign(amz_date: str, scope: str, request: str) -> str:
    return "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(request.encode()).hexdigest()])


def signature(secret: str, amz_date: str, region: str, service: str, request: str) -> str:
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    key = signing_key(secret, amz_date[:8], region, service)
    return hmac.new(key, string_to_sign(amz_date, scope, request).encode(), hashlib.sha256).hexdigest()


def sign(method: str, url: str, *, headers: dict[str, str], body: bytes, access_key: str, secret_key: str,
         region: str, service: str, session_token: str = "", at: dt.datetime | None = None) -> dict[str, str]:
    """`headers` plus `Host`, `X-Amz-Date`, `X-Amz-Content-Sha256` (and `X-Amz-Security-Token` for temporary
    credentials) and the `Authorization` header that signs them all."""
    moment = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    parts = urlsplit(url)
    body_hash = hashlib.sha256(body).hexdigest()
    out = {**headers, "Host": parts.netloc, "X-Amz-Date": amz_date, "X-Amz-Content-Sha256": body_hash}
    if session_token:
        out["X-Amz-Security-Token"] = session_token
    signed = sorted(k.lower() for k in out)
    request = canonical_request(method, parts.path, parts.query, out, signed, body_hash)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    out["Authorization"] = (f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(signed)}, "
                            f"Signature={signature(secret_key, amz_date, region, service, request)}")
    return out
