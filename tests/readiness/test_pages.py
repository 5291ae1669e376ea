"""The readiness pages through the test client: the list of maps, a new map (from the template in the
maker's language, or as a copy without answers), the map's grid with its filters and KPIs, every form
of the map and touchpoint pages, the uptime months; bad input shown beside its field with a 422, who
may read and who may write, and every write audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import logged_in_client
from tests.factories import UserFactory
from tests.readiness.shapes import BUY, CONTRACT, PRICING_PAGE, USE
from touchpoint.readiness import services
from touchpoint.readiness.models import (
    ChecklistItem,
    Function,
    ReadinessMap,
    Stage,
    Status,
    Touchpoint,
    TouchpointComment,
    TouchpointLink,
    UptimeMonth,
)
from touchpoint.readiness.structure import FunctionShape, MapShape, QuestionShape, TouchpointShape
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db

journeys = pytest.mark.skipif(not apps.is_installed("touchpoint.journeys"), reason="journeys not installed")

SHAPE = MapShape(
    key="launch",
    name="Launch",
    stages=(BUY, USE),
    functions=(
        FunctionShape("marketing", "Marketing"),
        FunctionShape("legal", "Legal"),
        FunctionShape("success", "Customer success"),
    ),
    touchpoints=(
        PRICING_PAGE,
        CONTRACT,
        TouchpointShape(
            key="onboarding",
            stage="use",
            function="success",
            name="Onboarding call",
            checklist=(QuestionShape("Script written?"),),
        ),
    ),
)


@pytest.fixture
def pm(db):
    """The product manager: a CSM who owns the map."""
    return UserFactory(role=Role.CSM, email="pm@example.com", full_name="Pat Manager")


@pytest.fixture
def launch(pm) -> ReadinessMap:
    return services.create_map(name="Launch", product="Cloud", actor=pm, start_from=SHAPE)


def _tp(readiness_map: ReadinessMap, key: str) -> Touchpoint:
    return readiness_map.touchpoints.get(key=key)


def _map_url(readiness_map: ReadinessMap) -> str:
    return f"/readiness/{readiness_map.pk}/"


def _tp_url(touchpoint: Touchpoint) -> str:
    return f"/readiness/touchpoints/{touchpoint.pk}/"


def _audited(action: str, instance) -> AuditLogEntry:
    """The latest audit entry of `action` about `instance`, which must exist."""
    entry = (
        AuditLogEntry.objects.filter(action=action, object_id=str(instance.pk))
        .order_by("-created_at", "-id")
        .first()
    )
    assert entry is not None, f"{action} not audited"
    assert entry.object_type == instance._meta.label_lower and entry.object_type.startswith("readiness.")
    return entry


def _shown(response) -> set[str]:
    """The keys of the touchpoints the grid shows."""
    grid = response.context["grid"]
    return {tp.key for row in grid.rows for cell in row.cells for tp in cell.touchpoints}


def _beside(response, field_id: str) -> bool:
    """Whether the page shows an error beside the field whose input has this id."""
    return f'id="{field_id}-error"'.encode() in response.content


# --- the list ---------------------------------------------------------------------------------------


def test_the_list_shows_current_maps_and_the_archived_ones_on_request(
    launch, pm, viewer, django_assert_max_num_queries
):
    old = services.create_map(name="Old launch", actor=pm, start_from=SHAPE)
    services.archive_map(readiness_map=old, actor=pm)
    for n in range(5):
        services.create_map(name=f"Other {n}", actor=pm, start_from=SHAPE)
    client = logged_in_client(viewer)
    with django_assert_max_num_queries(10):
        current = client.get("/readiness/")
    assert current.status_code == 200
    assert b"Launch" in current.content and b"Old launch" not in current.content
    assert f'id="map-{launch.pk}"'.encode() in current.content
    archived = client.get("/readiness/", {"archived": "1"})
    assert archived.status_code == 200
    assert b"Old launch" in archived.content and f'id="map-{launch.pk}"'.encode() not in archived.content
    # Only those who may make a map are offered to.
    assert b'id="new-map"' not in current.content
    assert b'id="new-map"' in logged_in_client(pm).get("/readiness/").content


def test_a_viewer_may_not_open_the_new_map_page(viewer):
    assert logged_in_client(viewer).get("/readiness/new/").status_code == 403
    assert logged_in_client(viewer).post("/readiness/new/", {"name": "Mine"}).status_code == 403
    assert not ReadinessMap.objects.exists()


# --- a new map --------------------------------------------------------------------------------------


def _new_map(**values: str) -> dict[str, str]:
    return {
        "name": "Cloud in Japan",
        "kind": "market",
        "product": "Cloud",
        "launch_on": "2027-04-01",
        "owner": "",
        "description": "",
        "start_from": "template:standard",
        **values,
    }


def test_a_new_map_from_the_template_speaks_the_makers_language(csm):
    client = logged_in_client(csm)
    form = client.get("/readiness/new/", HTTP_ACCEPT_LANGUAGE="ja")
    assert form.status_code == 200 and "標準カスタマージャーニー".encode() in form.content
    made = client.post("/readiness/new/", _new_map(name="クラウド日本展開"), HTTP_ACCEPT_LANGUAGE="ja")
    readiness_map = ReadinessMap.objects.get()
    assert made.status_code == 302 and made["Location"] == _map_url(readiness_map)
    assert readiness_map.name == "クラウド日本展開" and readiness_map.owner == csm
    assert readiness_map.launch_on == date(2027, 4, 1) and readiness_map.kind == "market"
    assert readiness_map.stages.get(key="hear").name == "製品を知る"
    assert readiness_map.touchpoints.count() > 10
    assert not ChecklistItem.objects.filter(touchpoint__map=readiness_map).exclude(answer="").exists()
    entry = _audited("readiness.map_created", readiness_map)
    assert entry.actor == csm and entry.changes["started_from"] == "standard"
    # The same template in English for someone who reads English.
    client.post("/readiness/new/", _new_map(name="Cloud in the US"))
    english = ReadinessMap.objects.get(name="Cloud in the US")
    assert english.stages.get(key="hear").name == "Hear of it"


def test_a_copy_of_another_map_takes_its_grid_and_questions_but_none_of_its_answers(launch, pm, leader):
    pricing = _tp(launch, "pricing-page")
    services.update_touchpoint(touchpoint=pricing, owner=pm, due_on=date(2027, 1, 15), actor=pm)
    for item in pricing.checklist.all():
        services.answer_question(item=item, answer="yes", evidence_url="https://example.com/p", actor=pm)
    services.set_status_by_hand(
        touchpoint=_tp(launch, "contract"), status="not_applicable", reason="Standard terms", actor=pm
    )
    response = logged_in_client(leader).post(
        "/readiness/new/", _new_map(name="Launch 2", start_from=f"map:{launch.pk}")
    )
    copy = ReadinessMap.objects.get(name="Launch 2")
    assert response.status_code == 302 and copy.owner == leader
    assert sorted(copy.touchpoints.values_list("key", flat=True)) == sorted(
        launch.touchpoints.values_list("key", flat=True)
    )
    assert list(copy.stages.values_list("name", flat=True)) == ["Able to buy it", "Use it"]
    assert ChecklistItem.objects.filter(touchpoint__map=copy).count() == 4
    assert set(ChecklistItem.objects.filter(touchpoint__map=copy).values_list("answer", flat=True)) == {""}
    assert not ChecklistItem.objects.filter(touchpoint__map=copy).exclude(evidence_url="").exists()
    for touchpoint in copy.touchpoints.all():
        assert touchpoint.status == Status.GAP and not touchpoint.status_by_hand
        assert touchpoint.owner is None and touchpoint.due_on is None and touchpoint.status_reason == ""
    # The original keeps its answers.
    assert _tp(launch, "pricing-page").status == Status.READY
    assert _tp(launch, "contract").status == Status.NOT_APPLICABLE


def test_an_empty_grid_is_a_start_too(csm):
    response = logged_in_client(csm).post("/readiness/new/", _new_map(start_from=""))
    readiness_map = ReadinessMap.objects.get()
    assert response.status_code == 302 and not readiness_map.touchpoints.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "x" * 100_000}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"launch_on": "0001-01-01"}, "launch_on"),
        ({"launch_on": "9999-12-31"}, "launch_on"),
        ({"launch_on": "2027-02-30"}, "launch_on"),
        ({"start_from": "template:no-such-template"}, "start_from"),
        ({"start_from": "map:999999"}, "start_from"),
        ({"start_from": "../../etc/passwd"}, "start_from"),
        ({"kind": "spaceship"}, "kind"),
    ],
)
def test_bad_input_on_a_new_map_is_shown_beside_its_field_and_nothing_is_made(csm, values, field):
    response = logged_in_client(csm).post("/readiness/new/", _new_map(**values))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert _beside(response, f"id_{field}")
    assert not ReadinessMap.objects.exists()
    assert not AuditLogEntry.objects.filter(action__startswith="readiness.").exists()


# --- the map page: grid, filters, KPIs --------------------------------------------------------------


@pytest.fixture
def filtered(launch, pm, leader):
    """Pricing page: Pat's, overdue. Contract: the legal lead's (the leader), ready. Onboarding: nobody's."""
    services.update_touchpoint(
        touchpoint=_tp(launch, "pricing-page"),
        owner=pm,
        due_on=timezone.localdate() - timedelta(days=3),
        actor=pm,
    )
    legal = launch.functions.get(key="legal")
    services.rename_row(row=legal, name=legal.name, lead=leader, set_lead=True, actor=pm)
    services.answer_question(item=_tp(launch, "contract").checklist.get(), answer="yes", actor=leader)
    return launch


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({}, {"pricing-page", "contract", "onboarding"}),
        ({"function": "legal"}, {"contract"}),
        ({"function": "no-such-function"}, set()),
        ({"owner": "pm"}, {"pricing-page"}),
        ({"owner": "leader"}, {"contract"}),  # the legal lead answers for the contract
        ({"owner": "999999"}, set()),
        ({"owner": "none"}, {"onboarding"}),
        ({"status": "ready"}, {"contract"}),
        ({"status": "gap"}, {"pricing-page", "onboarding"}),
        ({"status": "nonsense"}, {"pricing-page", "contract", "onboarding"}),
        ({"overdue": "1"}, {"pricing-page"}),
        ({"function": "marketing", "owner": "none"}, set()),
    ],
)
def test_the_grid_filters_by_function_owner_nobody_status_and_overdue(
    filtered, pm, leader, viewer, params, shown
):
    people = {"pm": pm, "leader": leader}
    if params.get("owner") in people:
        params = {**params, "owner": str(people[params["owner"]].pk)}
    response = logged_in_client(viewer).get(_map_url(filtered), params)
    assert response.status_code == 200
    assert _shown(response) == shown
    for key in ("pricing-page", "contract", "onboarding"):
        assert (f'id="tp-{key}"'.encode() in response.content) == (key in shown), key
    if params.get("function") == "legal":
        assert (
            b'id="function-legal"' in response.content and b'id="function-marketing"' not in response.content
        )


