from django.apps import AppConfig


class WebchatChannelConfig(AppConfig):
    name = "threadline.channels.webchat"
    label = "webchat"
    verbose_name = "Web chat channel"
