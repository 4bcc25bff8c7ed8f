"""The index at size: the workspace, the kind and the visibility move inside each database's full-text index,
so a query filters, ranks and limits in the index instead of joining back over every match (docs/search.md).

SQLite: `search_fts` becomes a contentless FTS5 table whose rowid is a key that orders documents by
(workspace, kind, visibility, document id): `workspace_id << 41 | kind code << 37 | internal << 36 | id`. One
(workspace, kind) is then one contiguous rowid range, which FTS5 reads directly (`rowid BETWEEN`), newest first
(`ORDER BY rowid DESC`), so ranking runs over a capped window of the newest matches. The kind codes live in
`search_kind` (4 bits: 15 kinds; the known ones are fixed below, another domain's kind gets the next code on
its first document). The triggers refuse a workspace id, document id or kind code the key cannot hold rather
than index it under a wrong key.

PostgreSQL: the GIN index over the tsvector also holds the workspace and kind (btree_gin), and a b-tree on
(workspace, kind, id) lets the planner walk a frequent term's matches newest first and stop at the window.
"""

from django.db import migrations

THAI_MARKS = "".join(chr(c) for c in [0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)])
TOKENIZER = f"unicode61 remove_diacritics 0 tokenchars '{THAI_MARKS}'"


def _key(row: str) -> str:
    return (f"(({row}.workspace_id << 41) | ((SELECT code FROM search_kind WHERE name = {row}.kind) << 37) "
            f"| (({row}.visibility <> 'public') << 36) | {row}.id)")


def _checked(row: str) -> str:
    return (f"SELECT RAISE(ABORT, 'search index: workspace, document or kind out of the key range') "
            f"WHERE {row}.workspace_id >= 4194304 OR {row}.id >= 68719476736 "
            f"OR (SELECT code FROM search_kind WHERE name = {row}.kind) > 15;")


def _insert(row: str) -> str:
    # not INSERT OR IGNORE: an outer statement's conflict clause (Django's upserts) would override the IGNORE
    return (f"INSERT INTO search_kind(name) SELECT {row}.kind "
            f"WHERE NOT EXISTS (SELECT 1 FROM search_kind WHERE name = {row}.kind); {_checked(row)} "
            f"INSERT INTO search_fts(rowid, title, body) VALUES ({_key(row)}, {row}.title, {row}.body);")


def _delete(row: str) -> str:
    return (f"INSERT INTO search_fts(search_fts, rowid, title, body) "
            f"VALUES ('delete', {_key(row)}, {row}.title, {row}.body);")


OLD_TRIGGERS = ["search_document_ai", "search_document_ad", "search_document_au"]
SQLITE = [
    *[f"DROP TRIGGER IF EXISTS {name}" for name in OLD_TRIGGERS],
    "DROP TABLE IF EXISTS search_fts",
    "CREATE TABLE search_kind (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "INSERT INTO search_kind(code, name) VALUES (1, 'message'), (2, 'conversation'), (3, 'contact'), (4, 'article')",
    "INSERT OR IGNORE INTO search_kind(name) SELECT DISTINCT kind FROM search_document",
    f"CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='', tokenize=\"{TOKENIZER}\")",
    f"CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN {_insert('new')} END",
    f"CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN {_delete('old')} END",
    f"CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN {_delete('old')} {_insert('new')} END",
    f"INSERT INTO search_fts(rowid, title, body) SELECT {_key('d')}, d.title, d.body FROM search_document d",
]
SQLITE_BACK = [
    *[f"DROP TRIGGER IF EXISTS {name}" for name in OLD_TRIGGERS],
    "DROP TABLE IF EXISTS search_fts",
    "DROP TABLE IF EXISTS search_kind",
    f"CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_document', content_rowid='id', "
    f"tokenize=\"{TOKENIZER}\")",
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
]
POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX search_document_scoped_fts ON search_document USING gin (workspace_id, kind, document)",
    "DROP INDEX IF EXISTS search_document_fts",
    "CREATE INDEX search_document_recent ON search_document (workspace_id, kind, id)",
]
POSTGRESQL_BACK = [
    "CREATE INDEX IF NOT EXISTS search_document_fts ON search_document USING gin (document)",
    "DROP INDEX IF EXISTS search_document_scoped_fts",
    "DROP INDEX IF EXISTS search_document_recent",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
                             _run({"sqlite": SQLITE_BACK, "postgresql": POSTGRESQL_BACK})),
    ]