def test_the_grid_counts_and_colours_cells_by_their_worst_touchpoint(filtered, viewer):
    response = logged_in_client(viewer).get(_map_url(filtered))
    grid = response.context["grid"]
    assert grid.counts.as_dict() == {
        "ready": 1,
        "at_risk": 0,
        "gap": 2,
        "not_applicable": 0,
        "overdue": 1,
        "total": 3,
    }
    assert b'data-stage="buy" data-function="legal"' in response.content
    assert b'rd-cell rd-cell-ready" data-stage="buy" data-function="legal"' in response.content
    assert b'rd-cell rd-cell-gap" data-stage="buy" data-function="marketing"' in response.content
    assert b'rd-cell rd-cell-empty" data-stage="use" data-function="marketing"' in response.content
    # The open ones, worst first, with who answers for each.
    assert [tp.key for tp in grid.open_touchpoints] == ["pricing-page", "onboarding"]


def test_the_map_page_shows_each_stages_kpis_with_data_or_how_to_bring_it(launch, leader, viewer):
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    services.record_uptime(product="Cloud", month=last_month, uptime_percent="99.5", actor=leader)
    response = logged_in_client(viewer).get(_map_url(launch))
    assert response.status_code == 200
    kpis = dict((stage.key, {cell.key: cell for cell in found}) for stage, found in response.context["kpis"])
    assert set(kpis) == {"buy", "use"}
    assert kpis["use"]["uptime"].value is not None and kpis["use"]["uptime"].value.value == 99.5
    assert b'id="kpis-use"' in response.content and b'id="kpi-uptime"' in response.content
    assert b"99.5" in response.content
    # A KPI without data says how to bring it (tickets are imported by no one here).
    assert kpis["use"]["time_to_fix"].value is None
    assert str(kpis["use"]["time_to_fix"].how_to_bring).encode() in response.content


