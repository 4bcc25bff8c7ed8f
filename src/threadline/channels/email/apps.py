from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "threadline.channels.email"
    label = "email_channel"
    verbose_name = "Email channel"
