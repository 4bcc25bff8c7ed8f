"""Logging filters named in `config/settings.py` LOGGING.

A request with a Host header that is not ours (scanners, a misconfigured proxy) is the caller's mistake:
Django answers 400 and logs it at ERROR with the whole traceback, thirty lines per request. `OneLine` keeps
the record (the message says which host) and drops the traceback and the level to WARNING.
"""

from __future__ import annotations

import logging


class OneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True
