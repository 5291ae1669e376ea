from django.contrib import admin

from touchpoint.success.models import LifecyclePhase, SuccessFramework


class LifecyclePhaseInline(admin.TabularInline):
    model = LifecyclePhase
    extra = 0


@admin.register(SuccessFramework)
class SuccessFrameworkAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default"]
    inlines = [LifecyclePhaseInline]
