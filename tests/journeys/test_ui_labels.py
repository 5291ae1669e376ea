"""The pages show the YAML's words (`then`, `else`, `email`, step types, wait kinds, operators,
outcomes) as translated labels, while the YAML keeps its words (journeys/labels.py)."""

from __future__ import annotations

import re

import pytest
import yaml
from django.urls import reverse
from django.utils import translation

from tests.conftest import logged_in_client
from tests.journeys.ui_support import make_journey
from touchpoint.journeys import labels
from touchpoint.journeys.definition import parse
from touchpoint.journeys.models import JourneyVersion
from touchpoint.journeys.views import simulation_summary

pytestmark = pytest.mark.django_db

SOURCE = """\
key: labels
name: Labels
subject: contact
audience:
  roles: [champion, kpi_owner]
entry: {trigger: manual}
reentry: {policy: after_exit}
messages:
  hello:
    en: {subject: Hello, body: Hi}
steps:
  - {id: hello, type: email, message: hello}
  - {id: reply, type: wait, event: account.created, timeout_days: 5, on_timeout: exit}
  - {id: before-renewal, type: wait, until: renewal, days_before: 30}
  - id: healthy
    type: split
    when: {field: account.health_grade, op: eq, value: green}
    then: [{id: thanks, type: tag, tag: happy}]
    else: [{id: call, type: task, title: Call them, task_type: call, priority: high}]
  - id: ab
    type: random
    arms:
      - {arm: A, percent: 50}
      - {arm: B, percent: 50}
"""


@pytest.fixture
def leader_client(leader):
    return logged_in_client(leader)


def _options(html: str, name: str) -> dict[str, str]:
    """value → shown text of a select's options, or of a checkbox list's boxes."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    if select:
        return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))
    return {
        value: text.strip()
        for value, text in re.findall(
            rf'<input type="checkbox" name="{name}" value="([^"]*)"[^>]*>\s*([^<]*)</label>', html
        )
    }


def test_step_form_choices_show_labels_but_keep_the_yaml_words_as_values(leader_client):
    make_journey(SOURCE)
    wait = leader_client.get(reverse("journey-step", args=["labels", "reply"])).content.decode()
    assert _options(wait, "on_timeout") == {"continue": "Go on to the next step", "exit": "Leave the journey"}
    renewal = leader_client.get(reverse("journey-step", args=["labels", "before-renewal"])).content.decode()
    assert _options(renewal, "until") == {
        "": "—",
        "renewal": "the renewal",
        "subscription_start": "the subscription start",
    }
    task = leader_client.get(reverse("journey-step", args=["labels", "call"])).content.decode()
    assert _options(task, "task_type")["call"] == "Call" and _options(task, "priority")["high"] == "High"
    email = leader_client.get(reverse("journey-step", args=["labels", "hello"])).content.decode()
    assert _options(email, "to")["kpi_owner"] == "KPI owner"
    split = leader_client.get(reverse("journey-step", args=["labels", "healthy"])).content.decode()
    assert "gte = is at least" in split and "not_in = is none of" in split

    # Saving writes the YAML's words, whatever the labels said.
    response = leader_client.post(
        reverse("journey-step", args=["labels", "reply"]),
        {"event": "account.created", "timeout_days": "5", "on_timeout": "continue"},
    )
    assert response.status_code == 302
    saved = JourneyVersion.objects.filter(journey__key="labels").order_by("-number").first()
    assert saved.number == 2 and saved.definition["steps"][1]["on_timeout"] == "continue"
    assert "on_timeout: exit" not in saved.source and "Go on" not in saved.source


def test_step_form_labels_follow_the_readers_language(leader_client):
    make_journey(SOURCE)
    leader_client.cookies["django_language"] = "ja"
    task = leader_client.get(reverse("journey-step", args=["labels", "call"])).content.decode()
    assert _options(task, "task_type")["call"] == "電話"
    email = leader_client.get(reverse("journey-step", args=["labels", "hello"])).content.decode()
    assert _options(email, "to")["champion"] == "チャンピオン"


def test_the_builder_facts_name_roles_and_reentry_in_words(leader_client):
    make_journey(SOURCE)
    html = leader_client.get(reverse("journey", args=["labels"])).content.decode()
    assert "Contacts: Champion, KPI owner" in html
    assert "Again once they have left" in html and "after_exit" not in html


RESULT = {
    "entered": 3,
    "steps": {"hello": {"reached": 3, "waiting": 0}, "healthy": {"reached": 3, "waiting": 0}},
    "paths": [
        {
            "steps": [
                {"step": "hello", "outcome": ""},
                {"step": "reply", "outcome": "timeout"},
            ],
            "ended": "exited",
            "count": 2,
        },
        {
            "steps": [
                {"step": "hello", "outcome": ""},
                {"step": "reply", "outcome": "event"},
                {"step": "before-renewal", "outcome": "done"},
                {"step": "healthy", "outcome": "then"},
                {"step": "ab", "outcome": "A"},
            ],
            "ended": "converted",
            "count": 1,
        },
    ],
    "messages": [{"kind": "email", "status": "capped", "subject": "Hello", "step": "hello"}],
}


def test_simulation_paths_name_outcomes_in_words_and_keep_arm_names():
    definition = parse(yaml.safe_load(SOURCE))
    summary = simulation_summary(RESULT, definition)
    assert [path["steps"] for path in summary["paths"]] == [
        "hello → reply (timed out)",
        "hello → reply (the event came) → before-renewal (waited) → healthy (then) → ab (A)",
    ]
    assert [path["ended"] for path in summary["paths"]] == ["Exited", "Converted"]
    assert summary["messages"][0]["status_label"] == "held back by the weekly cap"
    assert summary["messages"][0]["kind_label"] == "Email"
    assert summary["steps"][0] == ("hello", "Email", {"reached": 3, "waiting": 0})
    with translation.override("ja"):
        translated = simulation_summary(RESULT, definition)
    assert "healthy (満たす場合)" in translated["paths"][1]["steps"]
    assert translated["paths"][1]["ended"] == "コンバージョン"


def test_a_word_without_a_label_is_shown_as_written():
    assert labels.label(labels.STEP_TYPES, "teleport") == "teleport"
    assert labels.label(labels.STEP_TYPES, None) == ""
    assert labels.outcome("random", "then") == "then"  # an arm named "then" is the author's word
    assert labels.outcome("split", "then") == "then" and labels.outcome("wait", "done") == "waited"


def test_the_stats_page_names_step_types_in_words(leader_client):
    make_journey(SOURCE)
    html = leader_client.get(reverse("journey-stats", args=["labels"])).content.decode()
    assert '<span class="badge" data-type="split">Condition split</span>' in html
    assert '<span class="badge" data-type="random">A/B split</span>' in html
