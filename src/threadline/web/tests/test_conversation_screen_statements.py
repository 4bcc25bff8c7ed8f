"""The conversation screen (conversation, timeline, contact panel and composer in one request) reads in a fixed
number of SQL statements: the same for a customer with one message on one channel as for one with messages,
events and notes on five channels, fields on both boxes and several agents and teams (docs/performance.md,
"The conversation screen's statements"). A count, not a time: it cannot pass by luck on a fast machine."""

from __future__ import annotations

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from threadline.contacts.custom_fields import do_save_field
from threadline.conversations.actions import do_add_note, do_update_conversation
from threadline.tenancy.actions import do_create_team
from threadline.testing import factories
from threadline.web.tests.helpers import FETCH, customer_writes

# 5 of them sign the request in (session, user, second factor, single sign-on, seat): the screen's own are the rest
SCREEN_STATEMENTS = 33


def statements(client, conversation_id: int) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(f"/app/x/conversations/{conversation_id}", **FETCH)
    assert answer.status_code == 200
    return len(captured.captured_queries), answer.content.decode()


def test_the_screen_reads_the_same_statements_however_much_the_customer_has(signed_in, admin):
    first = factories.make_api_channel(admin)
    conversation = customer_writes(first, "Where is my order?", message_id="m1").conversation
    signed_in.get(f"/app/x/conversations/{conversation.pk}", **FETCH)  # first request: session and caches
    small, _page = statements(signed_in, conversation.pk)

    channels = [factories.make_api_channel(admin) for _ in range(4)]
    for n, channel in enumerate(channels):
        customer_writes(channel, f"Still waiting ({n})", message_id=f"more-{n}")
    other = factories.make_agent(admin, "lena@example.com")
    with transaction.atomic():
        team = do_create_team(admin.workspace, "Billing", [admin, other])
        do_update_conversation(admin, conversation, status="pending", tags=["vip", "billing"], team=team,
                               assignee=other)
        do_add_note(admin, conversation, "Checked the courier")
        do_save_field(admin.workspace, None, key="plan", label="Plan", kind="text", applies_to="contact",
                      options=[])
        do_save_field(admin.workspace, None, key="order", label="Order", kind="text", applies_to="conversation",
                      position=1, options=[])
    large, page = statements(signed_in, conversation.pk)

    # what the larger screen shows, so the count is of the same screen
    assert "Still waiting (3)" in page and "Checked the courier" in page and "Billing" in page
    assert "vip" in page and "Plan" in page and "Order" in page
    assert small == large == SCREEN_STATEMENTS, (small, large)
