"""The crisis flow on the database: `social.item_received` payloads (the shape social publishes) replayed
through the durable subscriber open one crisis on the spiking topic, mail the team, and close it when calm;
a replayed event is not counted twice; workspaces are apart. Then the crisis room: the holding reply (a canned
reply), the notice in the widget and the help center, closing by hand."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction

from threadline.crisis.models import Crisis, Mention, Notice, Series, Status
from threadline.crisis.queries import active_notice, describe, evidence
from threadline.crisis.simulation import START, stream
from threadline.crisis.simulation import Mention as Simulated
from threadline.crisis.subscribers import on_event
from threadline.events.models import OutboxEvent
from threadline.replies.models import Template
from threadline.testing import factories
from threadline.testing.mailbox import wait_for_mail

pytestmark = pytest.mark.django_db
SPIKE_AT = float(START + 2 * 86_400 + 10 * 3_600)


def payload(workspace_id: int, n: int, mention: Simulated) -> dict:
    return {"workspace_id": workspace_id, "item_id": 10_000 + n, "channel_kind": mention.channel_kind,
            "category": mention.category, "sentiment": mention.sentiment, "topics": list(mention.topics),
            "created_at": dt.datetime.fromtimestamp(mention.at, tz=dt.UTC).isoformat()}


def replay(workspace_id: int, mentions: list[Simulated], first_outbox: int = 1) -> None:
    for n, mention in enumerate(mentions):
        with transaction.atomic():
            on_event("social.item_received", payload(workspace_id, n, mention), first_outbox + n)


def test_a_replayed_spike_opens_one_crisis_on_its_topic_and_mails_the_team(admin, system_mail, run_jobs):
    other = factories.make_workspace(name="Other Co")
    mentions = stream(7, total=900, spike_at=SPIKE_AT, spike_mentions=150)
    during = [m for m in mentions if m.at < SPIKE_AT + 2 * 3600]
    replay(admin.workspace_id, during)
    crisis = Crisis.objects.get(workspace_id=admin.workspace_id)
    assert crisis.key == "topic:delivery" and crisis.status == Status.OPEN
    assert SPIKE_AT <= crisis.bucket_start.timestamp() + 15 * 60 and crisis.why["series"]["topic:delivery"]["z"] >= 4
    assert {"all", "topic:delivery"} <= set(crisis.why["series"])  # the same wave on other series joined it
    assert "mentions on topic “delivery” in 15 minutes" in describe(crisis)
    assert OutboxEvent.objects.filter(type="crisis.opened").count() == 1
    run_jobs()
    [mail] = wait_for_mail(system_mail)
    assert "Possible crisis" in mail.message["Subject"] and f"/app/crisis/{crisis.pk}" in mail.message.get_content()
    assert len(evidence(crisis)) >= 100 and all(row["item_id"] for row in evidence(crisis))
    # the same events delivered again (a retried job) change nothing
    before = Series.objects.get(workspace_id=admin.workspace_id, key="all").state
    replay(admin.workspace_id, during[-50:], first_outbox=len(during) - 50 + 1)
    assert Series.objects.get(workspace_id=admin.workspace_id, key="all").state == before
    assert Mention.objects.filter(workspace_id=admin.workspace_id).count() == len(during)
    # the calm day after closes it
    replay(admin.workspace_id, mentions[len(during):], first_outbox=len(during) + 1)
    crisis.refresh_from_db()
    assert crisis.status == Status.CLOSED and crisis.closed_why == "calm" and crisis.mentions >= 100
    assert Crisis.objects.filter(workspace_id=admin.workspace_id).count() == 1
    assert not Crisis.objects.filter(workspace_id=other.workspace_id).exists()


def test_a_calm_replay_opens_nothing_and_old_mentions_are_pruned(admin):
    from threadline.crisis.tasks import prune_mentions_task

    replay(admin.workspace_id, stream(3, total=700))  # January 2026: long past the 90 days kept
    assert not Crisis.objects.exists() and Mention.objects.count() == 700
    with transaction.atomic():
        on_event("social.item_received", {"workspace_id": admin.workspace_id, "item_id": 1,
                                          "created_at": dt.datetime.now(dt.UTC).isoformat()}, 5_000)
    assert prune_mentions_task() == 700 and list(Mention.objects.values_list("outbox_id", flat=True)) == [5_000]


def test_series_of_one_wave_join_one_crisis_and_another_topic_opens_its_own(admin):
    from threadline.core.time import now
    from threadline.crisis.actions import _open
    from threadline.crisis.detector import Signal

    def alarm(key: str, *keys: str) -> Crisis:
        with transaction.atomic():
            return _open(admin.workspace_id, key, Signal("open", "volume", 1_963_000, 30, 20, 2.0, 1.0, 6.0), now(),
                         keys)

    first = alarm("all")
    assert alarm("topic:delivery") == first and alarm("channel:facebook") == first
    first.refresh_from_db()
    assert first.key == "topic:delivery" and set(first.why["open_series"]) == {"all", "topic:delivery",
                                                                             "channel:facebook"}
    assert alarm("topic:order", "topic:delivery", "topic:order") == first  # raised by a mention on both topics
    assert alarm("topic:billing", "topic:billing") != first  # another topic rising apart is another crisis


def test_the_subscriber_is_registered_and_tolerates_other_payloads(admin):
    from threadline.events.registry import durable

    assert durable("crisis").wants("social.item_received")
    with transaction.atomic():
        on_event("social.item_received", {"workspace_id": admin.workspace_id, "item_id": 1, "created_at": "nonsense",
                                          "topics": [None, 3, "Refund"], "sentiment": "bad"}, 99)
        on_event("social.item_updated", {"workspace_id": admin.workspace_id}, 100)
    assert Mention.objects.get(outbox_id=99).keys == ["all", "topic:refund"]


def _crisis(admin) -> Crisis:
    from threadline.crisis.actions import do_open_crisis

    with transaction.atomic():
        return do_open_crisis(admin, "Delivery")


def test_the_crisis_room_switches_on_a_holding_reply_and_a_notice(client, admin, settings):
    from threadline.web.tests.admin_helpers import signed_in

    crisis = _crisis(admin)
    signed_in(client, admin)
    room = client.get(f"/app/crisis/{crisis.pk}")
    assert room.status_code == 200 and "delivery" in room.content.decode()
    assert client.get("/app/crisis").status_code == 200
    assert 'id="crisis-nav"' in client.get("/app/").content.decode()  # the inbox shows the open crisis
    on = client.post(f"/app/crisis/{crisis.pk}/holding-reply", {"on": "1", "text": "We know, we are on it."})
    assert on.status_code == 302
    template = Template.objects.get(workspace_id=admin.workspace_id, shortcut=f"crisis-{crisis.pk}")
    assert template.is_active and template.variants.get().text == "We know, we are on it."
    shown = client.post(f"/app/crisis/{crisis.pk}/notice", {"active": "1", "text_en": "Deliveries are late today.",
                                                            "text_he": "המשלוחים מתעכבים היום."})
    assert shown.status_code == 302
    assert active_notice(admin.workspace_id, "he") == "המשלוחים מתעכבים היום."
    assert active_notice(admin.workspace_id, "cs", "en") == "Deliveries are late today."
    closed = client.post(f"/app/crisis/{crisis.pk}/close")
    assert closed.status_code == 302
    crisis.refresh_from_db()
    template.refresh_from_db()
    assert crisis.status == Status.CLOSED and crisis.closed_why == "person" and not template.is_active
    assert active_notice(admin.workspace_id, "en") == "" and not Notice.objects.get().active
    assert client.post(f"/app/crisis/{crisis.pk}/close").status_code == 409


def test_agents_see_the_room_but_cannot_act_and_workspaces_are_apart(client, admin):
    from threadline.web.tests.admin_helpers import signed_in

    crisis = _crisis(admin)
    agent = factories.make_agent(admin, "agent@example.com")
    signed_in(client, agent)
    assert client.get(f"/app/crisis/{crisis.pk}").status_code == 200
    assert client.post(f"/app/crisis/{crisis.pk}/close").status_code == 403
    other = factories.make_workspace(name="Other Co")
    signed_in(client, other)
    assert client.get(f"/app/crisis/{crisis.pk}").status_code == 404
    assert client.post(f"/app/crisis/{crisis.pk}/close").status_code == 404


def test_the_api_lists_and_reads_crises_of_its_own_workspace(api, admin, client):
    crisis = _crisis(admin)
    listed = api.get("/api/v1/crises")
    assert listed.status_code == 200 and [c["id"] for c in listed.json()["items"]] == [crisis.pk]
    detail = api.get(f"/api/v1/crises/{crisis.pk}").json()
    assert detail["key"] == "topic:delivery" and detail["status"] == "open"
    closed = api.post(f"/api/v1/crises/{crisis.pk}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {factories.make_token(factories.make_workspace(name='B'))}"
    assert client.get(f"/api/v1/crises/{crisis.pk}").json()["code"] == "crisis_not_found"
    assert json.loads(client.get("/api/v1/crises").content)["items"] == []


def test_the_notice_shows_in_the_widget_and_the_help_center_and_goes(client, admin, settings,
                                                                   django_capture_on_commit_callbacks):
    from threadline.channels.webchat.testkit import make_webchat_channel
    from threadline.crisis.actions import do_save_notice
    from threadline.helpcenter.tests.builders import make_center

    channel = make_webchat_channel(admin)
    make_center(admin, "acme")
    assert client.get("/help/acme/en/").status_code == 200  # cached without a notice
    assert client.get(f"/widget/{channel.pk}/config").json()["notice"] == ""
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            do_save_notice(admin, texts={"en": "Deliveries are late today.", "he": "המשלוחים מתעכבים היום."},
                           active=True)
    assert client.get(f"/widget/{channel.pk}/config?lang=he").json()["notice"] == "המשלוחים מתעכבים היום."
    assert "Deliveries are late today." in client.get("/help/acme/en/").content.decode()
    assert "המשלוחים מתעכבים היום." in client.get("/help/acme/he/").content.decode()
    other = factories.make_workspace(name="Other Co")
    assert client.get(f"/widget/{make_webchat_channel(other).pk}/config").json()["notice"] == ""
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            do_save_notice(admin, texts={"en": "Deliveries are late today."}, active=False)
    assert "Deliveries are late today." not in client.get("/help/acme/en/").content.decode()


def test_a_known_issue_campaign_is_drafted_in_outreach_when_it_is_installed(client, admin):
    from django.apps import apps

    from threadline.web.tests.admin_helpers import signed_in

    crisis = _crisis(admin)
    signed_in(client, admin)
    drafted = client.post(f"/app/crisis/{crisis.pk}/known-issue", {"text_en": "Deliveries are late this week."})
    crisis.refresh_from_db()
    if not apps.is_installed("threadline.outreach"):
        assert drafted.status_code == 409 and crisis.campaign_id is None
        return
    assert drafted.status_code == 302
    campaign = apps.get_model("outreach", "Campaign").objects.get(pk=crisis.campaign_id)
    assert campaign.workspace_id == admin.workspace_id and campaign.state == "draft" and campaign.source == "crisis"
    assert client.post(f"/app/crisis/{crisis.pk}/known-issue", {"text_en": "again"}).status_code == 409


def test_items_social_receives_are_counted_and_shown_in_the_room(client, admin, run_jobs):
    from django.apps import apps

    if not apps.is_installed("threadline.social"):
        pytest.skip("the social domain is not installed")
    from threadline.channels.base import PublicItemEvent
    from threadline.social.actions import receive_public_item
    from threadline.web.tests.admin_helpers import signed_in

    channel = factories.make_api_channel(admin)
    texts = ["@acme my order #1234 never arrived, this is the third time!!", "where is my package??",
             "thanks, great service"]
    with transaction.atomic():
        items = [receive_public_item(channel, PublicItemEvent(source="x", external_id=f"x-{n}", kind="mention",
                                                              author_handle=f"@user{n}", text=text))
                 for n, text in enumerate(texts)]
    run_jobs()
    counted = {m.item_id: m for m in Mention.objects.filter(workspace_id=admin.workspace_id)}
    assert set(counted) == {item.pk for item in items}
    assert counted[items[0].pk].negative and "topic:delivery" in counted[items[0].pk].keys
    crisis = _crisis(admin)  # "delivery", by hand
    signed_in(client, admin)
    room = client.get(f"/app/crisis/{crisis.pk}").content.decode()
    assert "my order #1234 never arrived" in room and "where is my package" in room
    assert "great service" not in room  # not on the crisis's topic
