"""The readiness API: maps listed a page at a time (the archived ones on request), one map as its grid
with the statuses and each stage's KPIs, and the month's uptime a monitoring tool posts (once a month,
whatever it posts twice); errors in the one shape, naming the field, never a 500."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Api, assert_api_error
from tests.readiness.shapes import CONTRACT, LEGAL, MARKETING, PRICING_PAGE, STATUS_PAGE
from touchpoint.api_contract import BIGINT_MAX
from touchpoint.readiness import services
from touchpoint.readiness.kpis import Kpi
from touchpoint.readiness.models import ReadinessMap, UptimeMonth
from touchpoint.readiness.structure import MapShape, StageShape
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db

SHAPE = MapShape(
    key="launch",
    name="Launch",
    stages=(StageShape("buy", "Able to buy it", "Price, contract, order"), StageShape("use", "Use it")),
    functions=(MARKETING, LEGAL),
    touchpoints=(
        PRICING_PAGE,
        CONTRACT,
        STATUS_PAGE,
    ),
)


@pytest.fixture
def leader_api(leader) -> Api:
    return Api(create_api_key(user=leader)[1])


@pytest.fixture
def launch(csm, leader) -> ReadinessMap:
    """Pricing page: one of two answered, due yesterday (a late gap). Contract: ready, the legal lead's.
    Status page: not applicable, by hand."""
    readiness_map = services.create_map(
        name="Launch", product="Cloud", launch_on=date(2027, 3, 1), actor=csm, start_from=SHAPE
    )
    pricing = readiness_map.touchpoints.get(key="pricing-page")
    services.update_touchpoint(
        touchpoint=pricing, owner=csm, due_on=timezone.localdate() - timedelta(days=1), actor=csm
    )
    services.answer_question(item=pricing.checklist.first(), answer="partly", actor=csm)
    legal = readiness_map.functions.get(key="legal")
    services.rename_row(row=legal, name=legal.name, lead=leader, set_lead=True, actor=csm)
    contract = readiness_map.touchpoints.get(key="contract")
    services.answer_question(item=contract.checklist.get(), answer="yes", actor=leader)
    services.set_status_by_hand(
        touchpoint=readiness_map.touchpoints.get(key="status-page"),
        status="not_applicable",
        reason="No outages page for this launch",
        actor=csm,
    )
    return readiness_map


# --- the list ---------------------------------------------------------------------------------------


def test_the_list_pages_through_current_maps_with_their_counts(launch, csm, viewer_api):
    for n in range(3):
        services.create_map(name=f"Other {n}", actor=csm)
    first = viewer_api.get("/readiness/maps", limit=2)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["count"] == 4 and len(body["items"]) == 2
    rest = viewer_api.get("/readiness/maps", limit=2, offset=2).json()
    ids = [item["id"] for item in body["items"] + rest["items"]]
    assert len(set(ids)) == 4 and launch.pk in ids
    ours = next(item for item in body["items"] + rest["items"] if item["id"] == launch.pk)
    assert ours["counts"] == {
        "ready": 1,
        "at_risk": 0,
        "gap": 1,
        "not_applicable": 1,
        "overdue": 1,
        "total": 3,
    }
    assert ours["key"] == "launch" and ours["launch_on"] == "2027-03-01" and ours["archived"] is False
    assert ours["owner"]["id"] == csm.pk and ours["kind"] == "product" and ours["product"] == "Cloud"


def test_archived_maps_are_listed_only_on_request(launch, csm, viewer_api):
    services.archive_map(readiness_map=launch, actor=csm)
    services.create_map(name="Current", actor=csm)
    current = viewer_api.get("/readiness/maps").json()
    assert [item["name"] for item in current["items"]] == ["Current"]
    archived = viewer_api.get("/readiness/maps", archived="true").json()
    assert archived["count"] == 1 and archived["items"][0]["id"] == launch.pk
    assert archived["items"][0]["archived"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10_000}, "limit"),
        ({"offset": -1}, "offset"),
        ({"archived": "x"}, "archived"),
    ],
)
def test_a_bad_page_is_422_naming_the_parameter(viewer_api, params, field):
    assert_api_error(viewer_api.get("/readiness/maps", **params), 422, field)


def test_the_api_needs_a_key(launch):
    assert_api_error(Api(None).get("/readiness/maps"), 401)
    assert_api_error(Api("tp_wrong").get(f"/readiness/maps/{launch.pk}"), 401)


# --- one map ----------------------------------------------------------------------------------------


def test_a_map_is_its_grid_with_statuses_owners_and_each_stages_counts(launch, csm, leader, viewer_api):
    response = viewer_api.get(f"/readiness/maps/{launch.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == launch.pk and body["name"] == "Launch" and body["counts"]["total"] == 3
    assert [(s["key"], s["name"], s["description"]) for s in body["stages"]] == [
        ("buy", "Able to buy it", "Price, contract, order"),
        ("use", "Use it", ""),
    ]
    assert body["stages"][0]["counts"] == {
        "ready": 1,
        "at_risk": 0,
        "gap": 1,
        "not_applicable": 0,
        "overdue": 1,
        "total": 2,
    }
    assert body["stages"][1]["counts"]["not_applicable"] == 1
    assert body["functions"] == [
        {"key": "marketing", "name": "Marketing", "lead": None},
        {"key": "legal", "name": "Legal", "lead": {"id": leader.pk, "name": str(leader)}},
    ]
    touchpoints = {tp["key"]: tp for tp in body["touchpoints"]}
    assert list(touchpoints) == ["pricing-page", "contract", "status-page"]
    pricing = touchpoints["pricing-page"]
    assert (pricing["status"], pricing["overdue"], pricing["questions"], pricing["answered"]) == (
        "gap",
        True,
        2,
        1,
    )
    assert pricing["owner"] == {"id": csm.pk, "name": str(csm)} and pricing["stage"] == "buy"
    assert touchpoints["contract"]["status"] == "ready"
    assert touchpoints["contract"]["owner"]["id"] == leader.pk  # the function's lead answers for it
    status_page = touchpoints["status-page"]
    assert status_page["status"] == "not_applicable" and status_page["status_by_hand"] is True
    assert status_page["status_reason"] == "No outages page for this launch"
    assert all(tp["serves"] == [] for tp in body["touchpoints"])


def test_a_map_gives_each_stages_kpis_with_a_value_or_how_to_bring_it(launch, leader, viewer_api):
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    services.record_uptime(product="Cloud", month=last_month, uptime_percent="99.9", actor=leader)
    body = viewer_api.get(f"/readiness/maps/{launch.pk}").json()
    kpis = {stage["stage"]: {kpi["key"]: kpi for kpi in stage["kpis"]} for stage in body["kpis"]}
    assert set(kpis) == {"buy", "use"}
    uptime = kpis["use"]["uptime"]
    assert uptime["value"] == pytest.approx(99.9) and uptime["count"] == 1 and uptime["how_to_bring"] == ""
    assert uptime["unit"] == "%" and uptime["better"] == "higher"
    no_data = kpis["use"]["time_to_fix"]
    assert no_data["value"] is None and no_data["trend"] == "" and no_data["how_to_bring"]


def test_a_kpi_that_fails_is_flagged_as_an_error_not_given_as_no_data(launch, viewer_api, registered):
    def broken(_context):
        raise ZeroDivisionError("boom")

    registered(Kpi(key="uptime", label="Uptime", stage="use", unit="%", compute=broken))
    body = viewer_api.get(f"/readiness/maps/{launch.pk}").json()
    use = {kpi["key"]: kpi for stage in body["kpis"] if stage["stage"] == "use" for kpi in stage["kpis"]}
    assert use["uptime"]["error"] is True and use["uptime"]["value"] is None
    assert use["time_to_fix"]["error"] is False


def test_an_unknown_map_is_404_in_the_error_shape(viewer_api):
    assert_api_error(viewer_api.get("/readiness/maps/999999"), 404)


@pytest.mark.parametrize("map_id", [BIGINT_MAX + 1, 2**64, 10**30, 0])
def test_a_map_id_out_of_range_is_422_naming_it(viewer_api, map_id):
    assert_api_error(viewer_api.get(f"/readiness/maps/{map_id}"), 422, "map_id")


def test_a_map_id_that_is_no_number_is_not_found(viewer_api):
    response = viewer_api.get("/readiness/maps/abc")
    assert 400 <= response.status_code < 500


def test_the_map_is_read_in_a_bounded_number_of_queries(
    launch, csm, viewer_api, django_assert_max_num_queries
):
    for n in range(15):
        services.add_touchpoint(
            readiness_map=launch,
            stage=launch.stages.get(key="use"),
            function=launch.functions.get(key="marketing"),
            name=f"Extra {n}",
            owner=csm,
            questions=["One?"],
            actor=csm,
        )
    viewer_api.get(f"/readiness/maps/{launch.pk}")
    with django_assert_max_num_queries(18):
        assert viewer_api.get(f"/readiness/maps/{launch.pk}").status_code == 200


# --- uptime -----------------------------------------------------------------------------------------


def test_a_month_of_uptime_is_recorded_then_replaced(leader, leader_api):
    body = {"product": "Cloud", "month": "2026-05-17", "uptime_percent": "99.95", "source": "Pingdom"}
    created = leader_api.send("post", "/readiness/uptime", body)
    assert created.status_code == 201, created.content
    out = created.json()
    assert (out["product"], out["month"], Decimal(out["uptime_percent"]), out["source"]) == (
        "Cloud",
        "2026-05-01",
        Decimal("99.95"),
        "Pingdom",
    )
    row = UptimeMonth.objects.get()
    assert row.recorded_by == leader and row.month == date(2026, 5, 1)
    entry = AuditLogEntry.objects.get(action="readiness.uptime_recorded")
    assert entry.object_type == "readiness.uptimemonth" and entry.object_id == str(row.pk)
    # The same month again (any day of it, as a JSON number): one row, the new figure.
    again = leader_api.send(
        "post", "/readiness/uptime", {**body, "month": "2026-05-02", "uptime_percent": 99.5}
    )
    assert again.status_code == 200, again.content
    assert UptimeMonth.objects.count() == 1
    assert UptimeMonth.objects.get().uptime_percent == Decimal("99.5")
    assert AuditLogEntry.objects.filter(action="readiness.uptime_recorded").count() == 2


def test_posting_the_same_month_twice_leaves_one_row(admin_api):
    body = {"product": "Cloud", "month": "2026-06-01", "uptime_percent": "100"}
    answers = [admin_api.send("post", "/readiness/uptime", body).status_code for _ in range(2)]
    assert answers == [201, 200]
    assert UptimeMonth.objects.count() == 1
    other = admin_api.send("post", "/readiness/uptime", {**body, "product": "Cloud EU"})
    assert other.status_code == 201 and UptimeMonth.objects.count() == 2


def test_the_same_month_under_another_case_of_the_product_is_still_one_figure(launch, admin_api, viewer_api):
    # The uptime KPI reads a map's product without regard to case; two rows for one month would both
    # count in its mean.
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1).isoformat()
    body = {"product": "Cloud", "month": month, "uptime_percent": "90"}
    assert admin_api.send("post", "/readiness/uptime", body).status_code == 201
    again = admin_api.send(
        "post", "/readiness/uptime", {**body, "product": "CLOUD", "uptime_percent": "99.5"}
    )
    assert again.status_code == 200, again.content
    assert again.json()["product"] == "Cloud"
    row = UptimeMonth.objects.get()
    assert (row.product, row.uptime_percent) == ("Cloud", Decimal("99.5"))
    kpis = viewer_api.get(f"/readiness/maps/{launch.pk}").json()["kpis"]
    uptime = next(kpi for stage in kpis for kpi in stage["kpis"] if kpi["key"] == "uptime")
    assert uptime["value"] == pytest.approx(99.5) and uptime["count"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"uptime_percent": "100.5"}, "uptime_percent"),
        ({"uptime_percent": 100.5}, "uptime_percent"),
        ({"uptime_percent": "-1"}, "uptime_percent"),
        ({"uptime_percent": "abc"}, "uptime_percent"),
        ({"uptime_percent": "NaN"}, "uptime_percent"),
        ({"uptime_percent": "Infinity"}, "uptime_percent"),
        ({"uptime_percent": "99.123456"}, "uptime_percent"),
        ({"uptime_percent": None}, "uptime_percent"),
        ({"month": "0001-05-01"}, "month"),
        ({"month": "9999-12-01"}, "month"),
        ({"month": "1950-01-01"}, "month"),
        ({"month": "2026-05"}, "month"),
        ({"month": 1_700_000_000}, "month"),
        ({"product": "p" * 100_000}, "product"),
        ({"product": ""}, "product"),
        ({"product": "Cloud\x00"}, "product"),
        ({"source": "s" * 101}, "source"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_uptime_is_422_naming_the_field_and_nothing_is_recorded(admin_api, change, field):
    body = {"product": "Cloud", "month": "2026-05-01", "uptime_percent": "99.9", **change}
    assert_api_error(admin_api.send("post", "/readiness/uptime", body), 422, field)
    assert not UptimeMonth.objects.exists()
    assert not AuditLogEntry.objects.filter(action="readiness.uptime_recorded").exists()


def test_only_leaders_and_admins_post_uptime(api, viewer_api):
    body = {"product": "Cloud", "month": "2026-05-01", "uptime_percent": "99.9"}
    assert_api_error(api.send("post", "/readiness/uptime", body), 403)  # a CSM
    assert_api_error(viewer_api.send("post", "/readiness/uptime", body), 403)
    assert not UptimeMonth.objects.exists()


@given(
    percent=st.one_of(
        st.decimals(min_value=Decimal("-1"), max_value=Decimal("101"), places=4),
        st.decimals(min_value=Decimal("-1000"), max_value=Decimal("1000"), places=6),
    )
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_percentage_is_stored_exactly_or_refused_naming_it(admin_api, percent):
    # A monitoring tool sends whatever it measured: 0 to 100 with up to 4 places is kept as sent; the
    # rest is a 422 on the field, never a 500 and never a rounded figure.
    response = admin_api.send(
        "post",
        "/readiness/uptime",
        {"product": "Cloud", "month": "2026-05-01", "uptime_percent": str(percent)},
    )
    fits = 0 <= percent <= 100 and percent == percent.quantize(Decimal("0.0001"))
    if fits:
        assert response.status_code in (200, 201), (percent, response.content)
        assert UptimeMonth.objects.get(product="Cloud", month=date(2026, 5, 1)).uptime_percent == percent
    else:
        assert_api_error(response, 422, "uptime_percent")
