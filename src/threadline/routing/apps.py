from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "threadline.routing"
    label = "routing"
    verbose_name = "Routing"
