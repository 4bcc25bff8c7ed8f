from django.apps import AppConfig


class PanelAppsConfig(AppConfig):
    name = "threadline.panelapps"
    label = "panelapps"
    verbose_name = "Customer panel apps"
