from django.apps import AppConfig


class HelpCenterConfig(AppConfig):
    name = "threadline.helpcenter"
    label = "helpcenter"
    default_auto_field = "django.db.models.BigAutoField"
