from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from touchpoint.users.forms import language_choices
from touchpoint.users.models import ApiKey, AuditLogEntry, AuditRedaction, SiteSettings, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "reports_to", "is_active", "last_login"]
    autocomplete_fields = ["reports_to"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "reports_to", "language", "receive_daily_digest")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "language":
            return forms.ChoiceField(
                label=db_field.verbose_name,
                choices=language_choices(),
                required=False,
                help_text=db_field.help_text,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["lookup", "key_hash", "created_at", "last_used_at"]


class AppendOnlyAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the audit log is append-only (the database
    refuses changes too)."""

    actions = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "actor_id", "action", "object_type", "object_id", "object_repr"]
    list_filter = ["action", "object_type"]
    readonly_fields = [f.name for f in AuditLogEntry._meta.fields]


@admin.register(AuditRedaction)
class AuditRedactionAdmin(AppendOnlyAdmin):
    list_display = ["redacted_at", "entry_id", "actor_id", "reason"]
    readonly_fields = [f.name for f in AuditRedaction._meta.fields]


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "csms_read_all_books", "silent_days_high_touch", "silent_days_hybrid"]

    def has_add_permission(self, request) -> bool:
        return not SiteSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
