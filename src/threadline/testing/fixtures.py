"""Pytest fixtures shared by every test (loaded by the repository's root conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from threadline.jobs.worker import Worker
from threadline.testing import factories
from threadline.testing.mailbox import no_system_mail, system_mail  # noqa: F401 - fixtures for every test
from threadline.testing.receiver import Receiver


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "attachments"
    # Argon2 costs ~1 s per user on 2 cores; tests that check hashing itself start real servers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.THREADLINE = {**settings.THREADLINE, "OUTBOUND_ALLOW_PRIVATE": True}
    # Throttle and rate-limit counters live in the cache: on a shared Redis they would outlive the test (and
    # the run), so one test's failed sign-ins would lock out the next. Each test gets keys of its own.
    fresh_cache(settings)


def fresh_cache(settings) -> None:  # noqa: ANN001 - pytest-django's settings fixture
    """Give the test's cache keys a new prefix: its counters start again from nothing. Never `cache.clear()`:
    on Redis that flushes the whole database, the keys of the tests other workers are running too."""
    settings.CACHES = {name: {**config, "KEY_PREFIX": f"{config.get('KEY_PREFIX', '').split(':test-')[0]}"
                                                      f":test-{uuid.uuid4().hex}"}
                       for name, config in settings.CACHES.items()}


@pytest.fixture
def run_jobs() -> Callable[..., int]:
    """Run every ready job, as the worker would, until none is left; returns how many ran."""
    worker = Worker(worker_id="test:0:0")

    def run(max_jobs: int = 1000) -> int:
        return worker.run_until_idle(max_jobs)

    return run


@pytest.fixture
def admin(db):
    return factories.make_workspace()


@pytest.fixture
def token(admin) -> str:
    return factories.make_token(admin)


@pytest.fixture
def api(client, token):
    """Django's test client with the admin's bearer token on every request."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failing test that ran against a `threadline serve` child (a `server` fixture) shows the end of that
    server's log beside the failure: the server's side of a browser timeout is otherwise lost with its
    temporary directory."""
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("server")
    if report.failed and hasattr(server, "errors"):
        report.sections.append(("threadline serve log (last 6000 characters)", server.errors()[-6000:]))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests share one xdist worker (`xdist_group("browser")`, run one after another): put them
    first, so that worker starts on them while the other workers take the rest, instead of the whole group
    running alone at the end of the suite (it is its longest chain)."""
    def in_browser_group(item: pytest.Item) -> bool:
        return any(mark.args[:1] == ("browser",) for mark in item.iter_markers("xdist_group"))

    items.sort(key=lambda item: not in_browser_group(item))  # stable: each part keeps its order
