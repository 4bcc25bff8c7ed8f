"""`threadline doctor` says when the index was never built (an upgraded installation) or a rebuild stopped."""

from __future__ import annotations

from threadline.search.health import check_search_index
from threadline.search.models import RebuildProgress, SearchDocument
from threadline.search.rebuild import rebuild
from threadline.search.tests.builders import writes
from threadline.testing import factories


def test_the_check_fails_until_the_index_is_built_and_when_a_rebuild_stopped(admin):
    assert check_search_index().ok  # nothing to index yet
    writes(factories.make_api_channel(admin), "hello there")
    assert check_search_index().ok
    SearchDocument.objects.all().delete()  # as after upgrading to the release that adds search
    check = check_search_index()
    assert not check.ok and "threadline search rebuild" in check.detail
    RebuildProgress.objects.create(scope="", kind="message", last_id=0)
    assert not check_search_index().ok
    rebuild()
    assert check_search_index().ok and not RebuildProgress.objects.exists()
