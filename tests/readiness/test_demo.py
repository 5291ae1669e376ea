"""Demo step "readiness": a product map and a launch map with a realistic mix of statuses, leads for
every function, links to what serves a touchpoint, tasks for the worst gaps, and twelve months of
uptime; the same seed gives the same maps."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import demo_once_per_module
from touchpoint.readiness import selectors
from touchpoint.readiness.kpis import KpiContext, cells
from touchpoint.readiness.models import MapKind, ReadinessMap, Status, TouchpointLink, UptimeMonth
from touchpoint.tasks.models import Task

pytestmark = pytest.mark.django_db


def _args(seed: int) -> list[str]:
    return ["--accounts=40", "--days=200", f"--seed={seed}", f"--today={timezone.localdate()}"]


company = demo_once_per_module(*_args(3))


def _statuses() -> dict[str, list[tuple[str, str, str]]]:
    return {
        m.kind: sorted(m.touchpoints.values_list("key", "status", "owner__email"))
        for m in ReadinessMap.objects.all()
    }


def test_the_demo_has_a_product_map_and_a_launch_map_with_a_mix_of_statuses(company):
    product = ReadinessMap.objects.get(kind=MapKind.PRODUCT)
    launch = ReadinessMap.objects.exclude(kind=MapKind.PRODUCT).get()
    assert launch.launch_on > timezone.localdate()
    mixes = {m.kind: Counter(m.touchpoints.values_list("status", flat=True)) for m in (product, launch)}
    for mix in mixes.values():
        assert {Status.READY, Status.AT_RISK, Status.GAP} <= set(mix)
    # The product has been worked on for months; the launch is half done.
    assert mixes[product.kind][Status.READY] > mixes[launch.kind][Status.READY]
    assert mixes[launch.kind][Status.NOT_APPLICABLE] > 0
    assert launch.touchpoints.filter(status=Status.NOT_APPLICABLE, status_reason="").count() == 0
    # Every function has a lead, and the leads are people of many functions, not one person.
    leads = set(launch.functions.values_list("lead__email", flat=True))
    assert None not in leads and len(leads) == launch.functions.count()
    # Owners of open gaps have tasks linking back; some touchpoints are served by journeys or playbooks.
    tasks = Task.objects.filter(about_url__startswith="/readiness/touchpoints/")
    assert tasks.count() >= 3 and all(t.owner_id and t.account_id is None for t in tasks)
    assert TouchpointLink.objects.exists()
    grid = selectors.map_grid(launch, today=timezone.localdate())
    assert grid.rows and any(cell.touchpoints for row in grid.rows for cell in row.cells)
    assert UptimeMonth.objects.filter(product=product.product).count() == 12


def test_the_stages_show_kpis_from_the_demo_data(company):
    product = ReadinessMap.objects.get(kind=MapKind.PRODUCT)
    context = KpiContext(product=product.product, today=timezone.localdate())
    admin = product.owner
    measured = [
        cell for stage in product.stages.all() for cell in cells(stage.key, context, admin) if cell.has_data
    ]
    names = {str(cell.label) for cell in measured}
    assert "Uptime" in names
    assert len(measured) >= 4, names


def test_the_same_seed_gives_the_same_maps(company):
    first = _statuses()
    call_command("demo", "--reset", *_args(3), stdout=StringIO())
    assert _statuses() == first
