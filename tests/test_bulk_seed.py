"""The seeding path of bench/reads.py: the rows it writes are the shapes the product reads (contacts found by
their email and phone through the API's lookup, conversations with their messages in time order, history
closed and only the newest backlog live)."""

from __future__ import annotations

from threadline.contacts.models import Contact
from threadline.contacts.queries import list_contacts
from threadline.conversations.models import ACTIVE_STATUSES, Conversation, Message
from threadline.testing import factories
from threadline.testing.bulk import seed


def test_seeded_rows_read_like_real_ones(admin):
    channel = factories.make_api_channel(admin)
    result = seed(admin, [channel], 300, batch=70, backlog=30)
    assert result.conversations == 300 and result.contacts == 150
    assert Conversation.objects.count() == 300
    assert Message.objects.count() == result.messages >= 300 * 2
    live = Conversation.objects.filter(status__in=ACTIVE_STATUSES)
    assert live.count() == 30
    assert min(live.values_list("last_message_at", flat=True)) > max(
        Conversation.objects.exclude(status__in=ACTIVE_STATUSES).values_list("created_at", flat=True))
    conversation = Conversation.objects.get(pk=result.sample_conversation_ids[0])
    times = list(conversation.messages.order_by("id").values_list("created_at", flat=True))
    assert times == sorted(times) and times[-1] == conversation.last_message_at
    assert list_contacts(admin, q=result.sample_emails[0]).count() == 1
    assert list_contacts(admin, q=result.sample_phones[0]).count() == 1
    # rows are written with the ids given to them: the next row made the ordinary way gets a new id
    # (on PostgreSQL the sequences are moved past them)
    later = Conversation.objects.create(workspace_id=admin.workspace_id, contact_id=conversation.contact_id,
                                        subject="after the seed")
    assert later.pk > max(result.sample_conversation_ids)
    assert Contact.objects.create(workspace_id=admin.workspace_id, name="After").pk > conversation.contact_id
