from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "threadline.conversations"
    label = "conversations"
