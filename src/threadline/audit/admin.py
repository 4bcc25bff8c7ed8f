from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from threadline.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only, for the operator too."""

    list_display = ("created_at", "workspace", "action", "actor_label", "target_type", "target_id", "ip")
    list_filter = ("action", "actor_kind")
    search_fields = ("action", "actor_label", "target_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
