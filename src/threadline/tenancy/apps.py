from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "threadline.tenancy"
    label = "tenancy"
