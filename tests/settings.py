"""Test settings: the project's, plus an app that exists only here (tests/plugin_app/), plugged in
through the seams (see tests/test_plugins.py)."""

from touchpoint.settings import *  # noqa: F403
from touchpoint.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.plugin_app"]
