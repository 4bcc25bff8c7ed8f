"""Issue 11, reads at size: the heap `serve` settles once warm, and the Server-Timing header that explains a slow
request from inside the server."""

from __future__ import annotations

import gc
import re

import pytest
from django.conf import settings
from django.test import Client

from threadline.core import warmup
from threadline.core.server_timing import GcClock


@pytest.fixture
def restored_gc():
    yield
    gc.unfreeze()


def test_settling_freezes_what_is_loaded(restored_gc):
    kept = [[n] for n in range(1000)]  # containers alive at the time: the collector tracks them
    warmup.settle_heap()
    assert gc.get_freeze_count() >= len(kept)
    assert all(gc.is_tracked(item) for item in kept)  # frozen, not untracked: still freed by reference counting
    frozen = gc.get_freeze_count()
    cycle: list[object] = []
    cycle.append(cycle)  # garbage made after the freeze is collected as before
    del cycle
    assert gc.collect() >= 1
    assert gc.get_freeze_count() == frozen


def test_a_full_collection_no_longer_walks_the_frozen_heap(restored_gc):
    ballast = [{"n": n} for n in range(200_000)]
    clock = GcClock()
    gc.callbacks.append(clock)
    try:
        gc.collect()
        before = clock.total
        warmup.settle_heap()
        clock.total = 0.0
        gc.collect()
        after = clock.total
    finally:
        gc.callbacks.remove(clock)
    assert after < before / 3, (before, after)  # CPU time: the frozen 200,000 dicts are not traversed
    assert len(ballast) == 200_000


def timing(response) -> dict[str, str]:
    return dict(re.findall(r"(\w+);dur=([\d.]+)", response["Server-Timing"]))


def test_the_server_timing_header_says_where_a_request_s_time_went(token, settings):
    settings.MIDDLEWARE = ["threadline.core.server_timing.ServerTimingMiddleware", *settings.MIDDLEWARE]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/v1/conversations")
    assert response.status_code == 200
    figures = timing(response)
    assert set(figures) == {"app", "cpu", "db", "gc", "conn"}
    assert float(figures["app"]) >= float(figures["db"]) > 0
    statements = int(re.search(r'db;dur=[\d.]+;desc="(\d+)"', response["Server-Timing"]).group(1))
    assert statements >= 2  # the token, then the page


def test_the_header_is_off_unless_asked_for(token):
    assert "threadline.core.server_timing.ServerTimingMiddleware" not in settings.MIDDLEWARE
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/conversations")
    assert response.status_code == 200 and "Server-Timing" not in response


def test_the_screens_are_compiled_before_the_heap_is_settled(settings):
    from django.template import engines
    from django.utils import translation

    warmup.load_screens()
    loader = engines["django"].engine.template_loaders[0]
    assert any(str(name).startswith("web/") for name in loader.get_template_cache)
    with translation.override("he"):
        assert translation.gettext("Conversations") != "Conversations"
