"""The builder's writes: a journey from a template, a step edited in place, steps added and removed,
the YAML tab, previews, the simulation, and launch / pause / resume. Each change is a new version."""

from __future__ import annotations

import pytest
import yaml
from django.urls import reverse

from tests.conftest import logged_in_client
from tests.journeys.ui_support import WELCOME, make_journey
from touchpoint.journeys import library
from touchpoint.journeys.models import Journey, JourneyStatus, JourneyVersion, SimulationRun
from touchpoint.journeys.simulation_runs import simulate_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def leader_client(leader):
    return logged_in_client(leader)


def _latest(key: str = "welcome") -> JourneyVersion:
    return JourneyVersion.objects.filter(journey__key=key).order_by("-number").first()


def _step(version: JourneyVersion, step_id: str) -> dict:
    def find(steps):
        for step in steps:
            if step["id"] == step_id:
                return step
            for branch in (
                step.get("then", []),
                step.get("else", []),
                *[a["steps"] for a in step.get("arms", [])],
            ):
                found = find(branch)
                if found:
                    return found
        return None

    return find(version.definition["steps"])


def test_a_leader_makes_a_journey_from_a_shipped_template(leader_client, leader):
    template = library.templates()[0]
    response = leader_client.post(
        reverse("journey-new"), {"template": template.key, "name": "Our welcome", "key": ""}
    )
    journey = Journey.objects.get(key="our-welcome")
    assert response.status_code == 302 and response["Location"] == reverse("journey", args=["our-welcome"])
    assert journey.name == "Our welcome" and journey.status == JourneyStatus.DRAFT
    version = journey.versions.get()
    assert version.number == 1 and version.created_by == leader
    shipped = yaml.safe_load(template.source)
    assert [step["id"] for step in version.definition["steps"]] == [step["id"] for step in shipped["steps"]]


def test_a_blank_journey_and_a_taken_key(leader_client):
    assert (
        leader_client.post(reverse("journey-new"), {"name": "Blank one", "key": "blank"}).status_code == 302
    )
    assert Journey.objects.get(key="blank").versions.get().definition["entry"]["trigger"] == "manual"
    again = leader_client.post(reverse("journey-new"), {"name": "Blank two", "key": "blank"})
    assert again.status_code == 422 and "A journey with this key exists already." in again.content.decode()
    bad = leader_client.post(reverse("journey-new"), {"name": "x", "key": "Not A Key"})
    assert bad.status_code == 422 and Journey.objects.count() == 1


def test_a_csm_may_not_make_or_change_journeys(csm_client):
    make_journey()
    assert csm_client.post(reverse("journey-new"), {"name": "Mine"}).status_code == 403
    url = reverse("journey-step", args=["welcome", "wait-a-week"])
    assert csm_client.post(url, {"days": "3"}).status_code == 403
    assert (
        csm_client.post(reverse("journey-steps", args=["welcome"]), {"action": "remove"}).status_code == 403
    )
    assert (
        csm_client.post(reverse("journey-status", args=["welcome"]), {"action": "launch"}).status_code == 403
    )
    assert csm_client.post(reverse("journey-simulate", args=["welcome"])).status_code == 403


def test_the_step_form_shows_the_steps_fields(leader_client):
    make_journey()
    html = leader_client.get(reverse("journey-step", args=["welcome", "wait-a-week"])).content.decode()
    assert 'name="days"' in html and 'value="7"' in html and 'name="on_timeout"' in html
    html = leader_client.get(reverse("journey-step", args=["welcome", "ab"])).content.decode()
    assert 'name="arm_0"' in html and "Arm A, percent" in html
    html = leader_client.get(reverse("journey-step", args=["welcome", "healthy"])).content.decode()
    assert 'name="when"' in html and "account.health_grade" in html
    html = leader_client.get(reverse("journey-step", args=["welcome", "say-hello"])).content.decode()
    assert '<option value="hello" selected>' in html


