"""The installation's mail server in tests: a real SMTP server on loopback (channels.email.testkit.SmtpSink)
set as THREADLINE_SYSTEM_MAIL_URL, and helpers to wait for a message and read the one-time link in it."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from typing import Any

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


@contextlib.contextmanager
def mailing_server(request: Any, tmp_path_factory: Any, name: str) -> Iterator[tuple[Any, SmtpSink]]:
    """A real `threadline serve` (web.testkit.threadline_server, on a migrated copy of the test database) whose
    installation mail goes to a fresh SMTP sink; for browser tests that follow mailed links."""
    from threadline.testing.server import migrated_copy
    from threadline.web.testkit import threadline_server

    sink = SmtpSink().start()
    try:
        data_dir = tmp_path_factory.mktemp(name) / "data"
        with migrated_copy(request, tmp_path_factory, data_dir) as url, \
                threadline_server(data_dir, url, THREADLINE_SYSTEM_MAIL_URL=sink.url) as server:
            yield server, sink
    finally:
        sink.stop()
