from __future__ import annotations

import pytest

from touchpoint.readiness.kpis import Kpi, kpis


@pytest.fixture
def registered():
    """Add or replace KPIs for one test; the registry is as it was afterwards."""
    before: dict[str, Kpi | None] = {}

    def add(kpi: Kpi) -> Kpi:
        before.setdefault(kpi.key, kpis.get(kpi.key))
        return kpis.add(kpi)

    yield add
    for key, kpi in before.items():
        if kpi is None:
            kpis.remove(key)
        else:
            kpis.add(kpi)
