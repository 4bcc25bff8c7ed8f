from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "threadline.channels"
    # "channels" is Django Channels' own label.
    label = "tl_channels"
    verbose_name = "Channels"
