"""PostgreSQL: the typo dictionary's trigram index holds the workspace and each term's length.

The typo fallback asks `search_term` for a workspace's terms within two letters of the query word's length
that share trigrams with it (`backends.PostgreSQLBackend.similar_terms`). The index of migration 0001 held
the trigrams alone, so the length was checked on the rows: "custom" shares enough trigrams with each of the
50,000 seeded "customerN" terms that the planner read the whole dictionary instead (Seq Scan over 62,015
terms, 227 ms at 300,000 messages, EXPLAIN ANALYZE) for one term of length 4-8. With the length (and the
workspace, `btree_gin`, installed by migration 0002) inside the GIN index, the range is intersected
with the trigrams in the index: `Bitmap Index Scan on search_term_length_trgm`, 2 rows, 1.4 ms. Built in
1.2 s over those 62,015 terms (1.8 MB; the old index, dropped here, was 5.3 MB).
"""

from django.db import migrations

from threadline.search.migrations._postgresql import on_postgresql

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX IF NOT EXISTS search_term_length_trgm ON search_term "
    "USING gin (workspace_id, length(term), term gin_trgm_ops)",
    "DROP INDEX IF EXISTS search_term_trgm",
    "ANALYZE search_term",  # the statistics of length(term), which the planner then has for the range
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS search_term_trgm ON search_term USING gin (term gin_trgm_ops)",
    "DROP INDEX IF EXISTS search_term_length_trgm",
]


class Migration(migrations.Migration):
    dependencies = [("search", "0007_message_gin")]
    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD))]
