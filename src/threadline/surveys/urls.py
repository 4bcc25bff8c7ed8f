"""The email survey's public pages (the signed links in the survey mail)."""

from __future__ import annotations

from django.urls import path

from threadline.surveys import views

urlpatterns = [
    path("surveys/rate/<str:token>/", views.rate_view, name="survey-rate"),
    path("surveys/comment/<str:token>/", views.comment_view, name="survey-comment"),
]