def test_saving_a_step_makes_a_new_version(leader_client, leader):
    make_journey()
    response = leader_client.post(
        reverse("journey-step", args=["welcome", "wait-a-week"]),
        {"label": "A short pause", "days": "3", "hours": "0", "days_before": "0", "on_timeout": "continue"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and response["HX-Redirect"].endswith("?saved=2#step-wait-a-week")
    version = _latest()
    assert version.number == 2 and version.created_by == leader
    changed = _step(version, "wait-a-week")
    assert (changed["label"], changed["type"], changed["days"], changed["event"]) == (
        "A short pause",
        "wait",
        3,
        None,
    )
    assert "days: 3" in version.source and version.note == "Changed step wait-a-week"
    # The rest of the journey is as it was.
    assert _step(version, "call")["title"] == "Call the champion"
    assert version.definition["messages"] == _latest().journey.versions.get(number=1).definition["messages"]


def test_a_step_change_the_schema_refuses_is_shown_beside_the_step(leader_client):
    make_journey()
    response = leader_client.post(
        reverse("journey-step", args=["welcome", "ab"]),
        {"label": "", "arm_0": "70", "arm_1": "50"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps the form back in, with the problem
    assert 'id="step-ab-card"' in html and "100" in html and "field-error" in html
    assert _latest().number == 1


def test_a_condition_with_an_unknown_field_is_refused_with_its_line(leader_client):
    make_journey()
    response = leader_client.post(
        reverse("journey-step", args=["welcome", "healthy"]),
        {"label": "", "when": "{field: account.favourite_colour, op: eq, value: red}"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "account.favourite_colour" in html and "line " in html
    bad_yaml = leader_client.post(
        reverse("journey-step", args=["welcome", "healthy"]), {"label": "", "when": "{field: ["}
    )
    assert bad_yaml.status_code == 422 and "This is not valid YAML" in bad_yaml.content.decode()
    assert _latest().number == 1


def test_adding_and_removing_steps(leader_client):
    make_journey()
    url = reverse("journey-steps", args=["welcome"])
    response = leader_client.post(url, {"action": "add", "type": "task", "after": "wait-a-week"})
    assert response.status_code == 302 and response["Location"].endswith("#step-task-1")
    ids = [step["id"] for step in _latest().definition["steps"]]
    assert ids == ["say-hello", "wait-a-week", "task-1", "healthy", "ab"]
    leader_client.post(url, {"action": "add", "type": "email", "into": "ab:B"})
    arm_b = _latest().definition["steps"][-1]["arms"][1]
    assert arm_b["steps"] == [
        {
            "id": "email-1",
            "label": "",
            "type": "email",
            "message": "hello",
            "to": ["subject"],
            "by_engagement": False,
            "task_title": "",
        }
    ]
    leader_client.post(url, {"action": "remove", "step": "task-1"})
    assert [step["id"] for step in _latest().definition["steps"]] == [
        "say-hello",
        "wait-a-week",
        "healthy",
        "ab",
    ]
    assert _latest().number == 4
    assert leader_client.post(url, {"action": "remove", "step": "nope"}).status_code == 400
    assert leader_client.post(url, {"action": "add", "type": "teleport", "after": "ab"}).status_code == 400


def test_removing_the_last_step_is_refused_with_the_reason(leader_client):
    make_journey(
        "key: tiny\nname: Tiny\nentry: {trigger: manual}\nsteps:\n  - {id: only, type: wait, days: 1}\n"
    )
    response = leader_client.post(
        reverse("journey-steps", args=["tiny"]), {"action": "remove", "step": "only"}
    )
    assert response.status_code == 422 and "field-error" in response.content.decode()
    assert _latest("tiny").number == 1


def test_the_yaml_tab_saves_and_names_line_and_column(leader_client):
    make_journey()
    url = reverse("journey-yaml", args=["welcome"])
    page = leader_client.get(url).content.decode()
    assert "wait-a-week" in page and "Check and save as a new version" in page
    broken = WELCOME.replace("days: 7", "days: seven")
    response = leader_client.post(url, {"source": broken, "note": ""})
    html = response.content.decode()
    line = next(number for number, text in enumerate(broken.splitlines(), 1) if "days: seven" in text)
    assert response.status_code == 422 and f"line {line}, column" in html
    assert _latest().number == 1
    other_key = leader_client.post(url, {"source": WELCOME.replace("key: welcome", "key: other"), "note": ""})
    assert other_key.status_code == 422 and not Journey.objects.filter(key="other").exists()
    saved = leader_client.post(url, {"source": WELCOME.replace("days: 7", "days: 5"), "note": "shorter"})
    assert saved.status_code == 302 and _latest().number == 2 and _latest().note == "shorter"


def test_a_message_is_previewed_in_each_language(csm_client):
    make_journey()
    html = csm_client.get(reverse("journey-preview", args=["welcome", "hello", "ja"])).content.decode()
    assert "ようこそ" in html
    english = csm_client.get(reverse("journey-preview", args=["welcome", "hello", "en"])).content.decode()
    assert "Welcome," in english and "welcome aboard" in english
    # No Russian text: the preview says which text a Russian reader gets.
    russian = csm_client.get(reverse("journey-preview", args=["welcome", "hello", "ru"])).content.decode()
    assert "Welcome," in russian and "No text in" in russian
    assert csm_client.get(reverse("journey-preview", args=["welcome", "nope", "en"])).status_code == 404
    assert csm_client.get(reverse("journey-preview", args=["welcome", "hello", "xx"])).status_code == 404


def test_the_simulation_panel_shows_what_the_journey_would_have_done(leader_client):
    make_journey()
    response = leader_client.post(reverse("journey-simulate", args=["welcome"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-status="queued"' in response.content.decode()
    # The simulation runs in the background (tests/journeys/test_simulation_runs.py): a worker runs it.
    run = SimulationRun.objects.get()
    simulate_task.call(run.pk)
    response = leader_client.get(reverse("journey-simulation", args=["welcome", run.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-number="entered">0<' in html and "simulation-steps" in html and "say-hello" in html
    bad = leader_client.post(reverse("journey-simulate", args=["welcome"]), {"days": "many"})
    assert bad.status_code == 400


def test_launch_pause_and_resume(leader_client):
    journey = make_journey()
    url = reverse("journey-status", args=["welcome"])
    assert leader_client.post(url, {"action": "launch"}).status_code == 302
    journey.refresh_from_db()
    assert journey.status == JourneyStatus.LIVE and journey.live_version.number == 1
    page = leader_client.get(reverse("journey", args=["welcome"])).content.decode()
    assert "Launch version" not in page and "Yes, pause it" in page
    leader_client.post(url, {"action": "pause"})
    journey.refresh_from_db()
    assert journey.status == JourneyStatus.PAUSED
    assert "Yes, resume it" in leader_client.get(reverse("journey", args=["welcome"])).content.decode()
    leader_client.post(url, {"action": "resume"})
    journey.refresh_from_db()
    assert journey.status == JourneyStatus.LIVE
    assert leader_client.post(url, {"action": "explode"}).status_code == 400


def test_editing_a_live_journey_offers_to_launch_the_new_version(leader_client):
    make_journey(live=True)
    leader_client.post(
        reverse("journey-step", args=["welcome", "wait-a-week"]),
        {"label": "", "days": "2", "hours": "0", "days_before": "0", "on_timeout": "continue"},
    )
    page = leader_client.get(reverse("journey", args=["welcome"])).content.decode()
    assert "Launch version 2" in page and 'name="move_enrollments"' in page
    journey = Journey.objects.get(key="welcome")
    assert journey.live_version.number == 1


def test_a_problem_of_a_step_just_added_is_shown_above_the_flow(leader_client):
    # A journey without messages: an email step added to it names a message that does not exist.
    make_journey(
        "key: tiny\nname: Tiny\nentry: {trigger: manual}\nsteps:\n  - {id: only, type: wait, days: 1}\n"
    )
    response = leader_client.post(
        reverse("journey-steps", args=["tiny"]), {"action": "add", "type": "email", "after": "only"}
    )
    html = response.content.decode()
    assert response.status_code == 422
    problems = html[html.index('id="problems"') : html.index('id="flow"')]
    assert "email-1" in problems and "field-error" in problems
    assert _latest("tiny").number == 1


def test_the_builder_adds_a_survey_step_and_edits_it_in_place_once_surveys_exist(leader_client):
    from touchpoint.surveys import services as surveys

    make_journey()
    url = reverse("journey-steps", args=["welcome"])
    surveys.create_survey(name="Quarterly NPS", key="quarterly-nps")
    surveys.create_survey(name="Support CSAT", key="support-csat", kind="csat")
    builder = leader_client.get(reverse("journey", args=["welcome"])).content.decode()
    assert 'value="survey"' in builder and "Send a survey" in builder
    response = leader_client.post(url, {"action": "add", "type": "survey", "after": "wait-a-week"})
    assert response.status_code == 302
    step = _step(_latest(), "survey-1")
    assert step["type"] == "survey" and step["survey"] in {"quarterly-nps", "support-csat"}
    form = leader_client.get(reverse("journey-step", args=["welcome", "survey-1"])).content.decode()
    # The survey is picked from those that exist; the channel in words, not the YAML's.
    assert '<option value="support-csat"' in form and '<option value="quarterly-nps"' in form
    assert 'name="channel"' in form and "In-app message" in form
