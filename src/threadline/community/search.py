"""Topics in the search engine: one document per topic (title = the topic's title, body = its visible posts).

Only public topics (approved, open or locked) have a document; hiding, merging or holding one removes it, so the
forum's search never finds what the forum does not show. The community's actions re-index a topic in the
transaction that changed it (`index_topics`). `register()` (at start-up) adds the builder to the search
domain's builders and the topics to `threadline search rebuild`, so a rebuild indexes them too.
"""

from __future__ import annotations

from collections.abc import Iterable

from threadline.community.models import Post, Topic, TopicState
from threadline.search import actions as search_actions
from threadline.search import documents, rebuild
from threadline.search.analysis import index_text
from threadline.search.backends import backend
from threadline.search.documents import Document
from threadline.search.models import SearchDocument, Visibility
from threadline.search.queries import find

KIND = "topic"
BODY_POSTS = 200  # posts of one topic that are indexed (the first ones: the question and its first answers)


def topic_documents(ids: Iterable[int]) -> list[Document]:
    topics = list(Topic.objects.filter(pk__in=list(ids), approved=True,
                                       state__in=[TopicState.OPEN, TopicState.LOCKED])
                  .values_list("pk", "workspace_id", "title"))
    bodies: dict[int, list[str]] = {pk: [] for pk, _, _ in topics}
    for topic_id, body in (Post.objects.filter(topic_id__in=list(bodies), held_for_moderation=False, hidden=False)
                           .order_by("id").values_list("topic_id", "body")):
        if len(bodies[topic_id]) < BODY_POSTS:
            bodies[topic_id].append(body)
    return [Document(workspace_id, KIND, pk, index_text(title), index_text("\n".join(bodies[pk])),
                     Visibility.PUBLIC) for pk, workspace_id, title in topics]


def index_topics(ids: Iterable[int]) -> None:
    """(Re)index these topics from their rows, in the caller's transaction."""
    search_actions.do_index(KIND, ids)


def search_topic_ids(workspace_id: int, query: str, *, limit: int) -> list[int]:
    """Public topics of the workspace matching `query`, best first (typo-tolerant, every language)."""
    found = find(workspace_id, query, kinds=[KIND], visibilities=[Visibility.PUBLIC], limit=limit)
    return [hit.object_id for hit in found.hits]


def topics_of_contacts(contact_ids: Iterable[int]) -> list[int]:
    """Topics holding posts by these contacts' members (what a privacy erasure changes)."""
    return sorted(set(Post.objects.filter(author__contact_id__in=list(contact_ids))
                      .values_list("topic_id", flat=True)))


def reindex_after_erasure(workspace_id: int, topic_ids: list[int]) -> None:
    """After an erasure deleted a contact's member (its topics and posts with it): rebuild those topics'
    documents (a deleted topic loses its own), forget the words only they held, and compact the index."""
    terms: set[str] = set()
    for title, body in SearchDocument.objects.filter(kind=KIND, object_id__in=topic_ids).values_list("title", "body"):
        terms |= set(f"{title} {body}".split())
    index_topics(topic_ids)
    search_actions.do_forget_terms(workspace_id, terms)
    backend().compact()


def register() -> None:
    documents.BUILDERS.setdefault(KIND, topic_documents)
    rebuild.SOURCES.setdefault(KIND, Topic)
