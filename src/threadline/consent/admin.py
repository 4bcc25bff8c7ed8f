from django.contrib import admin

from threadline.consent.models import ConsentRecord


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ("address", "identity_kind", "channel", "action", "keyword", "source", "created_at")
    list_filter = ("action", "source", "identity_kind")
    search_fields = ("address", "keyword")
