from django.contrib import admin

from threadline.sso.models import ExternalAccount, IdentityProvider


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    """The operator's way out when a workspace's provider is broken: turn `enforce` (or `enabled`) off."""

    list_display = ("workspace", "kind", "name", "enabled", "enforce", "jit_enabled", "trust_mfa")
    list_filter = ("kind", "enabled", "enforce")
    exclude = ("secrets_encrypted",)


@admin.register(ExternalAccount)
class ExternalAccountAdmin(admin.ModelAdmin):
    list_display = ("workspace", "provider", "subject", "user", "last_sign_in_at")
    search_fields = ("subject", "user__email")
