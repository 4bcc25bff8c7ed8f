"""Retention policies per workspace and per channel, run by the scheduler's sweep, with a dry run (API and
CLI) that counts what a run would delete; time is frozen and moved."""

from __future__ import annotations

import datetime as dt
import io
import json

import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q

from threadline.audit.models import AuditEntry
from threadline.channels.base import CallEvent, InboundAttachment
from threadline.channels.models import InboundEvent
from threadline.conversations.actions import do_update_conversation
from threadline.conversations.calls import do_record_call_event
from threadline.conversations.models import Attachment, Conversation, Message
from threadline.events.models import OutboxEvent
from threadline.jobs.scheduler import PERIODIC
from threadline.privacy.tasks import retention_sweep_task
from threadline.privacy.tests.builders import write_in
from threadline.testing import factories

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
POLICIES = [("raw_payloads", 30, None), ("closed_conversations", 730, None), ("call_recordings", 90, None),
            ("audit_entries", 365, None)]


def put(api, kind, days, channel_id=None):
    answer = api.put("/api/v1/privacy/retention", {"kind": kind, "days": days, "channel_id": channel_id},
                     content_type="application/json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def dry_run(api):
    answer = api.get("/api/v1/privacy/retention/dry-run")
    assert answer.status_code == 200, answer.content
    return answer.json()["would_delete"]


def test_policies_dry_run_and_sweep_over_two_years(api, admin, django_capture_on_commit_callbacks):
    assert "threadline.privacy.tasks.retention_sweep_task" in {p.task for p in PERIODIC}
    with time_machine.travel(T0, tick=False) as clock:
        shop = factories.make_api_channel(admin)
        with transaction.atomic():
            from threadline.channels.actions import do_create_channel

            kiosk = do_create_channel(admin, "api", "Kiosk", {"secret": "k" * 32})
        write_in(shop, "shop-1", "closed.case@example.com", "my order is late", name="Cleo Closed")
        write_in(kiosk, "kiosk-1", "open.case@example.com", "still waiting", name="Otto Open")
        with transaction.atomic():
            closed = Conversation.objects.get(contact__name="Cleo Closed")
            do_update_conversation(admin, closed, status="closed")
            do_record_call_event(shop, CallEvent(
                provider_call_id="CA-1", event="voicemail", caller_kind="phone", caller_address="+972507319846",
                duration_seconds=12, recording=InboundAttachment("vm.wav", "audio/wav", b"RIFF-voicemail-bytes")))
        recording = Attachment.objects.get(message__metadata__call_id="CA-1")
        for kind, days, channel in POLICIES:
            put(api, kind, days, channel)
        policies = put(api, "raw_payloads", 7, kiosk.pk)
        assert {(p["kind"], p["channel_id"], p["days"]) for p in policies} == {
            *((k, None, d) for k, d, _c in POLICIES), ("raw_payloads", kiosk.pk, 7)}
        assert dry_run(api) == {"raw_payloads": 0, "closed_conversations": 0, "call_recordings": 0,
                                "audit_entries": 0}
        events = InboundEvent.objects.count()
        assert events == 2

        clock.move_to(T0 + dt.timedelta(days=8))  # past the kiosk's 7 days, not the workspace's 30
        assert dry_run(api)["raw_payloads"] == 1
        printed = io.StringIO()
        call_command("privacy", "retention", "--dry-run", stdout=printed)
        report = json.loads(printed.getvalue())
        assert report["dry_run"] is True and report["workspaces"][admin.workspace.slug]["raw_payloads"] == 1
        assert InboundEvent.objects.count() == events  # a dry run deletes nothing

        clock.move_to(T0 + dt.timedelta(days=31))
        assert dry_run(api)["raw_payloads"] == 2
        retention_sweep_task()
        assert InboundEvent.objects.count() == 0
        [applied] = AuditEntry.objects.filter(action="retention.applied")
        assert applied.details["raw_payloads"] == 2 and applied.actor_kind == "system"

        clock.move_to(T0 + dt.timedelta(days=91))
        assert dry_run(api) == {"raw_payloads": 0, "closed_conversations": 0, "call_recordings": 1,
                                "audit_entries": 0}
        with django_capture_on_commit_callbacks(execute=True):
            retention_sweep_task()
        assert not Attachment.objects.filter(pk=recording.pk).exists()
        assert not default_storage.exists(recording.file.name)
        assert Message.objects.filter(metadata__call_id="CA-1").exists()  # the voicemail's text stays

        clock.move_to(T0 + dt.timedelta(days=366))
        old_entries = AuditEntry.objects.filter(created_at__lt=T0 + dt.timedelta(days=1)).count()
        assert old_entries > 0 and dry_run(api)["audit_entries"] == old_entries
        retention_sweep_task()
        assert not AuditEntry.objects.filter(created_at__lt=T0 + dt.timedelta(days=1)).exists()
        assert AuditEntry.objects.filter(action="retention.applied").count() == 3  # later entries stay

        clock.move_to(T0 + dt.timedelta(days=731))
        assert dry_run(api)["closed_conversations"] == 1
        assert OutboxEvent.objects.filter(payload__conversation_id=closed.pk).exists()
        with django_capture_on_commit_callbacks(execute=True):
            retention_sweep_task()
        assert not Conversation.objects.filter(pk=closed.pk).exists()
        assert not OutboxEvent.objects.filter(payload__conversation_id=closed.pk).exists()
        assert Conversation.objects.filter(contact__name="Otto Open").exists()


def test_policy_rules(api, admin):
    channel = factories.make_api_channel(admin)
    answer = api.put("/api/v1/privacy/retention", {"kind": "audit_entries", "days": 30, "channel_id": channel.pk},
                     content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] == "workspace_only"
    assert api.put("/api/v1/privacy/retention", {"kind": "raw_payloads", "days": 0},
                   content_type="application/json").status_code == 422
    assert api.put("/api/v1/privacy/retention", {"kind": "forever", "days": 3},
                   content_type="application/json").status_code == 422
    put(api, "raw_payloads", 30)
    assert put(api, "raw_payloads", None) == []  # null removes the policy
    changes = [e.details for e in AuditEntry.objects.filter(action="retention.changed").order_by("pk")]
    assert changes == [{"kind": "raw_payloads", "days": 30}, {"kind": "raw_payloads", "days": None}]


def test_the_closed_conversation_sweep_removes_what_other_domains_keep_of_them(
        api, admin, receiver, django_capture_on_commit_callbacks):
    """Survey answers and comments, the bot's session and turns, analytics facts, the search documents, the
    webhook copies and an article's feedback comment forwarded as a request go with the conversations."""
    from threadline.analytics.models import ConversationFact
    from threadline.analytics.refresh import refresh_stale
    from threadline.bot.models import BotSession
    from threadline.knowledge.models import ArticleFeedback
    from threadline.privacy.tests.builders import (
        BOT_TURN,
        FEEDBACK_COMMENT,
        SURVEY_COMMENT,
        add_self_service,
        make_person,
        rows_mentioning,
    )
    from threadline.search.models import SearchDocument
    from threadline.surveys.models import SurveyRequest, SurveyResponse
    from threadline.webhooks.models import WebhookDelivery

    with time_machine.travel(T0, tick=False) as clock:
        channel = factories.make_api_channel(admin, webhook_url=receiver.url)
        person = make_person(admin, channel, receiver.url)
        add_self_service(admin, channel, person)
        refresh_stale()
        ids = list(Conversation.objects.values_list("pk", flat=True))  # with the forwarded feedback's
        message_ids = list(Message.objects.values_list("pk", flat=True))
        copies = WebhookDelivery.objects.filter(Q(event__payload__conversation_id__in=ids)
                                                | Q(event__payload__message_id__in=message_ids))
        with transaction.atomic():
            for conversation in Conversation.objects.all():
                do_update_conversation(admin, conversation, status="closed")
        assert ConversationFact.objects.filter(conversation_id__in=ids).exists()
        assert SearchDocument.objects.filter(kind="message").exists()
        assert copies.exists() and BotSession.objects.exists()
        watched = (SURVEY_COMMENT, FEEDBACK_COMMENT, BOT_TURN)
        assert len({row.split(": ")[1] for row in rows_mentioning(watched)}) == 3
        put(api, "closed_conversations", 30)
        put(api, "raw_payloads", 30)

        clock.move_to(T0 + dt.timedelta(days=31))
        assert dry_run(api)["closed_conversations"] == len(ids)
        with django_capture_on_commit_callbacks(execute=True):
            retention_sweep_task()
    assert not Conversation.objects.exists()
    assert not (SurveyRequest.objects.exists() or SurveyResponse.objects.exists() or BotSession.objects.exists())
    assert not ConversationFact.objects.exists() and not copies.exists()
    assert not SearchDocument.objects.filter(kind__in=["message", "conversation"]).exists()
    assert not ArticleFeedback.objects.filter(comment=FEEDBACK_COMMENT).exists()
    assert rows_mentioning(watched) == []
