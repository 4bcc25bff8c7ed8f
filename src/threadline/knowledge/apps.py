from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "threadline.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge base"
