from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "threadline.webhooks"
    label = "webhooks"
