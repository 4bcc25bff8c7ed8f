from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from threadline.api.site import api_root, unknown_path
from threadline.api.urls import api
from threadline.channels.inbound import webhook_view
from threadline.core import health
from threadline.crm.views import hubspot_webhook
from threadline.jira.views import jira_webhook

urlpatterns = [
    path("", RedirectView.as_view(url="/app/", permanent=False)),
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    path("metrics", health.metrics_view),
    path("api/v1/", api.urls),
    path("api/v1", api_root),
    re_path(r"^api(?:/.*)?$", unknown_path),  # every answer under /api/ is JSON, whatever the path
    # before the channels' hooks: "jira" and "crm" are no channel kinds
    path("hooks/jira/<int:connection_id>/", jira_webhook),
    path("hooks/crm/<int:connection_id>/", hubspot_webhook),
    path("hooks/<slug:kind>/<int:channel_id>/", webhook_view),
    path("admin/", admin.site.urls),
    path("setup/", include("threadline.core.views_setup")),
    path("", include("threadline.channels.webchat.urls")),
    path("", include("threadline.portal.urls")),
    path("", include("threadline.helpcenter.urls")),
    path("", include("threadline.community.urls")),
    path("", include("threadline.surveys.urls")),
    path("", include("threadline.outreach.urls")),
    path("", include("threadline.web.urls")),
]
