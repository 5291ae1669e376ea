"""What the success API accepts and answers."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema

from touchpoint.accounts.schemas import Ref, Strict


class PlacementOut(Schema):
    account: int
    framework: Ref | None
    phase: Ref | None
    entered_at: datetime | None


class PlacementIn(Strict):
    framework: int | None = None
    phase: int | None = None
