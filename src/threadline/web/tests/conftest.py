from __future__ import annotations

import pytest

from threadline.realtime.testkit import realtime  # noqa: F401
from threadline.testing import factories


@pytest.fixture(autouse=True)
def _own_cache(realtime):  # noqa: F811
    """Sign-in throttles and presence live in the cache: each test gets a cache (and channel layer) of its own."""
    yield


@pytest.fixture
def api_channel(admin, receiver):
    """An API channel whose replies reach the test's loopback receiver (test files may define their own)."""
    return factories.make_api_channel(admin, webhook_url=receiver.url)


@pytest.fixture
def signed_in(client, admin):
    client.force_login(admin.user)
    return client
