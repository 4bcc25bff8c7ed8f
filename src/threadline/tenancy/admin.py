from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from threadline.core.admin_site import register
from threadline.tenancy.models import ApiToken, Brand, Membership, SetupLink, Team, User, Workspace


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "name", "is_staff", "is_active")
    search_fields = ("email", "name")
    fieldsets = (
        (None, {"fields": ("email", "password", "name", "language", "time_zone")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


register(Workspace, list_display=("name", "slug", "default_region"), search=("name", "slug"))
register(Brand, list_display=("name", "workspace", "is_default"))
register(Membership, list_display=("user", "workspace", "role", "is_active"), filters=("role", "is_active"))
register(Team, list_display=("name", "workspace"), search=("name",))
register(ApiToken, list_display=("prefix", "membership", "name", "last_used_at", "revoked_at"),
         readonly=("digest", "prefix"))
register(SetupLink, list_display=("user", "expires_at", "used_at"), readonly=("digest",))
