from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0005_survey_facts"),
    ]

    operations = [
        migrations.AddField(model_name="alertrule", name="window_hours",
                            field=models.PositiveSmallIntegerField(default=0)),
    ]
