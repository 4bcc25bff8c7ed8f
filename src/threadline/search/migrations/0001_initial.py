"""The search index: its tables, then the database's own full-text structures over them.

SQLite: an FTS5 table over `search_document` (external content, kept in step by triggers) with `unicode61` on
the pre-analysed text (Thai vowel and tone marks are word characters, so segmented Thai words stay whole), and a
`trigram` FTS5 table over `search_term` for typo tolerance. PostgreSQL: a generated `tsvector` column (config
`simple`, titles weight A, bodies B) with a GIN index, and `pg_trgm` over `search_term`.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tenancy', '0006_passwords_and_invitations'),
    ]

    operations = [
        migrations.CreateModel(
            name='RebuildProgress',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scope', models.CharField(max_length=100)),
                ('kind', models.CharField(max_length=24)),
                ('last_id', models.BigIntegerField(default=0)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'db_table': 'search_rebuild',
                'constraints': [models.UniqueConstraint(fields=('scope', 'kind'), name='search_rebuild_scope_kind')],
            },
        ),
        migrations.CreateModel(
            name='SearchDocument',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=24)),
                ('object_id', models.BigIntegerField()),
                ('visibility', models.CharField(choices=[('public', 'Public'), ('internal', 'Internal')], default='public', max_length=16)),
                ('title', models.TextField(blank=True)),
                ('body', models.TextField(blank=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace')),
            ],
            options={
                'db_table': 'search_document',
                'constraints': [models.UniqueConstraint(fields=('kind', 'object_id'), name='search_document_object')],
            },
        ),
        migrations.CreateModel(
            name='SearchTerm',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('term', models.CharField(max_length=64)),
                ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.workspace')),
            ],
            options={
                'db_table': 'search_term',
                'constraints': [models.UniqueConstraint(fields=('workspace', 'term'), name='search_term_unique')],
            },
        ),
    ]

THAI_MARKS = "".join(chr(c) for c in [0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)])
SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_document', content_rowid='id', "
    f"tokenize=\"unicode61 remove_diacritics 0 tokenchars '{THAI_MARKS}'\")",
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE VIRTUAL TABLE search_term_fts USING fts5(term, content='search_term', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER search_term_ai AFTER INSERT ON search_term BEGIN "
    "INSERT INTO search_term_fts(rowid, term) VALUES (new.id, new.term); END",
    "CREATE TRIGGER search_term_ad AFTER DELETE ON search_term BEGIN "
    "INSERT INTO search_term_fts(search_term_fts, rowid, term) VALUES ('delete', old.id, old.term); END",
]
SQLITE_DROP = ["DROP TABLE IF EXISTS search_fts", "DROP TABLE IF EXISTS search_term_fts"]
POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE search_document ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || setweight(to_tsvector('simple'::regconfig, body), 'B')"
    ") STORED",
    "CREATE INDEX search_document_fts ON search_document USING gin (document)",
    "CREATE INDEX search_term_trgm ON search_term USING gin (term gin_trgm_ops)",
]
POSTGRESQL_DROP = ["DROP INDEX IF EXISTS search_term_trgm", "DROP INDEX IF EXISTS search_document_fts",
                   "ALTER TABLE search_document DROP COLUMN IF EXISTS document"]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


Migration.operations.append(migrations.RunPython(
    _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
    _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
))
