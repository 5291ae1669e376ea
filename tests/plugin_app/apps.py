"""A test-only app that plugs into every seam, to prove a new app needs no change elsewhere.

It exists only in tests/settings.py. It adds: a navigation entry, a page and an API operation (found
by the root URLconf and API), an account panel, a portfolio column, filter and CSV column, a health
measure, and a CSV import kind. tests/test_plugins.py checks each shows up.
"""

from django.apps import AppConfig


class PluginAppConfig(AppConfig):
    name = "tests.plugin_app"
    label = "plugin_app"
    verbose_name = "Plugin app (tests only)"
    touchpoint_plugin = True  # not a touchpoint.* app: opt in to URL and API discovery

    def ready(self) -> None:
        from tests.plugin_app import plugins

        plugins.register()
