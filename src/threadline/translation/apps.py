from django.apps import AppConfig


class TranslationConfig(AppConfig):
    name = "threadline.translation"
    label = "translation"
    verbose_name = "Machine translation"
