from __future__ import annotations

from django.urls import path

from threadline.channels.webchat import views

urlpatterns = [
    path("widget.js", views.widget_js, name="widget-js"),
    path("widget/<int:channel_id>/", views.frame_view, name="widget-frame"),
    path("widget/<int:channel_id>/config", views.config_view, name="widget-config"),
    path("widget/<int:channel_id>/session", views.session_view, name="widget-session"),
    path("widget/<int:channel_id>/identify", views.identify_view, name="widget-identify"),
    path("widget/<int:channel_id>/details", views.details_view, name="widget-details"),
    path("widget/<int:channel_id>/attributes", views.attributes_view, name="widget-attributes"),
    path("widget/<int:channel_id>/events", views.track_view, name="widget-events"),
    path("widget/<int:channel_id>/messages", views.messages_view, name="widget-messages"),
    path("widget/<int:channel_id>/attachments/<int:attachment_id>", views.attachment_view, name="widget-attachment"),
    path("widget/<int:channel_id>/portal-link", views.portal_link_view, name="widget-portal-link"),
]
