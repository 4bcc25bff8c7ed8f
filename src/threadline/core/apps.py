from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "threadline.core"
    label = "core"
