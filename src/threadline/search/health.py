"""`threadline doctor`'s check of the search index: built (or being built), not forgotten after an upgrade."""

from __future__ import annotations

from threadline.conversations.models import Message
from threadline.core.health import Check
from threadline.search.models import RebuildProgress, SearchDocument


def check_search_index() -> Check:
    try:
        unbuilt = Message.objects.exists() and not SearchDocument.objects.filter(kind="message").exists()
        interrupted = RebuildProgress.objects.exists()
    except Exception as exc:  # noqa: BLE001 - doctor reports every failure as a check
        return Check("search index", False, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    if unbuilt:
        return Check("search index", False, "messages exist but none is indexed: run `threadline search rebuild`")
    if interrupted:
        return Check("search index", False, "a rebuild was interrupted: run `threadline search rebuild` to finish it")
    return Check("search index", True, "built")
