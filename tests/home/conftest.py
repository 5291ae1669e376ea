from __future__ import annotations

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def in_english():
    """Texts said in the active language are checked in English, whatever an earlier test left active."""
    with translation.override("en"):
        yield
