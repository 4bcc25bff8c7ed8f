"""Survey figures in the facts and the rollups (docs/analytics.md, Surveys): a `surveys` column on both, and
every conversation that has a survey request marked stale, so the refresh fills them in (the others have none)."""

from django.db import migrations, models
from django.utils import timezone


def mark_surveyed(apps, schema_editor):
    SurveyRequest = apps.get_model("surveys", "SurveyRequest")
    StaleConversation = apps.get_model("analytics", "StaleConversation")
    moment = timezone.now()
    rows = SurveyRequest.objects.values_list("conversation_id", "workspace_id").distinct().iterator(chunk_size=2000)
    batch = []
    for conversation_id, workspace_id in rows:
        batch.append(StaleConversation(conversation_id=conversation_id, workspace_id=workspace_id, marked_at=moment))
        if len(batch) >= 2000:
            StaleConversation.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    StaleConversation.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0004_report_schedules"),
        ("surveys", "0002_schedule_template_quiet_hours"),
    ]

    operations = [
        migrations.AddField(model_name="conversationfact", name="surveys", field=models.JSONField(default=dict)),
        migrations.AddField(model_name="dayrollup", name="surveys", field=models.JSONField(default=dict)),
        migrations.RunPython(mark_surveyed, migrations.RunPython.noop),
    ]