def test_the_map_page_asks_a_bounded_number_of_queries(launch, pm, django_assert_max_num_queries):
    for n in range(10):
        services.add_touchpoint(
            readiness_map=launch,
            stage=launch.stages.get(key="use"),
            function=launch.functions.get(key="success"),
            name=f"Extra {n}",
            owner=pm,
            questions=["One?", "Two?"],
            actor=pm,
        )
    client = logged_in_client(pm)
    client.get(_map_url(launch))  # warm the caches (site settings, the session)
    with django_assert_max_num_queries(30):
        assert client.get(_map_url(launch)).status_code == 200


@given(
    function=st.text(max_size=80),
    owner=st.text(max_size=30),
    status=st.text(max_size=20),
    overdue=st.sampled_from(["", "1", "yes", "\x00"]),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_filter_text_gives_the_page_never_an_error(launch, viewer, function, owner, status, overdue):
    # What people put in the address bar reaches the grid: it filters, or matches nothing.
    params = {"function": function, "owner": owner, "status": status, "overdue": overdue}
    response = logged_in_client(viewer).get(_map_url(launch), params)
    assert response.status_code == 200


def test_an_unknown_map_or_touchpoint_is_404(viewer):
    client = logged_in_client(viewer)
    assert client.get("/readiness/999999/").status_code == 404
    assert client.get("/readiness/touchpoints/999999/").status_code == 404


# --- the map page: its forms ------------------------------------------------------------------------


def test_the_owner_changes_the_maps_details(launch, pm, leader):
    response = logged_in_client(pm).post(
        _map_url(launch),
        {
            "action": "details",
            "details-name": "Launch in Japan",
            "details-kind": "market",
            "details-product": "Cloud",
            "details-launch_on": "2027-03-01",
            "details-owner": str(leader.pk),
            "details-description": "Everything for Japan.",
        },
    )
    assert response.status_code == 302 and response["Location"] == _map_url(launch)
    launch.refresh_from_db()
    assert (launch.name, launch.kind, launch.launch_on, launch.owner) == (
        "Launch in Japan",
        "market",
        date(2027, 3, 1),
        leader,
    )
    entry = _audited("readiness.map_changed", launch)
    assert entry.actor == pm and set(entry.changes) >= {"name", "kind", "launch_on", "owner"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"details-launch_on": "0001-01-01"}, "launch_on"),
        ({"details-launch_on": "9999-12-31"}, "launch_on"),
        ({"details-name": "x" * 100_000}, "name"),
        ({"details-name": ""}, "name"),
    ],
)
def test_bad_details_are_shown_beside_their_field(launch, pm, values, field):
    response = logged_in_client(pm).post(
        _map_url(launch),
        {"action": "details", "details-name": "Launch", "details-kind": "product", **values},
    )
    assert response.status_code == 422 and _beside(response, f"id_details-{field}")
    launch.refresh_from_db()
    assert launch.name == "Launch" and launch.launch_on is None
    assert not AuditLogEntry.objects.filter(action="readiness.map_changed").exists()


