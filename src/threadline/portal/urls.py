from django.urls import path

from threadline.portal import views

urlpatterns = [
    path("portal/<slug:slug>/", views.home_view),
    path("portal/<slug:slug>/sign-in/email", views.sign_in_email_view),
    path("portal/<slug:slug>/sign-in/phone", views.sign_in_phone_view),
    path("portal/<slug:slug>/sign-in/code", views.sign_in_code_view),
    path("portal/<slug:slug>/link/<str:token>/", views.link_view),
    path("portal/<slug:slug>/sign-out", views.sign_out_view),
    path("portal/<slug:slug>/new", views.new_request_view),
    path("portal/<slug:slug>/requests/<int:conversation_id>/", views.request_view),
    path("portal/<slug:slug>/requests/<int:conversation_id>/reply", views.reply_view),
    path("portal/<slug:slug>/attachments/<int:attachment_id>", views.attachment_view),
]
