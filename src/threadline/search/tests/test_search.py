"""The engine end to end: rows written through the domain actions, indexed by the event pipeline (the real
worker), found through `find` in five languages, ranked, typo-tolerant, kept up to date, scoped to a workspace.
Runs on SQLite (FTS5) and, with THREADLINE_TEST_DATABASE_URL, on PostgreSQL (tsvector + pg_trgm)."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.contacts.actions import do_register_contact, do_update_contact
from threadline.contacts.merge import do_merge_contacts, do_unmerge_contacts
from threadline.conversations.actions import do_add_note, do_update_conversation
from threadline.search.models import SearchDocument, SearchTerm
from threadline.search.queries import AGENT_KINDS, AGENT_VISIBILITIES, find
from threadline.search.results import agent_search
from threadline.search.tests.builders import drain, writes
from threadline.testing import factories

pytestmark = pytest.mark.django_db(transaction=False)


def ids(workspace_id: int, query: str, kind: str = "message") -> list[int]:
    return [h.object_id for h in find(workspace_id, query, kinds=[kind], visibilities=AGENT_VISIBILITIES,
                                      limit=20).hits]


@pytest.fixture
def channel(admin):
    return factories.make_api_channel(admin)


def test_thai_words_are_found_inside_unspaced_text(admin, channel):
    message = writes(channel, "สวัสดีครับ ผมต้องการติดตามพัสดุหมายเลขTH12345 ยังไม่ได้รับเลย")
    other = writes(channel, "ขอยกเลิกคำสั่งซื้อครับ", address="somchai@example.co.th")
    assert ids(admin.workspace_id, "พัสดุ") == [message.pk]
    assert ids(admin.workspace_id, "ติดตามพัสดุ") == [message.pk]
    assert ids(admin.workspace_id, "ยกเลิก") == [other.pk]


def test_hebrew_is_found_with_and_without_prefixes(admin, channel):
    message = writes(channel, "שלום, ובהזמנה שלי חסר פריט אחד", address="noa@example.co.il")
    pointed = writes(channel, "תּוֹדָה רַבָּה עַל הַמִּשְׁלוֹחַ", address="avi@example.co.il")
    assert ids(admin.workspace_id, "הזמנה") == [message.pk]
    assert ids(admin.workspace_id, "ההזמנה") == [message.pk]
    assert ids(admin.workspace_id, "משלוח") == [pointed.pk]  # niqqud in the message, none in the query


def test_persian_is_found_with_and_without_the_zero_width_non_joiner(admin, channel):
    joined = writes(channel, "من سفارشم را پیگیری می‌کنم", address="sara@example.ir")
    plain = writes(channel, "هنوز پیگیری ميکنم", address="reza@example.ir")  # Arabic yeh, no non-joiner
    assert sorted(ids(admin.workspace_id, "میکنم")) == sorted([joined.pk, plain.pk])
    assert sorted(ids(admin.workspace_id, "می‌کنم")) == sorted([joined.pk, plain.pk])


def test_czech_is_found_without_diacritics(admin, channel):
    message = writes(channel, "Dobrý den, zásilka pro paní Dvořákovou ještě nedorazila.", name="Jana Dvořáková",
                     address="jana@example.cz")
    assert ids(admin.workspace_id, "zasilka dvorakovou") == [message.pk]
    assert ids(admin.workspace_id, "dvorakova", "contact") == [message.conversation.contact_id]


def test_a_typo_finds_the_word(admin, channel):
    message = writes(channel, "My tracking number does not work")
    assert ids(admin.workspace_id, "tracking") == [message.pk]
    found = find(admin.workspace_id, "tracknig number", kinds=["message"], visibilities=AGENT_VISIBILITIES, limit=5)
    assert [h.object_id for h in found.hits] == [message.pk] and found.corrected
    assert ids(admin.workspace_id, "zzqxv") == []


def test_titles_rank_above_bodies(admin, channel):
    in_body = writes(channel, "a question about the refund of my order", subject="Order question",
                     address="a@example.com")
    in_title = writes(channel, "hello", subject="Refund", address="b@example.com")
    hits = find(admin.workspace_id, "refund", kinds=list(AGENT_KINDS), visibilities=AGENT_VISIBILITIES, limit=10).hits
    assert [(h.kind, h.object_id) for h in hits] == [("conversation", in_title.conversation_id),
                                                     ("message", in_body.pk)]


def test_the_last_word_matches_as_a_prefix(admin, channel):
    message = writes(channel, "Where is my parcel?")
    assert ids(admin.workspace_id, "parc") == [message.pk]
    assert ids(admin.workspace_id, "pa") == []


def test_notes_are_indexed_as_internal(admin, channel):
    message = writes(channel, "hello")
    with transaction.atomic():
        note = do_add_note(admin, message.conversation, "customer is a VIP, escalate quickly")
    drain()
    assert ids(admin.workspace_id, "escalate") == [note.pk]
    assert find(admin.workspace_id, "escalate", kinds=["message"], visibilities=["public"], limit=5).hits == []


def test_the_index_follows_subject_and_name_edits(admin, channel):
    message = writes(channel, "hello", subject="Broken zipper")
    conversation, contact = message.conversation, message.conversation.contact
    with transaction.atomic():
        do_update_conversation(admin, conversation, subject="Torn sleeve")
        do_update_contact(contact, actor=admin, name="Dana Mizrahi")
    drain()
    assert ids(admin.workspace_id, "zipper", "conversation") == []
    assert ids(admin.workspace_id, "sleeve", "conversation") == [conversation.pk]
    assert ids(admin.workspace_id, "mizrahi", "contact") == [contact.pk]
    assert SearchDocument.objects.get(kind="contact", object_id=contact.pk).title == "dana mizrahi"


def test_merge_and_unmerge_move_identities_between_contacts(admin, channel):
    with transaction.atomic():
        target = do_register_contact(admin, name="Ori Ben", identities_in=[{"kind": "email", "address": "ori@example.com"}])
        source = do_register_contact(admin, name="O. Ben", identities_in=[{"kind": "phone", "address": "+972527771234"}])
    drain()
    assert ids(admin.workspace_id, "7771234", "contact") == [source.pk]
    with transaction.atomic():
        merge = do_merge_contacts(admin, source, target)
    drain()
    assert ids(admin.workspace_id, "7771234", "contact") == [target.pk]
    assert ids(admin.workspace_id, "ben", "contact") == [target.pk]  # the merged one is gone
    with transaction.atomic():
        do_unmerge_contacts(admin, merge)
    drain()
    assert ids(admin.workspace_id, "7771234", "contact") == [source.pk]


def test_two_workspaces_never_see_each_others_documents(admin, channel):
    message = writes(channel, "confidential invoice quarterly")
    other = factories.make_workspace("Other Co")
    theirs = writes(factories.make_api_channel(other), "confidential invoice monthly")
    assert ids(admin.workspace_id, "confidential") == [message.pk]
    assert ids(other.workspace_id, "confidential") == [theirs.pk]
    assert ids(other.workspace_id, "quarterly") == []
    assert ids(other.workspace_id, "quartrely") == []  # not through the typo dictionary either
    assert not SearchTerm.objects.filter(workspace_id=other.workspace_id, term="quarterly").exists()


def test_documents_hold_analysed_text_only(admin, channel):
    message = writes(channel, "Paní Dvořáková")
    doc = SearchDocument.objects.get(kind="message", object_id=message.pk)
    assert doc.body == "pani dvorakova" and doc.workspace_id == admin.workspace_id


def test_a_thai_typo_or_the_start_of_a_compound_is_found_through_the_whole_run(admin, channel):
    message = writes(channel, "ฉันถูกเรียกเก็บเงินสองครั้งสำหรับใบแจ้งหนี้")  # "ใบแจ้งหนี้" (invoice) is one word here
    found = find(admin.workspace_id, "ใบแจงหนี้", kinds=["message"], visibilities=AGENT_VISIBILITIES, limit=5)
    assert [h.object_id for h in found.hits] == [message.pk] and found.corrected  # a tone mark missing
    assert ids(admin.workspace_id, "ใบแจ้ง") == [message.pk]  # cut into "ใบ" + "แจ้ง", found as the run's prefix
    assert ids(admin.workspace_id, "ใบแจ้งหนี้") == [message.pk]
    assert ids(admin.workspace_id, "ใบขับขี่") == []  # a driving licence: another compound


def test_the_agents_page_asks_for_close_spellings_only_when_no_section_found_the_words(admin, channel):
    """A word found in messages is not a typo because no contact holds it: the contacts section stays empty
    instead of showing a contact whose name is one letter away. When nothing is found anywhere, every section
    shows what the close spellings find."""
    message = writes(channel, "Please send the invoice again", name="Nora Invoize", address="nora@example.com")
    page = agent_search(admin, "invoice", per_kind=20)
    assert [m.pk for m in page["message"]] == [message.pk] and page["contact"] == [] and not page["corrected"]
    page = agent_search(admin, "invoise", per_kind=20)  # found nowhere as written
    assert [m.pk for m in page["message"]] == [message.pk] and page["corrected"]
    assert [c.pk for c in page["contact"]] == [message.conversation.contact_id]  # "invoize", one letter away
