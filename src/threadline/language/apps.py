from django.apps import AppConfig


class LanguageConfig(AppConfig):
    name = "threadline.language"
    label = "language"
    verbose_name = "Language detection"
