from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "threadline.jobs"
    label = "jobs"
