"""PostgreSQL: GIN indexes of the messages' and the articles' own documents that no other index can stand in for.

The GIN arm of `backends.SMALL_KIND` asks one kind's documents; with `document @@ …` the planner chose among
the overlapping GIN indexes (the workspace's of 0003, the small kinds' of 0004/0005, the messages' of 0007) by
costs that do not see which kinds hold a word: 'custom':* over the messages read the 51,000 contacts holding it
through the workspace's index (86-122 ms at 300,000 messages, EXPLAIN ANALYZE, before and after VACUUM), and
'customer':* over the articles collected the postings of 50,000 "customerN" contact terms through the small
kinds' index (5-26 ms). These indexes hold `strip(document)` (the lexemes alone), which the arms of those kinds
name (`backends.OWN_INDEX`), so only they serve them: 0.01 ms each for those words. The messages' index of 0007
is replaced. Built over 305,652 messages and 15,300 article translations: see docs/performance.md.
"""

from django.db import migrations

from threadline.search.migrations._postgresql import on_postgresql

FORWARD = [
    "CREATE INDEX IF NOT EXISTS search_document_message_lexemes ON search_document "
    "USING gin (workspace_id, strip(document)) WHERE kind = 'message'",
    "CREATE INDEX IF NOT EXISTS search_document_article_lexemes ON search_document "
    "USING gin (workspace_id, strip(document)) WHERE kind = 'article'",
    "DROP INDEX IF EXISTS search_document_message_fts",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS search_document_message_fts ON search_document "
    "USING gin (workspace_id, document) WHERE kind = 'message'",
    "DROP INDEX IF EXISTS search_document_article_lexemes",
    "DROP INDEX IF EXISTS search_document_message_lexemes",
]


class Migration(migrations.Migration):
    dependencies = [("search", "0008_term_length_trgm")]
    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD))]
