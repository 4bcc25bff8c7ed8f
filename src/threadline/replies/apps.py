from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "threadline.replies"
    label = "replies"
    verbose_name = "Templates and macros"
