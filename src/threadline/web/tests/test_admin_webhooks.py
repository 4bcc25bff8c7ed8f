"""The Webhooks screen (/app/admin/webhooks): create (the secret shown once), edit, delete, the delivery log and
"Redeliver", which sends the event again to a real HTTP receiver."""

from __future__ import annotations

import pytest
from django.db import transaction

from threadline.conversations.actions import do_update_conversation
from threadline.conversations.tests.builders import inbound_conversation
from threadline.testing import factories
from threadline.web.tests.admin_helpers import audited, members, signed_in
from threadline.webhooks import signing
from threadline.webhooks.models import WebhookDelivery, WebhookSubscription

URL = "/app/admin/webhooks"
SECRET = "a-receiver-secret-0123456789"


def _create(client, url: str, **extra):
    return client.post(URL, {"url": url, "event_types": ["conversation.updated"], "description": "CRM", **extra})


@pytest.fixture
def conversation(admin, client, run_jobs):
    conversation = inbound_conversation(client, factories.make_api_channel(admin), run_jobs, "m-1", "dana@example.com")
    WebhookDelivery.objects.all().delete()
    return conversation


def _solve(admin, conversation) -> None:
    with transaction.atomic():
        do_update_conversation(admin, conversation, status="solved")


def test_the_generated_secret_is_shown_once_and_never_again(client, admin, receiver):
    signed_in(client, admin)
    answer = _create(client, receiver.url)
    assert answer.status_code == 201
    secret = answer.content.decode().split('id="new-secret">')[1].split("<")[0]
    assert len(secret) >= 16
    subscription = WebhookSubscription.objects.get()
    assert (subscription.event_types, subscription.description) == (["conversation.updated"], "CRM")
    assert secret not in client.get(URL).content.decode()
    detail = client.get(f"{URL}/{subscription.pk}").content.decode()
    assert secret not in detail and "<strong>set</strong>" in detail
    assert audited(admin.workspace_id, "webhook.created")[0].actor_membership_id == admin.pk


def test_a_typed_secret_signs_deliveries_and_redeliver_sends_the_event_again(client, admin, receiver, conversation,
                                                                            run_jobs):
    signed_in(client, admin)
    receiver.statuses = [404]  # a permanent failure first
    _create(client, receiver.url, secret=SECRET)
    subscription = WebhookSubscription.objects.get()
    assert SECRET not in client.get(f"{URL}/{subscription.pk}").content.decode()
    _solve(admin, conversation)
    run_jobs()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.response_status, delivery.attempts) == ("failed", 404, 1)
    log = client.get(f"{URL}/{subscription.pk}").content.decode()
    assert "conversation.updated" in log and ">404<" in log and "answered 404" in log
    assert f"/deliveries/{delivery.pk}/redeliver" in log
    answer = client.post(f"{URL}/{subscription.pk}/deliveries/{delivery.pk}/redeliver")
    assert answer.status_code == 302
    run_jobs()
    first, second = receiver.wait_for(2)
    assert second.body == first.body
    assert signing.verify(SECRET, second.body, second.headers["x-threadline-signature"])
    delivery.refresh_from_db()
    assert (delivery.state, delivery.response_status) == ("delivered", 200)
    assert audited(admin.workspace_id, "webhook.redelivered")[0].details["delivery_id"] == delivery.pk
    # While a delivery is being attempted it cannot be sent again: the screen says so (409).
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state="pending")
    again = client.post(f"{URL}/{subscription.pk}/deliveries/{delivery.pk}/redeliver")
    assert again.status_code == 409 and "still being attempted" in again.content.decode()


