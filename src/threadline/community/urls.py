"""The community's routes: the public forum under /community/ and moderation under /app/community."""

from __future__ import annotations

from django.urls import path

from threadline.community import views, views_moderation

urlpatterns = [
    path("community/unsubscribe/<str:token>", views.unsubscribe_view),
    path("community/<slug:slug>/", views.home_view, name="community-home"),
    path("community/<slug:slug>/c/<int:category_id>/", views.category_view, name="community-category"),
    path("community/<slug:slug>/t/<int:topic_id>/", views.topic_view, name="community-topic"),
    path("community/<slug:slug>/t/<int:topic_id>/reply", views.reply_view),
    path("community/<slug:slug>/t/<int:topic_id>/accept", views.accept_view),
    path("community/<slug:slug>/t/<int:topic_id>/follow", views.follow_view),
    path("community/<slug:slug>/p/<int:post_id>/vote", views.vote_view),
    path("community/<slug:slug>/p/<int:post_id>/report", views.report_view),
    path("community/<slug:slug>/new", views.new_topic_view, name="community-new"),
    path("community/<slug:slug>/search", views.search_view, name="community-search"),
    path("community/<slug:slug>/signin", views.sign_in_view, name="community-signin"),
    path("community/<slug:slug>/signin/<str:raw>", views.sign_in_link_view),
    path("community/<slug:slug>/signout", views.sign_out_view),
    path("app/community", views_moderation.moderation_view, name="app-community"),
    path("app/community/forums", views_moderation.create_forum_view),
    path("app/community/forums/<int:forum_id>/categories", views_moderation.create_category_view),
    path("app/community/posts/<int:post_id>/<str:operation>", views_moderation.post_view),
    path("app/community/topics/<int:topic_id>/<str:operation>", views_moderation.topic_view),
    path("app/community/reports/<int:report_id>/resolve", views_moderation.report_view),
    path("app/community/members/<int:member_id>/badges", views_moderation.badges_view),
]
