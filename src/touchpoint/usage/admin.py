from django.contrib import admin

from touchpoint.usage.models import KeyFeature, Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    readonly_fields = ["write_key", "created_at", "created_by"]


@admin.register(KeyFeature)
class KeyFeatureAdmin(admin.ModelAdmin):
    list_display = ["event", "label"]
    search_fields = ["event", "label"]
