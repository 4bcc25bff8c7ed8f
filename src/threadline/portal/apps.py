from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "threadline.portal"
    label = "portal"
    verbose_name = "Customer portal"
