"""Pytest fixtures shared by every test (loaded by the repository's root conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from threadline.jobs.worker import Worker
from threadline.testing import emptying, factories
from threadline.testing.mailbox import no_system_mail, system_mail  # noqa: F401 - fixtures for every test
from threadline.testing.receiver import Receiver
from threadline.testing.server import snapshot_template


def pytest_configure(config: pytest.Config) -> None:
    emptying.install()  # a transactional test empties only the tables it filled (testing/emptying.py)


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "attachments"
    # Argon2 costs 0.05-1 s per hash on 2 cores; tenancy/tests/test_hashers.py checks the production hashers.
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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, request, tmp_path_factory):  # noqa: ANN001, ANN201 - pytest-django's
    """pytest-django's test database (the fixture of the same name), and right after its migrations, before any
    test writes to it, a snapshot of it as the template that `testing.server.migrated_copy` copies for each
    `threadline serve` of a test: one migration per test process instead of two."""
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            connection.close()
            if connection.settings_dict["OPTIONS"].get("pool"):
                connection.close_pool()  # PostgreSQL copies a database only when nobody is connected to it
        default = connections["default"].settings_dict
        if default["NAME"] == default["TEST"]["NAME"]:  # set up: some collected test uses the database
            snapshot_template(request.config, tmp_path_factory, default)
    return django_db_setup


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


@pytest.hookimpl(trylast=True)  # after pytest-django's, which sorts the tests by their kind of database use
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """How `pytest -n 2 --dist loadgroup` shares the work. xdist hands each worker a unit at a time (the tests
    of one `xdist_group`, or a single test), the largest units first, the rest in the order collected here:

    - each browser module (`xdist_group("browser")`) is a unit of its own: its tests share the module's
      `threadline serve` and run one after another on one worker, while the modules spread over both workers
      (and the browser modules one worker runs in a row share its Chromium: web/shared_browser.py);
    - the tests that start real processes (`slow`) come before the in-process tests, so the long units are
      handed out first and the short ones fill in at the end: both workers finish at about the same time.
    """
    def in_browser_group(item: pytest.Item) -> bool:
        return any(mark.args[:1] == ("browser",) for mark in item.iter_markers("xdist_group"))

    for item in items:
        if in_browser_group(item):
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
    items.sort(key=lambda item: (not in_browser_group(item), item.get_closest_marker("slow") is None))
    if getattr(config.option, "loadgroup", False):  # set in xdist's workers under --dist loadgroup
        for item in items:
            name_group(item)


def name_group(item: pytest.Item) -> None:
    """Give the test its `xdist_group` in its id (`<id>@<group>`), which is all xdist's scheduler reads.

    xdist 3.8 writes that id into `item._nodeid`, which pytest 9 no longer has: every group was silently
    ignored (each test a unit of its own, so a module's tests ran on both workers, each starting the module's
    server and browser). This writes it where pytest 9 keeps the id, and fails loudly if that stops working.
    """
    names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                    for mark in item.iter_markers("xdist_group")})
    if not names:
        return
    suffix = "@" + "_".join(names)
    if not item.nodeid.endswith(suffix):
        item._id = type(item._id).parse(item.nodeid + suffix)  # noqa: SLF001 - see above
    if not item.nodeid.endswith(suffix):
        raise pytest.UsageError(f"cannot put {item.nodeid} in its xdist group {suffix[1:]!r}")
