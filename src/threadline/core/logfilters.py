"""Logging filters named in `config/settings.py` LOGGING.

A request with a Host header that is not ours (scanners, a misconfigured proxy) is the caller's mistake:
Django answers 400 and logs it at ERROR with the whole traceback, thirty lines per request. `OneLine` keeps
the record (the message says which host) and drops the traceback and the level to WARNING.

`RedactSecrets` keeps secrets that travel in URLs out of the logs: it sits on the console handler, so it sees
every record, including uvicorn's access lines (`GET /setup/<token>/`), its WebSocket lines
(`/ws/webchat/1/?token=...`) and Django's `Not Found: /setup/<token>/`, and rewrites the message and its
arguments before they are formatted.
"""

from __future__ import annotations

import logging
import re


class OneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


REDACTED = "[redacted]"
PATTERNS = [
    # the one-time setup link (and any other path secret added under these prefixes)
    (re.compile(r"(/setup/)[^/\s?\"']+"), rf"\1{REDACTED}"),
    # visitor tokens, API tokens or signatures passed in a query string
    (re.compile(r"([?&](?:token|access_token|visitor_token|user_hash|signature|code|key)=)[^&\s\"']*",
                re.IGNORECASE), rf"\1{REDACTED}"),
]


def redact(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True
