"""Rewriting the strings inside a stored raw payload, whatever its shape: pure functions, no Django.

A payload is read as what it is (JSON, a form, a MIME message, else text), every string in it goes through
`fn`, and it is written back only when something changed. Parsing first means a value escaped by the format
(`\\u06f4` in JSON, `+` and `%2D` in a form, base64 or quoted-printable in mail) is still found. The rewritten
bytes are no longer what the provider signed: after redaction a payload is kept for audit and replay, not as
proof of origin.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl, urlencode

from threadline.core.mime_policy import parsed

Rewrite = Callable[[str], str]
MIME_START = re.compile(rb"^(?:[A-Za-z0-9-]+:[^\r\n]*\r?\n)+", re.ASCII)
FORM = re.compile(rb"^[A-Za-z0-9_.%+*~-]+=[^\s]*$", re.ASCII)
ATTACHMENT_PLACEHOLDER = "This attachment was redacted."


def rewrite_json(value: Any, fn: Rewrite) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: rewrite_json(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [rewrite_json(v, fn) for v in value]
    return value


def _json(body: bytes, fn: Rewrite) -> bytes | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict | list):
        return None
    changed = rewrite_json(data, fn)
    return body if changed == data else json.dumps(changed, ensure_ascii=False).encode()


def _form(body: bytes, fn: Rewrite) -> bytes:
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    changed = [(k, fn(v)) for k, v in pairs]
    return body if changed == pairs else urlencode(changed).encode()


def _mime(body: bytes, fn: Rewrite, drop_sha256: frozenset[str]) -> bytes:
    message = parsed(body)  # policy.default, each header parsed once; the email adapter's parse when it read these bytes
    changed = False
    subject = message.get("Subject")
    if subject is not None and fn(str(subject)) != str(subject):
        message.replace_header("Subject", fn(str(subject)))
        changed = True
    for part in message.walk():
        if part.is_multipart() or not isinstance(part, EmailMessage):
            continue
        try:
            content = part.get_content()
        except (LookupError, KeyError, ValueError):
            continue
        if isinstance(content, bytes):
            if hashlib.sha256(content).hexdigest() in drop_sha256:
                part.set_content(ATTACHMENT_PLACEHOLDER, disposition="attachment", filename="redacted.txt")
                changed = True
            continue
        if not isinstance(content, str):
            continue
        if hashlib.sha256(content.encode()).hexdigest() in drop_sha256:
            part.set_content(ATTACHMENT_PLACEHOLDER, disposition="attachment", filename="redacted.txt")
            changed = True
            continue
        new = fn(content)
        if new != content:
            part.set_content(new, subtype=part.get_content_subtype(), charset="utf-8",
                             disposition=part.get_content_disposition(), filename=part.get_filename())
            changed = True
    return message.as_bytes() if changed else body


def rewrite_payload(body: bytes, fn: Rewrite, *, content_type: str = "",
                    drop_sha256: frozenset[str] = frozenset()) -> bytes:
    """`body` with each string rewritten by `fn` (and MIME parts whose content hashes to `drop_sha256`
    replaced by a placeholder); the same bytes when nothing changed."""
    body = bytes(body)
    stripped = body.lstrip()
    if stripped[:1] in (b"{", b"["):
        result = _json(body, fn)
        if result is not None:
            return result
    if "x-www-form-urlencoded" in content_type or (not content_type and FORM.match(stripped)):
        return _form(body, fn)
    if MIME_START.match(body):
        return _mime(body, fn, drop_sha256)
    text = body.decode("utf-8", "surrogateescape")
    new = fn(text)
    return body if new == text else new.encode("utf-8", "surrogateescape")
