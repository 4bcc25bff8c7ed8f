from __future__ import annotations

import pytest

from threadline.realtime.testkit import realtime  # noqa: F401


@pytest.fixture(autouse=True)
def _own_cache(realtime):  # noqa: F811
    """Sign-in throttles live in the cache: each test gets a cache of its own."""
    yield
