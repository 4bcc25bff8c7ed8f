"""PostgreSQL: the small kinds' GIN index (migration 0004) holds the kind too.

Measured at 1,000,000 messages (bench/search.py, EXPLAIN ANALYZE, loaded machine): without the kind, a query of
one small kind still read the rows of the others holding its words to drop them: "charged twice" asked of the
contacts read the 22,666 conversation subjects holding it, 909 ms, to find none; 'invoice':* over the contacts
took 40 ms (the kind came from a second index, ANDed). With the kind inside, the index intersects them itself:
10 ms and 12 ms; an article search 17 ms. Messages keep the workspace's index without the kind (migration 0003:
intersecting every query with the messages' own postings tripled its cost). Built in 17 s over 560,000
documents.
"""

from django.db import migrations

POSTGRESQL = [
    "CREATE INDEX IF NOT EXISTS search_document_small_kind_fts ON search_document "
    "USING gin (workspace_id, kind, document) WHERE kind <> 'message'",
    "DROP INDEX IF EXISTS search_document_small_kinds_fts",
]
POSTGRESQL_BACK = [
    "CREATE INDEX IF NOT EXISTS search_document_small_kinds_fts ON search_document "
    "USING gin (workspace_id, document) WHERE kind <> 'message'",
    "DROP INDEX IF EXISTS search_document_small_kind_fts",
]


def _run(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0004_small_kinds_gin"),
    ]

    operations = [migrations.RunPython(_run(POSTGRESQL), _run(POSTGRESQL_BACK))]
