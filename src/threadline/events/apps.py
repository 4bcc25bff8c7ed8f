from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "threadline.events"
    label = "events"
