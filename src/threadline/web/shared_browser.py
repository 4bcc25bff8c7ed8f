"""The `browser` fixture of the browser tests (a pytest plugin, loaded by the repository's root conftest.py):
Debian's Chromium headless shell (`testkit.CHROMIUM`), driven by Playwright, started once for all the browser
tests a test process runs one after another, across modules, instead of once per module or per test (a driver
and a Chromium start: see docs/performance.md, "Test suite time").

Each test still has a browser of its own in what matters: the contexts it opens (cookies, storage, cache,
sockets) are closed when it ends. The browser is stopped as soon as the next test of the process needs none:
while Playwright's sync API is up, its event loop counts as running in this thread, and Django refuses
database access from a thread with a running event loop (SynchronousOnlyOperation).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from threadline.web.testkit import launch


class SharedChromium:
    def __init__(self) -> None:
        self.driver: Any = None
        self.browser: Any = None
        self.starts = 0

    def get(self) -> Any:
        if self.browser is not None and not self.browser.is_connected():  # it crashed: start another one
            self.stop()
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            self.driver = sync_playwright().start()
            self.browser = launch(self.driver)
            self.starts += 1
        return self.browser

    def stop(self) -> None:
        browser, driver = self.browser, self.driver
        self.browser = self.driver = None
        try:
            if browser is not None and browser.is_connected():
                browser.close()
        finally:
            if driver is not None:
                driver.stop()


SHARED = pytest.StashKey[SharedChromium]()


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Chromium for this test; the contexts the test opened are closed after it."""
    pytest.importorskip("playwright.sync_api")
    shared = request.config.stash.setdefault(SHARED, SharedChromium())
    chromium = shared.get()
    yield chromium
    for context in list(chromium.contexts):
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield  # the test's fixtures are torn down first
    shared = item.config.stash.get(SHARED, None)
    if shared is not None and (nextitem is None or "browser" not in getattr(nextitem, "fixturenames", ())):
        shared.stop()


def pytest_unconfigure(config: pytest.Config) -> None:
    shared = config.stash.get(SHARED, None)
    if shared is not None:
        shared.stop()