def test_the_delivery_log_is_paged(client, admin, receiver, conversation, run_jobs):
    signed_in(client, admin)
    _create(client, receiver.url)
    subscription = WebhookSubscription.objects.get()
    for status in ("open", "solved") * 14:
        with transaction.atomic():
            do_update_conversation(admin, conversation, status=status)
    run_jobs()
    assert WebhookDelivery.objects.count() == 28
    first = client.get(f"{URL}/{subscription.pk}").content.decode()
    assert first.count("/redeliver") == 25 and "cursor=" in first
    cursor = first.split("?cursor=")[1].split('"')[0]
    second = client.get(f"{URL}/{subscription.pk}?cursor={cursor}").content.decode()
    assert second.count("/redeliver") == 3 and "Older deliveries" not in second and "Newest" in second


def test_edit_replace_the_secret_pause_and_delete(client, admin, receiver):
    signed_in(client, admin)
    _create(client, receiver.url, secret=SECRET)
    subscription = WebhookSubscription.objects.get()
    answer = client.post(f"{URL}/{subscription.pk}", {"url": receiver.url, "all_events": "1", "description": "All",
                                                       "secret": "another-secret-0123456789"})
    assert answer.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.event_types, subscription.is_active, subscription.description) == (["*"], False, "All")
    assert audited(admin.workspace_id, "webhook.secret_changed")
    assert client.post(f"{URL}/{subscription.pk}/delete").status_code == 302
    assert not WebhookSubscription.objects.exists() and audited(admin.workspace_id, "webhook.deleted")


@pytest.mark.parametrize(("form", "reason"), [
    ({"url": "ftp://example.com/x", "event_types": ["conversation.updated"]}, "Enter a valid http(s) URL."),
    ({"url": "https://example.com/x"}, "Choose at least one event type"),
    ({"url": "https://example.com/x", "event_types": ["no.such.event"]}, "Unknown event types: no.such.event."),
    ({"url": "https://example.com/x", "event_types": ["conversation.updated"], "secret": "short"}, "16 to 200"),
])
def test_invalid_webhooks_are_refused_with_the_reason(client, admin, form, reason):
    signed_in(client, admin)
    answer = client.post(URL, form)
    assert answer.status_code == 400 and reason in answer.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_a_private_url_is_refused_at_creation(client, admin, settings):
    settings.THREADLINE = {**settings.THREADLINE, "OUTBOUND_ALLOW_PRIVATE": False}
    signed_in(client, admin)
    for url in ("http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://[::1]/hook"):
        answer = _create(client, url)
        assert answer.status_code == 400, url
    assert not WebhookSubscription.objects.exists()


def test_another_workspaces_webhook_answers_404_and_is_unchanged(client, admin, receiver):
    other = factories.make_workspace(name="Other Co")
    signed_in(client, other)
    _create(client, receiver.url, secret=SECRET)
    theirs = WebhookSubscription.objects.get()
    signed_in(client, admin)
    assert receiver.url not in client.get(URL).content.decode()
    assert client.get(f"{URL}/{theirs.pk}").status_code == 404
    assert client.post(f"{URL}/{theirs.pk}", {"url": "https://evil.example/", "all_events": "1"}).status_code == 404
    assert client.post(f"{URL}/{theirs.pk}/delete").status_code == 404
    assert client.post(f"{URL}/{theirs.pk}/deliveries/1/redeliver").status_code == 404
    theirs.refresh_from_db()
    assert (theirs.url, theirs.event_types, theirs.is_active) == (receiver.url, ["conversation.updated"], True)


@pytest.mark.parametrize("role", ["agent", "light"])
def test_agents_and_light_agents_are_refused(client, admin, receiver, role):
    people = members(admin)
    signed_in(client, admin)
    _create(client, receiver.url)
    subscription = WebhookSubscription.objects.get()
    signed_in(client, people[role])
    assert client.get(URL).status_code == 403
    assert _create(client, receiver.url).status_code == 403
    assert client.get(f"{URL}/{subscription.pk}").status_code == 403
    assert client.post(f"{URL}/{subscription.pk}/delete").status_code == 403
    assert WebhookSubscription.objects.count() == 1
