"""The surveys' scheduled work: surveys held by quiet hours go out when they end; NPS on its schedule."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max

from threadline.conversations.models import ACTIVE_STATUSES, Conversation, ConversationEvent
from threadline.core.time import now
from threadline.jobs.registry import task
from threadline.surveys.actions import do_send_due_survey, do_send_survey
from threadline.surveys.models import Kind, Survey, SurveyRequest, Trigger

BATCH = 500  # per run and workspace: the next run takes the rest


@task(max_attempts=3)
def send_due_surveys_task() -> int:
    """Send every survey whose quiet hours have ended; each in its own transaction."""
    sent = 0
    for request in SurveyRequest.objects.filter(due_at__lte=now(), message__isnull=True).order_by("due_at")[:BATCH]:
        with transaction.atomic():
            sent += do_send_due_survey(request)
    return sent


@task(max_attempts=3)
def send_scheduled_nps_task() -> int:
    """NPS on its schedule: every `schedule_days` days to each contact with activity in that time (a message
    on a conversation of theirs), on their latest conversation when it is solved or closed (one still open
    is left alone this round); the throttle, consent and quiet hours apply as after a solved conversation."""
    sent = 0
    for survey in Survey.objects.filter(kind=Kind.NPS, enabled=True, schedule_days__gt=0).select_related("workspace"):
        since = now() - dt.timedelta(days=survey.schedule_days)
        asked = SurveyRequest.objects.filter(survey=survey, created_at__gte=since).values("contact_id")
        helped = Conversation.objects.filter(workspace_id=survey.workspace_id, status__in=ACTIVE_STATUSES,
                                             merged_into__isnull=True).values("contact_id")
        latest = (Conversation.objects.filter(workspace_id=survey.workspace_id, merged_into__isnull=True,
                                              last_message_at__gte=since)
                  .exclude(contact_id__in=asked).exclude(contact_id__in=helped)
                  .values("contact_id").annotate(last=Max("id")).order_by("contact_id"))
        for row in latest[:BATCH]:
            conversation = (Conversation.objects.select_related("workspace", "contact").get(pk=row["last"]))
            if conversation.status in ACTIVE_STATUSES or ConversationEvent.objects.filter(
                    conversation=conversation, kind="survey_not_sent", data__survey_kind=Kind.NPS,
                    created_at__gte=since).exists():
                continue  # being helped now, or refused this period already (the timeline says why once)
            with transaction.atomic():
                sent += do_send_survey(conversation, trigger=Trigger.SCHEDULE, survey=survey) is not None
    return sent
