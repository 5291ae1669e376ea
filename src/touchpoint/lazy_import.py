"""Import a heavy library on first use, not when the module naming it is imported.

Every web process, the worker and serve's master import every view module as they start; numpy (back-
tests), Faker (the demo) and segno (two-factor QR codes) cost 11–16 MB of memory each in every one of
them, for pages that few processes ever serve. `lazy_module` hands back a stand-in that imports the
library on the first attribute read and passes every read on to it.

    if TYPE_CHECKING:
        import numpy as np
    else:
        np = lazy_module("numpy")

Not the standard library's LazyLoader: that puts a stand-in into `sys.modules`, and libraries that ask
"is numpy loaded?" there (Altair, on every chart) would load it.
"""

from __future__ import annotations

import importlib
from typing import Any


class _Deferred:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<{self._name}, imported on first use>"


def lazy_module(name: str) -> Any:
    return _Deferred(name)
