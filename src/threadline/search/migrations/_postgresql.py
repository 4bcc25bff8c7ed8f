"""A migration step that runs SQL on PostgreSQL only (SQLite keeps its own structures, migration 0002); not a
migration itself (Django skips modules whose name starts with "_")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def on_postgresql(statements: list[str]) -> Callable[[Any, Any], None]:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run