def test_a_map_is_archived_and_brought_back(launch, pm, viewer):
    client = logged_in_client(pm)
    assert client.post(_map_url(launch), {"action": "archive"}).status_code == 302
    launch.refresh_from_db()
    assert launch.archived_at is not None
    _audited("readiness.map_archived", launch)
    assert f'id="map-{launch.pk}"'.encode() not in logged_in_client(viewer).get("/readiness/").content
    # An archived map still opens, and says so.
    assert b"Archived" in logged_in_client(viewer).get(_map_url(launch)).content
    assert client.post(_map_url(launch), {"action": "archive", "archived": "0"}).status_code == 302
    launch.refresh_from_db()
    assert launch.archived_at is None
    _audited("readiness.map_restored", launch)


def test_stages_and_functions_are_added_renamed_and_removed(launch, pm, leader):
    client = logged_in_client(pm)
    url = _map_url(launch)
    assert client.post(url, {"action": "add-stage", "add-stage-name": "Stay for life"}).status_code == 302
    stay = launch.stages.get(name="Stay for life")
    assert stay.key == "stay-for-life" and list(launch.stages.values_list("key", flat=True))[-1] == stay.key
    assert _audited("readiness.stage_added", launch).changes == {"name": "Stay for life"}
    added = client.post(
        url, {"action": "add-function", "add-function-name": "Support", "add-function-lead": str(leader.pk)}
    )
    assert added.status_code == 302
    support = launch.functions.get(name="Support")
    assert support.lead == leader
    _audited("readiness.function_added", launch)

    renamed = client.post(
        url, {"action": "change-row", "kind": "stage", "item": str(stay.pk), f"stage-{stay.pk}-name": "Stay"}
    )
    assert renamed.status_code == 302
    stay.refresh_from_db()
    assert stay.name == "Stay"
    assert _audited("readiness.row_changed", launch).changes["name"] == ["Stay for life", "Stay"]
    # A function saved without a lead has none.
    client.post(
        url,
        {
            "action": "change-row",
            "kind": "function",
            "item": str(support.pk),
            f"function-{support.pk}-name": "Support desk",
            f"function-{support.pk}-lead": "",
        },
    )
    support.refresh_from_db()
    assert support.name == "Support desk" and support.lead is None

    assert (
        client.post(url, {"action": "remove-row", "kind": "stage", "item": str(stay.pk)}).status_code == 302
    )
    assert not Stage.objects.filter(pk=stay.pk).exists()
    assert _audited("readiness.row_removed", launch).changes == {"name": "Stay"}


def test_a_row_renamed_to_nothing_says_so_beside_it(launch, pm):
    stage = launch.stages.get(key="buy")
    response = logged_in_client(pm).post(
        _map_url(launch),
        {"action": "change-row", "kind": "stage", "item": str(stage.pk), f"stage-{stage.pk}-name": ""},
    )
    assert response.status_code == 422
    shown = response.context["grid"].stages[0]
    assert shown.pk == stage.pk and "name" in shown.form.errors
    assert b'<span class="field-error">This field is required.</span>' in response.content
    stage.refresh_from_db()
    assert stage.name == "Able to buy it"


def test_a_row_that_still_holds_touchpoints_is_not_removed(launch, pm):
    legal = launch.functions.get(key="legal")
    response = logged_in_client(pm).post(
        _map_url(launch), {"action": "remove-row", "kind": "function", "item": str(legal.pk)}
    )
    assert response.status_code == 422
    assert b"Move or remove its touchpoints first: 1 are in it." in response.content
    assert Function.objects.filter(pk=legal.pk).exists()
    assert not AuditLogEntry.objects.filter(action="readiness.row_removed").exists()


@pytest.mark.parametrize("item", ["", "abc", "-1", "1" * 40])
def test_a_row_that_is_no_id_is_refused(launch, pm, item):
    response = logged_in_client(pm).post(
        _map_url(launch), {"action": "remove-row", "kind": "stage", "item": item}
    )
    assert response.status_code == 422 and b"Choose an item of this map." in response.content
    assert launch.stages.count() == 2


def test_another_maps_row_is_not_found(launch, pm):
    other = services.create_map(name="Other", actor=pm, start_from=SHAPE)
    stage = other.stages.get(key="use")
    Touchpoint.objects.filter(stage=stage).delete()
    response = logged_in_client(pm).post(
        _map_url(launch), {"action": "remove-row", "kind": "stage", "item": str(stage.pk)}
    )
    assert response.status_code == 404
    assert Stage.objects.filter(pk=stage.pk).exists()


