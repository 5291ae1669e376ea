from django.contrib import admin

from touchpoint.revenue.models import ChurnReason, ExchangeRate, MrrMovement, Subscription


@admin.register(ChurnReason)
class ChurnReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "order"]
    list_editable = ["is_active", "order"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "rate", "updated_at"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["account", "product", "plan", "mrr", "currency", "status", "renewal_date"]
    list_filter = ["status", "currency"]
    search_fields = ["account__name", "product", "plan", "external_id"]
    raw_id_fields = ["account"]

    # Writes go through revenue.services so every MRR change leaves a movement; the admin only reads.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MrrMovement)
class MrrMovementAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "delta", "occurred_on", "churn_reason", "source"]
    list_filter = ["kind", "source", "churn_reason"]
    raw_id_fields = ["account", "subscription"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
