from django.apps import AppConfig


class JiraConfig(AppConfig):
    name = "threadline.jira"
    label = "jira"
    verbose_name = "Jira"