def test_a_touchpoint_is_added_with_its_questions(launch, pm, leader):
    response = logged_in_client(pm).post(
        _map_url(launch),
        {
            "action": "add-touchpoint",
            "add-touchpoint-name": "Status page",
            "add-touchpoint-stage": str(launch.stages.get(key="use").pk),
            "add-touchpoint-function": str(launch.functions.get(key="success").pk),
            "add-touchpoint-owner": str(leader.pk),
            "add-touchpoint-due_on": "2027-02-01",
            "add-touchpoint-description": "Where customers see outages.",
            "add-touchpoint-questions": "Is it public?\n\n  Does it show history?  \n",
        },
    )
    touchpoint = launch.touchpoints.get(name="Status page")
    assert response.status_code == 302 and response["Location"] == _tp_url(touchpoint)
    assert touchpoint.owner == leader and touchpoint.due_on == date(2027, 2, 1)
    assert list(touchpoint.checklist.values_list("question", flat=True)) == [
        "Is it public?",
        "Does it show history?",
    ]
    assert touchpoint.status == Status.GAP
    assert _audited("readiness.touchpoint_added", touchpoint).actor == pm


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"add-touchpoint-name": ""}, "name"),
        ({"add-touchpoint-due_on": "9999-12-31"}, "due_on"),
        ({"add-touchpoint-stage": "999999"}, "stage"),
        ({"add-touchpoint-questions": "x" * 501}, "questions"),
    ],
)
def test_a_bad_touchpoint_is_shown_beside_its_field(launch, pm, values, field):
    response = logged_in_client(pm).post(
        _map_url(launch),
        {
            "action": "add-touchpoint",
            "add-touchpoint-name": "Status page",
            "add-touchpoint-stage": str(launch.stages.get(key="use").pk),
            "add-touchpoint-function": str(launch.functions.get(key="success").pk),
            **values,
        },
    )
    assert response.status_code == 422 and _beside(response, f"id_add-touchpoint-{field}")
    assert launch.touchpoints.count() == 3


def test_an_unknown_action_is_a_bad_request(launch, pm):
    client = logged_in_client(pm)
    assert client.post(_map_url(launch), {"action": "explode"}).status_code == 400
    assert client.post(_map_url(launch), {}).status_code == 400
    assert client.post(_tp_url(_tp(launch, "contract")), {"action": "explode"}).status_code == 400


# --- who may shape a map ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["viewer", "csm"])
def test_a_viewer_or_a_csm_who_does_not_own_the_map_reads_it_but_cannot_shape_it(launch, who, request):
    client = logged_in_client(request.getfixturevalue(who))
    page = client.get(_map_url(launch))
    assert page.status_code == 200 and b'id="add-touchpoint"' not in page.content
    for data in (
        {"action": "add-stage", "add-stage-name": "Mine"},
        {"action": "archive"},
        {"action": "details", "details-name": "Mine", "details-kind": "product"},
        {"action": "explode"},
    ):
        assert client.post(_map_url(launch), data).status_code == 403, data
    launch.refresh_from_db()
    assert launch.name == "Launch" and launch.archived_at is None and launch.stages.count() == 2


@pytest.mark.parametrize("who", ["leader", "admin_user"])
def test_leaders_and_admins_shape_any_map(launch, who, request):
    client = logged_in_client(request.getfixturevalue(who))
    assert client.post(_map_url(launch), {"action": "add-stage", "add-stage-name": "Stay"}).status_code == 302
    assert launch.stages.filter(name="Stay").exists()


# --- the touchpoint page ----------------------------------------------------------------------------


def _answer(item: ChecklistItem, answer: str, evidence_url: str = "", note: str = "") -> dict[str, str]:
    prefix = f"answer-{item.pk}"
    return {
        "action": "answer",
        "item": str(item.pk),
        f"{prefix}-answer": answer,
        f"{prefix}-evidence_url": evidence_url,
        f"{prefix}-note": note,
    }


def test_the_touchpoint_page_shows_its_checklist_history_and_forms(launch, pm, viewer):
    touchpoint = _tp(launch, "pricing-page")
    services.answer_question(item=touchpoint.checklist.first(), answer="yes", actor=pm)
    mine = logged_in_client(pm).get(_tp_url(touchpoint))
    assert mine.status_code == 200
    assert b"Every plan shown?" in mine.content and b'id="checklist"' in mine.content
    assert b'name="action" value="answer"' in mine.content and b'id="touchpoint-details"' in mine.content
    assert "answered “Every plan shown?”: Yes".encode() in mine.content  # the history, in words
    theirs = logged_in_client(viewer).get(_tp_url(touchpoint))
    assert theirs.status_code == 200 and b"Every plan shown?" in theirs.content
    assert b'name="action" value="answer"' not in theirs.content
    assert b'id="touchpoint-details"' not in theirs.content


def test_an_answer_with_evidence_moves_the_status_and_says_who_confirmed_it(launch, pm):
    touchpoint = _tp(launch, "pricing-page")
    first, second = touchpoint.checklist.all()
    client = logged_in_client(pm)
    response = client.post(_tp_url(touchpoint), _answer(first, "yes", "https://example.com/pricing", "All 3"))
    assert response.status_code == 302 and response["Location"] == _tp_url(touchpoint)
    first.refresh_from_db()
    assert (first.answer, first.evidence_url, first.note, first.confirmed_by) == (
        "yes",
        "https://example.com/pricing",
        "All 3",
        pm,
    )
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.AT_RISK
    client.post(_tp_url(touchpoint), _answer(second, "yes"))
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.READY
    entry = _audited("readiness.answered", touchpoint)
    assert entry.actor == pm and entry.changes["status"] == ["at_risk", "ready"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"evidence_url": "javascript:alert(1)"}, "evidence_url"),
        ({"evidence_url": "not a link"}, "evidence_url"),
        ({"evidence_url": "https://" + "a" * 600 + ".com"}, "evidence_url"),
        ({"answer": "maybe"}, "answer"),
        ({"note": "n" * 5001}, "note"),
    ],
)
def test_a_bad_answer_is_shown_beside_its_field_and_nothing_changes(launch, pm, values, field):
    touchpoint = _tp(launch, "contract")
    item = touchpoint.checklist.get()
    data = _answer(item, "yes")
    data.update({f"answer-{item.pk}-{name}": value for name, value in values.items()})
    response = logged_in_client(pm).post(_tp_url(touchpoint), data)
    assert response.status_code == 422 and _beside(response, f"id_answer-{item.pk}-{field}")
    item.refresh_from_db()
    assert item.answer == "" and item.evidence_url == ""
    assert not AuditLogEntry.objects.filter(action="readiness.answered").exists()


