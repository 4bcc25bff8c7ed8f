"""Outreach's public page: the one-click unsubscribe link of its mail."""

from __future__ import annotations

from django.urls import path

from threadline.outreach import views

urlpatterns = [
    path("outreach/unsubscribe/<str:token>/", views.unsubscribe_view, name="outreach-unsubscribe"),
]
