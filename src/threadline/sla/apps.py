from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "threadline.sla"
    label = "sla"
    verbose_name = "SLA and business hours"