def test_an_answer_to_another_touchpoints_question_is_not_found(launch, pm):
    other = _tp(launch, "onboarding").checklist.get()
    response = logged_in_client(pm).post(_tp_url(_tp(launch, "contract")), _answer(other, "yes"))
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.answer == ""


def test_questions_are_added_and_removed_and_the_status_follows(launch, pm):
    touchpoint = _tp(launch, "contract")
    client = logged_in_client(pm)
    client.post(_tp_url(touchpoint), _answer(touchpoint.checklist.get(), "yes"))
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.READY
    added = client.post(
        _tp_url(touchpoint), {"action": "add-question", "add-question-question": "Signed by both?"}
    )
    assert added.status_code == 302
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.AT_RISK  # one yes, one open
    new = touchpoint.checklist.get(question="Signed by both?")
    assert _audited("readiness.question_added", touchpoint).changes == {"question": "Signed by both?"}
    removed = client.post(_tp_url(touchpoint), {"action": "remove-question", "item": str(new.pk)})
    assert removed.status_code == 302 and not ChecklistItem.objects.filter(pk=new.pk).exists()
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.READY
    _audited("readiness.question_removed", touchpoint)
    empty = client.post(_tp_url(touchpoint), {"action": "add-question", "add-question-question": " "})
    assert empty.status_code == 422 and _beside(empty, "id_add-question-question")


def test_a_status_by_hand_needs_a_reason_and_is_cleared_back_to_the_checklists(launch, pm):
    touchpoint = _tp(launch, "contract")
    client = logged_in_client(pm)
    refused = client.post(_tp_url(touchpoint), {"action": "status", "status-status": "not_applicable"})
    assert refused.status_code == 422 and _beside(refused, "id_status-reason")
    blank = client.post(
        _tp_url(touchpoint), {"action": "status", "status-status": "ready", "status-reason": "   "}
    )
    assert blank.status_code == 422 and _beside(blank, "id_status-reason")
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.GAP and not touchpoint.status_by_hand
    set_by_hand = client.post(
        _tp_url(touchpoint),
        {"action": "status", "status-status": "not_applicable", "status-reason": "Standard terms"},
    )
    assert set_by_hand.status_code == 302
    touchpoint.refresh_from_db()
    assert (touchpoint.status, touchpoint.status_by_hand, touchpoint.status_reason) == (
        Status.NOT_APPLICABLE,
        True,
        "Standard terms",
    )
    assert _audited("readiness.status_set", touchpoint).changes["reason"] == "Standard terms"
    assert b"Standard terms" in client.get(_tp_url(touchpoint)).content
    assert client.post(_tp_url(touchpoint), {"action": "clear-status"}).status_code == 302
    touchpoint.refresh_from_db()
    assert (
        touchpoint.status == Status.GAP and not touchpoint.status_by_hand and touchpoint.status_reason == ""
    )
    assert _audited("readiness.status_cleared", touchpoint).changes["status"] == ["not_applicable", "gap"]


def test_a_comment_is_added_and_an_empty_one_is_refused(launch, pm):
    touchpoint = _tp(launch, "contract")
    client = logged_in_client(pm)
    assert (
        client.post(_tp_url(touchpoint), {"action": "comment", "comment-body": "Legal has it"}).status_code
        == 302
    )
    assert TouchpointComment.objects.get(touchpoint=touchpoint).author == pm
    _audited("readiness.commented", touchpoint)
    empty = client.post(_tp_url(touchpoint), {"action": "comment", "comment-body": ""})
    assert empty.status_code == 422 and _beside(empty, "id_comment-body")
    assert TouchpointComment.objects.count() == 1


@journeys
def test_a_touchpoint_is_linked_to_what_serves_it_and_unlinked(launch, pm):
    from touchpoint.journeys.models import Journey, JourneyStatus

    Journey.objects.create(key="welcome", name="Welcome", status=JourneyStatus.LIVE)
    touchpoint = _tp(launch, "onboarding")
    client = logged_in_client(pm)
    assert b"Welcome" in client.get(_tp_url(touchpoint)).content  # offered
    linked = client.post(_tp_url(touchpoint), {"action": "link", "link-target": "journey:welcome"})
    assert linked.status_code == 302
    link = TouchpointLink.objects.get(touchpoint=touchpoint)
    assert (link.kind, link.target) == ("journey", "welcome")
    assert _audited("readiness.linked", touchpoint).changes == {"kind": "journey", "target": "welcome"}
    page = client.get(_tp_url(touchpoint))
    assert b'href="/journeys/welcome/"' in page.content and b"Automated" in page.content
    not_offered = client.post(_tp_url(touchpoint), {"action": "link", "link-target": "journey:nope"})
    assert not_offered.status_code == 422 and _beside(not_offered, "id_link-target")
    assert client.post(_tp_url(touchpoint), {"action": "unlink", "item": str(link.pk)}).status_code == 302
    assert not TouchpointLink.objects.exists()
    _audited("readiness.unlinked", touchpoint)


