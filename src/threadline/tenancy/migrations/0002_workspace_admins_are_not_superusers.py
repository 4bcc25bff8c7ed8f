"""`createadmin` and the first-run bootstrap used to make every workspace admin a Django superuser, which let
them read and change every workspace through `/admin/`. Anyone with a seat in a workspace loses the Django
staff and superuser flags; the operator (`threadline createsuperuser`) is an account with no seat."""

from django.db import migrations


def demote_workspace_admins(apps, schema_editor):
    User = apps.get_model("tenancy", "User")
    Membership = apps.get_model("tenancy", "Membership")
    seated = Membership.objects.values("user_id")
    User.objects.filter(pk__in=seated).exclude(is_superuser=False, is_staff=False).update(
        is_superuser=False, is_staff=False)


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]

    operations = [migrations.RunPython(demote_workspace_admins, migrations.RunPython.noop)]
