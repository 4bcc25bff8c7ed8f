"""The answer bot's real outcomes reach the facts: a Telegram customer asking for a person is handed over by the
bot (bot.handed_over through the event stream), its turn counts as a bot message and not as a first response."""

from __future__ import annotations

import pytest

from threadline.analytics import metrics
from threadline.analytics.metrics import Filters
from threadline.analytics.models import BotOutcome, ConversationFact
from threadline.analytics.refresh import rebuild
from threadline.analytics.tasks import refresh_facts_task
from threadline.bot.tests.helpers import enable_bot, support_team
from threadline.bot.tests.test_bot_telegram import bot_api, update  # noqa: F401 - the fixture
from threadline.channels.telegram.tests.test_telegram_channel import make_channel, post
from threadline.conversations.models import Conversation

pytestmark = pytest.mark.django_db


def test_a_hand_over_by_the_bot_is_a_fact(client, admin, run_jobs, bot_api):  # noqa: F811
    channel = make_channel(admin, bot_api.url)
    support_team(admin)
    enable_bot(admin, channel.pk)
    assert post(client, channel, update(1, "Can I talk to a human please?")).status_code == 202
    run_jobs()
    refresh_facts_task.func()
    conversation = Conversation.objects.get()
    fact = ConversationFact.objects.get(pk=conversation.pk)
    assert (fact.bot_outcome, fact.messages_bot, fact.messages_contact, fact.first_response_at) == (
        "handed_over", 1, 1, None)
    assert BotOutcome.objects.get().outcome == "handed_over"
    f = Filters(workspace_id=admin.workspace_id)
    assert metrics.bot(f) == {"with_bot": 1, "resolved": 0, "handed_over": 1, "abandoned": 0,
                              "deflection_rate": 0.0, "handoff_rate": 1.0}
    BotOutcome.objects.all().delete()
    rebuild(admin.workspace_id)  # read again from the outbox
    assert ConversationFact.objects.get(pk=conversation.pk).bot_outcome == "handed_over"
