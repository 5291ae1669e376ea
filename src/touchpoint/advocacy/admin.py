from django.contrib import admin

from touchpoint.advocacy.models import AdvocacySettings


@admin.register(AdvocacySettings)
class AdvocacySettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "max_asks_per_quarter", "pool_quiet_days")
