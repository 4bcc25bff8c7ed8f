"""PostgreSQL: the GIN index over the tsvector holds the workspace but not the kind (migration 0002 had both).

Measured at 470,000 documents (bench/search.py, EXPLAIN ANALYZE): with the kind in the GIN index, every query
intersected its words with the posting list of its kind (300,000 messages), which tripled the index scan
(139 ms against 44 ms, loaded machine); the planner filters the kind on the rows it reads anyway, and still
uses the workspace where it narrows. SQLite is unchanged.
"""

from django.db import migrations

POSTGRESQL = [
    "CREATE INDEX search_document_workspace_fts ON search_document USING gin (workspace_id, document)",
    "DROP INDEX IF EXISTS search_document_scoped_fts",
]
POSTGRESQL_BACK = [
    "CREATE INDEX IF NOT EXISTS search_document_scoped_fts ON search_document "
    "USING gin (workspace_id, kind, document)",
    "DROP INDEX IF EXISTS search_document_workspace_fts",
]


def _run(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0002_scoped_index"),
    ]

    operations = [migrations.RunPython(_run(POSTGRESQL), _run(POSTGRESQL_BACK))]
