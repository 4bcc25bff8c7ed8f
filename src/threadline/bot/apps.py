from django.apps import AppConfig


class BotConfig(AppConfig):
    name = "threadline.bot"
    label = "bot"
    verbose_name = "Answer bot"
