"""REST API: success frameworks (mounted by success/api.py)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["success"])
