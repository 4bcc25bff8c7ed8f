from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from threadline.web import auth, views, views_attention, views_audit, views_privacy, views_redaction

urlpatterns = [
    path("login", auth.login_view, name="login"),
    path("login/verify", auth.verify_view, name="login-verify"),
    path("logout", auth.logout_view, name="logout"),
    path("app", RedirectView.as_view(url="/app/", permanent=False)),
    path("app/", views.app_view, name="app"),
    path("app/c/<int:conversation_id>/", views.conversation_page, name="app-conversation"),
    path("app/search", views.search_view, name="app-search"),
    path("app/settings", views.settings_view, name="app-settings"),
    path("app/audit", views_audit.audit_view, name="app-audit"),
    path("app/attention", views_attention.attention_view, name="app-attention"),
    path("app/attention/<int:event_id>/replay", views_attention.replay_view),
    path("app/attention/<int:event_id>/dismiss", views_attention.dismiss_view),
    path("app/audit/export", views_audit.audit_export_view),
    path("app/x/list", views.list_fragment),
    path("app/x/counts", views.counts_view),
    path("app/x/conversations/<int:conversation_id>", views.conversation_fragment),
    path("app/x/conversations/<int:conversation_id>/timeline", views.timeline_fragment),
    path("app/x/conversations/<int:conversation_id>/reply", views.reply_view),
    path("app/x/conversations/<int:conversation_id>/note", views.note_view),
    path("app/x/conversations/<int:conversation_id>/update", views.update_view),
    path("app/x/conversations/<int:conversation_id>/snooze", views.snooze_view),
    path("app/x/conversations/<int:conversation_id>/merge", views.merge_view),
    path("app/x/conversations/<int:conversation_id>/seen", views.seen_view),
    path("app/x/conversations/<int:conversation_id>/canned/<int:template_id>", views.canned_view),
    path("app/x/messages/<int:message_id>/split", views.split_view),
    path("app/x/messages/<int:message_id>/redact", views_redaction.redact_view),
    path("app/x/bulk", views.bulk_view),
    path("app/x/attachments/<int:attachment_id>", views.attachment_view),
    path("app/x/contacts/<int:contact_id>/merge", views.contact_merge_view),
    path("app/x/merges/<int:merge_id>/unmerge", views.unmerge_view),
    path("app/x/contacts/<int:contact_id>/export", views_privacy.export_view),
    path("app/x/exports/<int:export_id>/download", views_privacy.export_download_view),
    path("app/x/contacts/<int:contact_id>/erasure", views_privacy.erasure_view),
    path("app/x/erasures/<int:erasure_id>/<str:step>", views_privacy.erasure_step_view),
    path("app/x/suggestions/<int:suggestion_id>/<str:decision>", views.suggestion_view),
    path("app/x/views", views.save_view),
    path("app/x/views/<int:view_id>/delete", views.delete_view),
    path("app/x/presence", views.presence_view),
    path("app/x/preferences", views.preferences_view),
    path("app/x/workspace", views.workspace_switch_view),
]
