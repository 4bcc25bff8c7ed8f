from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "threadline.community"
    label = "community"
    verbose_name = _("Community")

    def ready(self) -> None:
        from threadline.community.search import register

        register()
