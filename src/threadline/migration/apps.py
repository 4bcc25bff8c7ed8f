from django.apps import AppConfig


class MigrationConfig(AppConfig):
    name = "threadline.migration"
    label = "migration"
    verbose_name = "Migration from other help desks"
