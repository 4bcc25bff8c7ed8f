from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "threadline.social"
    label = "social"
    verbose_name = "Social"