def test_a_gap_becomes_one_task_for_whoever_answers_for_it(launch, pm, leader):
    from touchpoint.tasks.models import Task

    touchpoint = _tp(launch, "contract")
    legal = launch.functions.get(key="legal")
    services.rename_row(row=legal, name=legal.name, lead=leader, set_lead=True, actor=pm)
    client = logged_in_client(pm)
    made = client.post(_tp_url(touchpoint), {"action": "task", "task-due_on": "2027-01-10"})
    assert made.status_code == 302
    task = Task.objects.get()
    assert task.owner == leader and task.account is None and task.due_on == date(2027, 1, 10)
    assert task.about_url == _tp_url(touchpoint) and "Contract" in task.about_label
    assert _audited("readiness.task_made", touchpoint).changes["task"] == task.pk
    # The page shows the open task, and asking again gives the same one.
    assert f"/tasks/{task.pk}/".encode() in client.get(_tp_url(touchpoint)).content
    again = client.post(_tp_url(touchpoint), {"action": "task", "task-due_on": "2027-02-10"})
    assert again.status_code == 302 and Task.objects.get().pk == task.pk
    # The task's page links back to the touchpoint.
    assert _tp_url(touchpoint).encode() in client.get(f"/tasks/{task.pk}/").content


def test_a_task_needs_someone_and_a_sensible_date(launch, pm):
    from touchpoint.tasks.models import Task

    nobody = _tp(launch, "onboarding")
    client = logged_in_client(pm)
    response = client.post(_tp_url(nobody), {"action": "task", "task-due_on": "2027-01-10"})
    assert response.status_code == 422 and b"Name an owner for this touchpoint" in response.content
    services.update_touchpoint(touchpoint=nobody, owner=pm, actor=pm)
    for day in ("", "0001-01-01", "9999-12-31"):
        late = client.post(_tp_url(nobody), {"action": "task", "task-due_on": day})
        assert late.status_code == 422 and _beside(late, "id_task-due_on"), day
    assert not Task.objects.exists()


def test_the_touchpoints_details_change_and_a_bad_date_is_shown_beside_it(launch, pm, leader):
    touchpoint = _tp(launch, "contract")
    url = _tp_url(touchpoint)
    details = {
        "action": "details",
        "details-name": "Master agreement",
        "details-stage": str(launch.stages.get(key="use").pk),
        "details-function": str(touchpoint.function_id),
        "details-owner": str(leader.pk),
        "details-due_on": "2027-05-01",
        "details-description": "",
    }
    client = logged_in_client(pm)
    assert client.post(url, details).status_code == 302
    touchpoint.refresh_from_db()
    assert (
        touchpoint.name == "Master agreement" and touchpoint.stage.key == "use" and touchpoint.owner == leader
    )
    _audited("readiness.touchpoint_changed", touchpoint)
    bad = client.post(url, {**details, "details-due_on": "0001-01-01"})
    assert bad.status_code == 422 and _beside(bad, "id_details-due_on")
    other_map = services.create_map(name="Other", actor=pm, start_from=SHAPE)
    foreign = client.post(url, {**details, "details-stage": str(other_map.stages.first().pk)})
    assert foreign.status_code == 422 and _beside(foreign, "id_details-stage")
    touchpoint.refresh_from_db()
    assert touchpoint.due_on == date(2027, 5, 1) and touchpoint.stage.map_id == launch.pk


def test_a_removed_touchpoint_leads_back_to_its_map(launch, pm):
    touchpoint = _tp(launch, "contract")
    response = logged_in_client(pm).post(_tp_url(touchpoint), {"action": "remove"})
    assert response.status_code == 302 and response["Location"] == _map_url(launch)
    assert not Touchpoint.objects.filter(pk=touchpoint.pk).exists()
    entry = AuditLogEntry.objects.get(action="readiness.touchpoint_removed")
    assert entry.object_type == "readiness.touchpoint" and entry.changes == {"name": "Contract"}


# --- who may answer ---------------------------------------------------------------------------------


def test_a_viewer_reads_a_touchpoint_but_cannot_post_to_it(launch, viewer):
    touchpoint = _tp(launch, "contract")
    item = touchpoint.checklist.get()
    client = logged_in_client(viewer)
    assert client.get(_tp_url(touchpoint)).status_code == 200
    for data in (
        _answer(item, "yes"),
        {"action": "status", "status-status": "ready", "status-reason": "Fine"},
        {"action": "comment", "comment-body": "Hi"},
        {"action": "add-question", "add-question-question": "Mine?"},
        {"action": "task", "task-due_on": "2027-01-01"},
        {"action": "remove"},
    ):
        assert client.post(_tp_url(touchpoint), data).status_code == 403, data
    item.refresh_from_db()
    assert item.answer == "" and Touchpoint.objects.filter(pk=touchpoint.pk).exists()
    assert (
        not AuditLogEntry.objects.filter(actor=viewer).exclude(action__startswith="auth.").exists()
    )  # (sign-ins are audited)


