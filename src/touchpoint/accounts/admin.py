from django.contrib import admin

from touchpoint.accounts.models import (
    Account,
    Contact,
    ContactRoleAssignment,
    Engagement,
    Segment,
    TimelineEntry,
)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "tier"]


class ContactRoleInline(admin.TabularInline):
    model = ContactRoleAssignment
    extra = 0


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "owner", "segment", "engagement_model"]
    list_filter = ["segment", "engagement_model"]
    search_fields = ["name", "domain", "external_id"]
    raw_id_fields = ["parent"]
    list_select_related = ["owner", "segment"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "account"]
    search_fields = ["name", "email", "external_id"]
    raw_id_fields = ["account"]
    inlines = [ContactRoleInline]
    list_select_related = ["account"]


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "subject", "account", "author"]
    raw_id_fields = ["account", "contacts"]
    list_select_related = ["account", "author"]


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "title", "account"]
    list_filter = ["kind"]
    raw_id_fields = ["account", "actor"]
    list_select_related = ["account"]
