from __future__ import annotations

import pytest

from threadline.realtime.testkit import realtime  # noqa: F401


@pytest.fixture(autouse=True)
def _own_cache(realtime):  # noqa: F811
    """The agent pages keep presence in the cache: each test gets a cache of its own."""
    yield
