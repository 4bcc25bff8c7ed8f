from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "threadline.surveys"
    label = "surveys"
    verbose_name = "Surveys"
