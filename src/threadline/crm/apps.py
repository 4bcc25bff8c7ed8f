from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "threadline.crm"
    label = "crm"
    verbose_name = "CRM sync"
