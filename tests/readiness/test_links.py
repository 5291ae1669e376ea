"""What serves a touchpoint: journeys (by key), playbooks (by name) and milestones (by framework and
milestone key) offered and resolved by the apps that own them; a target that is gone, or a kind whose
app is not installed, resolves to nothing; linking keeps the target, and the map and the touchpoint's
page show it as automated, served by people, measured, or with nothing behind it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import UserFactory
from touchpoint.readiness import selectors, services
from touchpoint.readiness.links import Serves, describe, link_kinds
from touchpoint.readiness.models import TouchpointLink
from touchpoint.readiness.structure import FunctionShape, MapShape, StageShape, TouchpointShape
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db

journeys = pytest.mark.skipif(not apps.is_installed("touchpoint.journeys"), reason="journeys not installed")
playbooks = pytest.mark.skipif(
    not apps.is_installed("touchpoint.playbooks"), reason="playbooks not installed"
)
success = pytest.mark.skipif(not apps.is_installed("touchpoint.success"), reason="success not installed")


def test_each_installed_app_registers_its_kind_serving_its_way():
    expected = {
        "journey": ("touchpoint.journeys", Serves.AUTOMATED),
        "playbook": ("touchpoint.playbooks", Serves.PEOPLE),
        "milestone": ("touchpoint.success", Serves.MEASURED),
    }
    for key, (app, serves) in expected.items():
        kind = link_kinds.get(key)
        if apps.is_installed(app):
            assert kind is not None and kind.serves == serves and str(kind.label), key


def test_an_unknown_kind_describes_as_nothing():
    assert link_kinds.get("crm-deal") is None
    assert describe("crm-deal", "anything") is None


# --- Journeys ---------------------------------------------------------------------------------------


@pytest.fixture
def journey_rows():
    from touchpoint.journeys.models import Journey, JourneyStatus

    return {
        status: Journey.objects.create(key=f"welcome-{status}", name=f"Welcome {status}", status=status)
        for status in JourneyStatus.values
    }


@journeys
def test_live_and_paused_journeys_are_offered_by_key(journey_rows):
    choices = link_kinds.get("journey").choices()
    ours = [(key, name) for key, name in choices if key.startswith("welcome-")]
    assert ours == [("welcome-live", "Welcome live"), ("welcome-paused", "Welcome paused")]


@journeys
def test_a_journey_resolves_by_key_to_its_page_and_an_archived_or_missing_one_to_nothing(journey_rows):
    assert describe("journey", "welcome-live") == (
        "Welcome live",
        "/journeys/welcome-live/",
        Serves.AUTOMATED,
    )
    assert describe("journey", "welcome-archived") is None
    assert describe("journey", "no-such-journey") is None
    journey_rows["live"].delete()
    assert describe("journey", "welcome-live") is None


@journeys
def test_a_journey_that_sends_nothing_yet_says_so(journey_rows):
    paused = describe("journey", "welcome-paused")
    draft = describe("journey", "welcome-draft")
    assert paused is not None and paused[0] == "Welcome paused (paused)"
    assert draft is not None and draft[0] == "Welcome draft (draft)"


# --- Playbooks --------------------------------------------------------------------------------------


@pytest.fixture
def playbook_rows():
    from touchpoint.playbooks.models import Playbook

    return (
        Playbook.objects.create(name="Kickoff: first call", is_active=True),
        Playbook.objects.create(name="Old rescue", is_active=False),
    )


@playbooks
def test_active_playbooks_are_offered_by_name(playbook_rows):
    choices = dict(link_kinds.get("playbook").choices())
    assert choices["Kickoff: first call"] == "Kickoff: first call"
    assert "Old rescue" not in choices


@playbooks
def test_a_playbook_resolves_by_name_a_switched_off_one_says_so_a_deleted_one_is_gone(playbook_rows):
    active, off = playbook_rows
    assert describe("playbook", "Kickoff: first call") == (
        "Kickoff: first call",
        f"/playbooks/#playbook-{active.pk}",
        Serves.PEOPLE,
    )
    label, url, serves = describe("playbook", "Old rescue")
    assert label == "Old rescue (switched off)" and url.endswith(f"#playbook-{off.pk}")
    off.delete()
    assert describe("playbook", "Old rescue") is None


# --- Milestones -------------------------------------------------------------------------------------


@pytest.fixture
def milestone_rows():
    from touchpoint.success.models import MilestoneDefinition, SuccessFramework

    keyed = SuccessFramework.objects.create(name="Cloud onboarding", key="cloud")
    keyless = SuccessFramework.objects.create(name="Legacy")  # made before frameworks had keys
    return (
        MilestoneDefinition.objects.create(framework=keyed, key="kickoff", name="Kickoff", position=0),
        MilestoneDefinition.objects.create(framework=keyed, key="live", name="Live", position=1),
        MilestoneDefinition.objects.create(framework=keyless, key="first", name="First", position=0),
    )


@success
def test_milestones_are_offered_by_framework_and_milestone_key_in_order(milestone_rows):
    kickoff, live, legacy = milestone_rows
    choices = link_kinds.get("milestone").choices()
    assert [c for c in choices if c[0].startswith("cloud/")] == [
        ("cloud/kickoff", "Cloud onboarding › Kickoff"),
        ("cloud/live", "Cloud onboarding › Live"),
    ]
    assert (str(legacy.pk), "Legacy › First") in choices


@success
def test_a_milestone_resolves_to_its_row_on_the_frameworks_page(milestone_rows):
    kickoff, _live, legacy = milestone_rows
    assert describe("milestone", "cloud/kickoff") == (
        "Cloud onboarding › Kickoff",
        f"/success/frameworks/{kickoff.framework_id}/#milestone-kickoff",
        Serves.MEASURED,
    )
    assert describe("milestone", str(legacy.pk)) == (
        "Legacy › First",
        f"/success/frameworks/{legacy.framework_id}/#milestone-first",
        Serves.MEASURED,
    )
    for gone in ("cloud/nope", "cloud/", "/kickoff", "kickoff", "", "12x", str(legacy.pk + 1000)):
        assert describe("milestone", gone) is None, gone
    kickoff.delete()
    assert describe("milestone", "cloud/kickoff") is None


# --- Linking, and how the map shows it --------------------------------------------------------------

SHAPE = MapShape(
    key="served",
    name="Served",
    stages=(StageShape("use", "Use it"),),
    functions=(FunctionShape("success", "Customer success"),),
    touchpoints=tuple(
        TouchpointShape(key=key, stage="use", function="success", name=key.title())
        for key in ("onboarding", "kickoff", "adoption", "forgotten", "everything")
    ),
)


@pytest.fixture
def served(journey_rows, playbook_rows, milestone_rows):
    pm = UserFactory(role=Role.CSM)
    readiness_map = services.create_map(name="Served", actor=pm, start_from=SHAPE)
    touchpoints = {tp.key: tp for tp in readiness_map.touchpoints.all()}
    for key, kind, target in [
        ("onboarding", "journey", "welcome-live"),
        ("kickoff", "playbook", "Kickoff: first call"),
        ("adoption", "milestone", "cloud/live"),
        ("everything", "journey", "welcome-paused"),
        ("everything", "playbook", "Kickoff: first call"),
        ("everything", "milestone", "cloud/kickoff"),
    ]:
        services.link(touchpoint=touchpoints[key], kind=kind, target=target, actor=pm)
    return readiness_map, touchpoints, pm


@journeys
@playbooks
@success
def test_linking_keeps_the_target_once_and_is_audited(served):
    _map, touchpoints, pm = served
    kickoff = touchpoints["kickoff"]
    again = services.link(touchpoint=kickoff, kind="playbook", target="  Kickoff: first call ", actor=pm)
    assert list(kickoff.links.values_list("kind", "target")) == [("playbook", "Kickoff: first call")]
    assert again.target == "Kickoff: first call"
    entry = AuditLogEntry.objects.filter(action="readiness.linked", object_id=str(kickoff.pk)).last()
    assert entry.changes == {"kind": "playbook", "target": "Kickoff: first call"}


@journeys
@playbooks
@success
def test_linking_refuses_an_unknown_kind_and_a_target_that_is_not_there(served):
    _map, touchpoints, pm = served
    forgotten = touchpoints["forgotten"]
    for kind, target, field in [
        ("crm-deal", "x", "kind"),
        ("journey", "welcome-archived", "target"),
        ("playbook", "No such playbook", "target"),
        ("milestone", "cloud/nope", "target"),
    ]:
        with pytest.raises(ValidationError) as error:
            services.link(touchpoint=forgotten, kind=kind, target=target, actor=pm)
        assert field in error.value.message_dict, (kind, target)
    assert not forgotten.links.exists()


@journeys
@playbooks
@success
def test_the_touchpoints_page_shows_how_it_is_served(served):
    _map, touchpoints, _pm = served
    served_by = {key: selectors.touchpoint_page(tp).serves for key, tp in touchpoints.items()}
    assert served_by == {
        "onboarding": ["automated"],
        "kickoff": ["people"],
        "adoption": ["measured"],
        "forgotten": [],
        "everything": ["automated", "measured", "people"],
    }
    links = {link.kind: link for link in selectors.touchpoint_page(touchpoints["everything"]).links}
    assert (
        links["journey"].label == "Welcome paused (paused)"
        and links["journey"].url == "/journeys/welcome-paused/"
    )
    assert links["playbook"].kind_label == "Playbook" and not links["playbook"].gone


@journeys
@playbooks
@success
def test_the_map_shows_how_each_touchpoint_is_served(served, api):
    readiness_map, touchpoints, _pm = served
    serving = selectors.serving_by_touchpoint(readiness_map)
    assert {key: serving.get(tp.pk, set()) for key, tp in touchpoints.items()} == {
        "onboarding": {"automated"},
        "kickoff": {"people"},
        "adoption": {"measured"},
        "forgotten": set(),
        "everything": {"automated", "measured", "people"},
    }
    response = api.get(f"/readiness/maps/{readiness_map.pk}")
    assert response.status_code == 200
    by_key = {tp["key"]: tp["serves"] for tp in response.json()["touchpoints"]}
    assert by_key["everything"] == ["automated", "measured", "people"] and by_key["forgotten"] == []


@journeys
@playbooks
@success
def test_a_link_whose_target_is_gone_stays_listed_but_serves_nothing_on_its_page(served):
    _map, touchpoints, _pm = served
    from touchpoint.journeys.models import Journey, JourneyStatus

    Journey.objects.filter(key="welcome-live").update(status=JourneyStatus.ARCHIVED)
    page = selectors.touchpoint_page(touchpoints["onboarding"])
    (link,) = page.links
    assert link.gone and link.url == "" and link.label == "welcome-live" and link.kind_label == "Journey"
    assert page.serves == []


@journeys
@playbooks
@success
def test_a_link_whose_target_is_gone_serves_nothing_on_the_map(served):
    readiness_map, touchpoints, _pm = served
    from touchpoint.journeys.models import Journey, JourneyStatus
    from touchpoint.playbooks.models import Playbook

    Journey.objects.filter(key="welcome-live").update(status=JourneyStatus.ARCHIVED)
    Playbook.objects.filter(name="Kickoff: first call").delete()
    serving = selectors.serving_by_touchpoint(readiness_map)
    assert serving.get(touchpoints["onboarding"].pk, set()) == set()
    assert serving.get(touchpoints["kickoff"].pk, set()) == set()


def test_a_link_of_a_kind_no_installed_app_knows_stays_listed_as_gone():
    readiness_map = services.create_map(name="Orphans", actor=None, start_from=SHAPE)
    touchpoint = readiness_map.touchpoints.get(key="forgotten")
    TouchpointLink.objects.create(touchpoint=touchpoint, kind="crm-deal", target="D-42")
    page = selectors.touchpoint_page(touchpoint)
    (link,) = page.links
    assert (link.kind_label, link.label, link.url, link.serves, link.gone) == (
        "crm-deal",
        "D-42",
        "",
        "",
        True,
    )
    assert page.serves == []
    assert selectors.serving_by_touchpoint(readiness_map) == {}


# Targets come from people (the form, the API) and from YAML texts applied without resolving them: a
# page that lists links must never fail on one.
@given(
    target=st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=128
    )
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_target_resolves_to_a_link_or_to_nothing(target):
    for kind in link_kinds.all():
        found = describe(kind.key, target)
        assert found is None or (isinstance(found[0], str) and found[1].startswith("/")), (kind.key, target)


@success
@pytest.mark.parametrize("target", ["²", "٣", "99999999999999999999999", "0", "-1", " 1"])
def test_a_milestone_target_that_is_no_id_resolves_to_nothing(target):
    assert describe("milestone", target) is None


@success
def test_a_milestone_id_is_written_in_ascii_digits(milestone_rows):
    legacy = milestone_rows[2]
    arabic_indic = str(legacy.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert describe("milestone", str(legacy.pk)) is not None
    assert describe("milestone", arabic_indic) is None
