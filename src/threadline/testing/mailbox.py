"""The installation's mail server in tests: a real SMTP server on loopback (channels.email.testkit.SmtpSink)
set as THREADLINE_SYSTEM_MAIL_URL, and helpers to wait for a message and read the one-time link in it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from threadline.channels.email.testkit import Captured, SmtpSink


@pytest.fixture
def system_mail(settings) -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    settings.THREADLINE = {**settings.THREADLINE, "SYSTEM_MAIL_URL": sink.url,
                           "SYSTEM_MAIL_FROM": "threadline@example.test"}
    yield sink
    sink.stop()


@pytest.fixture
def no_system_mail(settings) -> None:
    settings.THREADLINE = {**settings.THREADLINE, "SYSTEM_MAIL_URL": ""}


def wait_for_mail(sink: SmtpSink, count: int = 1, timeout: float = 10.0) -> list[Captured]:
    deadline = time.monotonic() + timeout
    while len(sink.handler.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sink.handler.received) >= count, f"{len(sink.handler.received)} of {count} messages arrived"
    return sink.handler.received


def link_in(captured: Captured, path: str) -> str:
    """The path (and secret) of the first `<PUBLIC_URL>/<path>/<secret>` link in the message's text."""
    body = captured.message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(rf"https?://[^/\s]+(/{path}/[A-Za-z0-9_-]+)", body)
    assert found, body
    return found.group(1)
