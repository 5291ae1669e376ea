from django.contrib import admin
from django.urls import include, path

from touchpoint.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("touchpoint.usage.urls")),
    path("", include("touchpoint.health.urls")),
    path("", include("touchpoint.revenue.urls")),
    path("", include("touchpoint.integrations.urls")),
    path("", include("touchpoint.web.urls")),
    path("accounts/", include("touchpoint.accounts.urls")),
]
