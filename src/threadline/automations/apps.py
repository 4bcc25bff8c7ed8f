from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "threadline.automations"
    label = "automations"
    verbose_name = "Automations"