@pytest.mark.parametrize("how", ["owner", "lead"])
def test_a_viewer_who_answers_for_the_touchpoint_may_answer_it_but_not_shape_it(launch, pm, viewer, how):
    touchpoint = _tp(launch, "contract")
    if how == "owner":
        services.update_touchpoint(touchpoint=touchpoint, owner=viewer, actor=pm)
    else:
        legal = launch.functions.get(key="legal")
        services.rename_row(row=legal, name=legal.name, lead=viewer, set_lead=True, actor=pm)
    client = logged_in_client(viewer)
    page = client.get(_tp_url(touchpoint))
    assert b'name="action" value="answer"' in page.content and b'id="touchpoint-details"' not in page.content
    item = touchpoint.checklist.get()
    assert (
        client.post(_tp_url(touchpoint), _answer(item, "yes", "https://example.com/terms")).status_code == 302
    )
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.READY
    assert _audited("readiness.answered", touchpoint).actor == viewer
    assert (
        client.post(
            _tp_url(touchpoint), {"action": "add-question", "add-question-question": "Q?"}
        ).status_code
        == 403
    )
    assert client.post(_tp_url(touchpoint), {"action": "remove"}).status_code == 403
    # Answering one touchpoint gives no say over the others.
    other = _tp(launch, "pricing-page")
    assert client.post(_tp_url(other), _answer(other.checklist.first(), "yes")).status_code == 403


def test_a_csm_who_does_not_own_the_map_comments_but_does_not_answer_or_shape(launch, csm):
    touchpoint = _tp(launch, "contract")
    client = logged_in_client(csm)
    assert client.post(_tp_url(touchpoint), {"action": "comment", "comment-body": "FYI"}).status_code == 302
    assert client.post(_tp_url(touchpoint), _answer(touchpoint.checklist.get(), "yes")).status_code == 403
    assert client.post(_tp_url(touchpoint), {"action": "remove"}).status_code == 403
    assert (
        client.post(
            _tp_url(touchpoint), {"action": "add-question", "add-question-question": "Q?"}
        ).status_code
        == 403
    )


def test_signed_out_people_are_sent_to_sign_in(launch, client):
    for url in ("/readiness/", _map_url(launch), _tp_url(_tp(launch, "contract")), "/readiness/uptime/"):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url


# --- uptime -----------------------------------------------------------------------------------------


def test_a_leader_records_a_month_of_uptime_and_a_second_figure_replaces_it(leader):
    client = logged_in_client(leader)
    form = client.get("/readiness/uptime/")
    assert form.status_code == 200 and b'id="uptime-form"' in form.content
    first = client.post(
        "/readiness/uptime/", {"product": "Cloud", "month": "2026-04", "uptime_percent": "99.95"}
    )
    assert first.status_code == 302 and first["Location"] == "/readiness/uptime/"
    row = UptimeMonth.objects.get()
    assert (row.product, row.month, str(row.uptime_percent), row.recorded_by) == (
        "Cloud",
        date(2026, 4, 1),
        "99.9500",
        leader,
    )
    entry = _audited("readiness.uptime_recorded", row)
    assert entry.changes["month"] == "2026-04-01"
    # The same month again (any day of it, the product in any case): one row, the new figure.
    client.post("/readiness/uptime/", {"product": "CLOUD", "month": "2026-04-20", "uptime_percent": "99.5"})
    assert (UptimeMonth.objects.get().product, UptimeMonth.objects.get().uptime_percent) == ("Cloud", 99.5)
    assert b"99.5" in client.get("/readiness/uptime/").content


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"uptime_percent": "100.5"}, "uptime_percent"),
        ({"uptime_percent": "-0.1"}, "uptime_percent"),
        ({"uptime_percent": "abc"}, "uptime_percent"),
        ({"uptime_percent": "NaN"}, "uptime_percent"),
        ({"uptime_percent": "99.123456"}, "uptime_percent"),
        ({"month": "0001-01"}, "month"),
        ({"month": "9999-12"}, "month"),
        ({"month": "2026-13"}, "month"),
        ({"product": ""}, "product"),
        ({"product": "p" * 100_000}, "product"),
    ],
)
def test_a_bad_uptime_is_shown_beside_its_field_and_nothing_is_recorded(leader, values, field):
    data = {"product": "Cloud", "month": "2026-04", "uptime_percent": "99.9", **values}
    response = logged_in_client(leader).post("/readiness/uptime/", data)
    assert response.status_code == 422 and _beside(response, f"id_{field}")
    assert not UptimeMonth.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "csm"])
def test_only_leaders_and_admins_record_uptime(who, request):
    client = logged_in_client(request.getfixturevalue(who))
    page = client.get("/readiness/uptime/")
    assert page.status_code == 200 and b'id="uptime-form"' not in page.content
    data = {"product": "Cloud", "month": "2026-04", "uptime_percent": "99.9"}
    assert client.post("/readiness/uptime/", data).status_code == 403
    assert not UptimeMonth.objects.exists()
