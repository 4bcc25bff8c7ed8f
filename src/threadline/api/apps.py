from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "threadline.api"
    label = "api"

    def ready(self) -> None:
        from threadline.api import response_models

        response_models.install()  # before the URLconf declares the operations
