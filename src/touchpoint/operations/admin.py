from django.contrib import admin

from touchpoint.operations.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("worker", "beat_at", "started_at")
    readonly_fields = ("worker", "beat_at", "started_at")

    def has_add_permission(self, request) -> bool:
        return False
