from django.db import migrations, models


def normalize_shortcuts(apps, schema_editor):
    """Shortcuts as the screens store them (lowercase, without the typed /); a later duplicate in a workspace
    loses its shortcut, so the unique constraint can be added."""
    Template = apps.get_model("replies", "Template")
    seen = set()
    for template in Template.objects.exclude(shortcut="").order_by("id"):
        shortcut = template.shortcut.strip().lstrip("/").lower()[:64]
        if (template.workspace_id, shortcut) in seen:
            shortcut = ""
        seen.add((template.workspace_id, shortcut))
        if shortcut != template.shortcut:
            Template.objects.filter(pk=template.pk).update(shortcut=shortcut)


class Migration(migrations.Migration):

    dependencies = [
        ('replies', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(normalize_shortcuts, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='template',
            name='shortcut',
            field=models.CharField(blank=True, help_text='Typed after / in the composer (lowercase letters, digits, - and _); unique in the workspace', max_length=64),
        ),
        migrations.AddConstraint(
            model_name='template',
            constraint=models.UniqueConstraint(condition=models.Q(('shortcut', ''), _negated=True), fields=('workspace', 'shortcut'), name='uniq_template_shortcut'),
        ),
    ]
