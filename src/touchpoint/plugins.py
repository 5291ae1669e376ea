"""Which installed apps plug into Touchpoint, and the modules they bring.

Every `touchpoint.*` app is a plugin; an app elsewhere (a test app, a third-party app) opts in by
setting `touchpoint_plugin = True` on its AppConfig. The root URLconf includes each plugin's
`urls.py` (under its `URL_PREFIX`, default the site root) and the API adds each plugin's
`api.py` `router` (under its `API_PREFIX`, default "/"), in INSTALLED_APPS order. Nothing central
names a domain app.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from importlib.util import find_spec
from types import ModuleType

from django.apps import AppConfig, apps


def plugin_apps() -> list[AppConfig]:
    return [
        config
        for config in apps.get_app_configs()
        if getattr(config, "touchpoint_plugin", config.name.startswith("touchpoint."))
    ]


def plugin_modules(name: str) -> Iterator[tuple[AppConfig, ModuleType]]:
    """Each plugin app's module `name` (e.g. "urls"), for the apps that have one."""
    for config in plugin_apps():
        dotted = f"{config.name}.{name}"
        if find_spec(dotted) is not None:
            yield config, import_module(dotted)
