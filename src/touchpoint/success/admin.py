from django.contrib import admin

from touchpoint.success.models import AccountPlacement, LifecyclePhase, SuccessFramework


class LifecyclePhaseInline(admin.TabularInline):
    model = LifecyclePhase
    extra = 0


@admin.register(SuccessFramework)
class SuccessFrameworkAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default"]
    inlines = [LifecyclePhaseInline]


@admin.register(AccountPlacement)
class AccountPlacementAdmin(admin.ModelAdmin):
    list_display = ["account", "framework", "phase", "entered_at"]
    list_filter = ["framework", "phase"]
    search_fields = ["account__name", "account__external_id"]
    raw_id_fields = ["account"]
    list_select_related = ["account", "framework", "phase"]
