"""PostgreSQL: a second GIN index over (workspace_id, document) holding every kind but messages.

Measured at 1,000,000 messages (bench/search.py, EXPLAIN ANALYZE, loaded machine): a word frequent in messages
asked of a small kind (contacts, articles, conversations) read every message's posting of the word from the
workspace's GIN index and then dropped them for their kind: 'invoice':* over 170,000 contacts took 490 ms to
find none. This index leaves the messages' postings out (the planner proves `kind = 'contact'` implies
`kind <> 'message'`): about 100 ms loaded. Built in 37 s over 1,580,000 documents. SQLite is unchanged (a
rowid range per kind already).
"""

from django.db import migrations

POSTGRESQL = [
    "CREATE INDEX IF NOT EXISTS search_document_small_kinds_fts ON search_document "
    "USING gin (workspace_id, document) WHERE kind <> 'message'",
]
POSTGRESQL_BACK = ["DROP INDEX IF EXISTS search_document_small_kinds_fts"]


def _run(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0003_workspace_gin"),
    ]

    operations = [migrations.RunPython(_run(POSTGRESQL), _run(POSTGRESQL_BACK))]
