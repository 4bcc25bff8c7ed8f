"""Finding an answer: the knowledge base's article search (lexical), as the bot reads it."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def search(workspace_id: int, text: str, *, language: str | None, brand_id: int | None, limit: int = 3) -> list[Any]:
    """The published articles that best answer `text`, best first (`knowledge.queries.ArticleHit`); none
    when the knowledge base is not installed."""
    try:
        from threadline.knowledge.queries import search_articles
    except ImportError:  # the knowledge domain is not part of this installation
        return []
    return list(search_articles(workspace_id, text, language=language or None, brand_id=brand_id, limit=limit))
