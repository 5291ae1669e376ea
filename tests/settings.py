"""Test settings: the project's, plus an app that exists only here (tests/plugin_app/), plugged in
through the seams (see tests/test_plugins.py)."""

from touchpoint.settings import *  # noqa: F403
from touchpoint.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.plugin_app"]

# A real hasher costs about half a second per password (PBKDF2's work factor is the point of it) and
# nearly every test makes a user or logs one in; the tests check who may do what, not the hashing.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
