"""The root URLconf: Django's admin, the API, language switching, and every plugin app's `urls.py`
(see touchpoint/plugins.py; an app mounts under its module's `URL_PREFIX`, default the root)."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from touchpoint.api import api
from touchpoint.plugins import plugin_modules

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
urlpatterns += [
    path(getattr(module, "URL_PREFIX", ""), include(module.__name__))
    for _config, module in plugin_modules("urls")
]
