"""Success frameworks' pages, API, command and rules in words."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, SubscriptionFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.success.definition import PhaseCondition
from touchpoint.success.definition_text import milestone_rule_in_words, rules_in_words
from touchpoint.success.demo import LIBRARY
from touchpoint.success.documents import apply_text
from touchpoint.success.models import AccountPlacement, LifecyclePhase, MilestoneReached, SuccessFramework
from touchpoint.success.placement import place_all
from touchpoint.users.services import create_api_key

STANDARD = (LIBRARY / "standard.yaml").read_text()


@pytest.fixture
def standard(db):
    return apply_text(STANDARD, actor=None)


# --- Rules in words -----------------------------------------------------------------------------------


def test_rules_are_said_in_words_with_milestone_names():
    said = rules_in_words(
        [
            {"days_since_start": {"at_least": 30}},
            {"milestone": "first-report"},
            {"active_users": {"at_least": 5}},
            {"key_features": {"at_least": 1, "days": 14}},
            {"health": {"grades": ["green", "yellow"], "at_least": 60}},
            {"subscription": ["active", "past_due"]},
            {"days_to_renewal": {"at_most": 90}},
            {"days_since_start": {"at_least": 1, "at_most": 20}},
        ],
        milestones={"first-report": "First report created"},
    )
    assert said == [
        "at least 30 days since the customer's start",
        "reached the milestone “First report created”",
        "at least 5 people active in the last 7 days",
        "at least 1 key feature used in the last 14 days",
        "health grade green or yellow",
        "health score at least 60",
        "a subscription that is active or past due",
        "the next renewal within 90 days",
        "between 1 and 20 days since the customer's start",
    ]


def test_milestone_rules_are_said_in_words():
    assert milestone_rule_in_words({"event": "Report created"}) == "the first “Report created”"
    assert milestone_rule_in_words({"event": "Login", "count": 10, "within_days": 7}) == (
        "“Login” 10 times within 7 days"
    )
    assert milestone_rule_in_words({"active_users": 5, "within_days": 7}) == "5 people active within 7 days"
    assert milestone_rule_in_words({"key_features": 1}) == "1 key feature used"
    assert milestone_rule_in_words(None).startswith("set by hand")


def test_rules_are_said_in_the_readers_language():
    from django.utils import translation

    with translation.override("ja"):
        said = rules_in_words([{"days_to_renewal": {"at_most": 90}}])
    assert said and said[0]  # a sentence, whatever the catalogue holds today


_bounds = st.fixed_dictionaries(
    {}, optional={"at_least": st.integers(0, 500), "at_most": st.integers(0, 500)}
)


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from(["days_since_start", "active_users", "key_features", "days_to_renewal"]),
    bound=_bounds,
)
def test_every_valid_condition_has_words(kind, bound):
    try:
        condition = PhaseCondition.model_validate({kind: bound})
    except ValueError:
        return  # not a valid condition: the reader refuses it before anyone says it
    said = rules_in_words([condition])
    assert said and all(isinstance(sentence, str) and sentence for sentence in said)
    for number in bound.values():
        assert str(number) in " ".join(said)


# --- Pages --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_every_framework_with_counts_and_the_nav_links_to_it(csm, standard):
    account = AccountFactory()
    AccountPlacement.objects.create(account=account, framework=standard, phase=standard.phases.first())
    client = logged_in_client(csm)
    response = client.get(reverse("success-frameworks"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Standard" in body and reverse("success-framework", args=[standard.pk]) in body
    assert reverse("success-framework-new") not in body  # a CSM reads, does not write
    assert f'href="{reverse("success-frameworks")}"' in body  # the main navigation's "Success"


@pytest.mark.django_db
def test_the_list_takes_a_handful_of_queries(csm, standard, django_assert_max_num_queries):
    apply_text((LIBRARY / "self-serve.yaml").read_text(), actor=None)
    client = logged_in_client(csm)
    client.get(reverse("success-frameworks"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("success-frameworks")).status_code == 200


@pytest.mark.django_db
def test_the_framework_page_shows_phases_rules_in_words_milestones_and_accounts(csm, standard):
    adoption = standard.phases.get(key="adoption")
    for _ in range(3):
        AccountPlacement.objects.create(account=AccountFactory(), framework=standard, phase=adoption)
    response = logged_in_client(csm).get(reverse("success-framework", args=[standard.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Rolls the product out to more teams" in body  # what the customer does
    assert "Quarterly business review" in body  # processes that help
    assert "at least 90 days since the customer&#x27;s start" in body
    assert "reached the milestone “First report created”" in body
    assert "3 accounts" in body and f"?phase={adoption.pk}" in body
    assert "Five people active in a week" in body and "5 people active within 7 days" in body
    assert reverse("success-framework-edit", args=[standard.pk]) not in body


@pytest.mark.django_db
def test_a_leader_checks_then_saves_an_edit_and_accounts_move_by_the_new_rule(leader, standard):
    # 70 days in, first value reached: "First use" under the shipped rule (adoption from day 90).
    account = AccountFactory()
    SubscriptionFactory(
        account=account,
        started_on=date.today() - timedelta(days=70),
        renewal_date=date.today() + timedelta(days=295),
    )
    MilestoneReached.objects.create(
        account=account,
        milestone=standard.milestones.get(key="first-report"),
        reached_on=date.today() - timedelta(days=20),
        source="usage",
    )
    place_all()
    adoption = standard.phases.get(key="adoption")
    assert AccountPlacement.objects.get(account=account).phase == standard.phases.get(key="first-use")
    client = logged_in_client(leader)
    url = reverse("success-framework-edit", args=[standard.pk])
    page = client.get(url).content.decode()
    assert "# The Standard success framework" in page  # the text as applied, comments and all
    changed = STANDARD.replace("days_since_start: {at_least: 90}", "days_since_start: {at_least: 60}")
    checked = client.post(url, {"text": changed, "action": "check"})
    assert checked.status_code == 200 and "No problems found" in checked.content.decode()
    assert LifecyclePhase.objects.get(pk=adoption.pk).entry_rules[0] == {"days_since_start": {"at_least": 90}}
    assert AccountPlacement.objects.get(account=account).phase == standard.phases.get(key="first-use")
    saved = client.post(url, {"text": changed, "action": "save"})
    assert saved.status_code == 302 and saved["Location"] == reverse("success-framework", args=[standard.pk])
    assert LifecyclePhase.objects.get(pk=adoption.pk).entry_rules[0] == {"days_since_start": {"at_least": 60}}
    # Saved rules apply at once: the account moved on, and the move is on its timeline.
    assert AccountPlacement.objects.get(account=account).phase_id == adoption.pk
    assert TimelineEntry.objects.filter(account=account, kind="phase_changed").exists()


@pytest.mark.django_db
def test_the_editor_shows_problems_with_their_line_beside_the_text_and_saves_nothing(leader, standard):
    client = logged_in_client(leader)
    url = reverse("success-framework-edit", args=[standard.pk])
    bad = STANDARD.replace(
        "      - days_since_start: {at_least: 90}\n", "      - days_since_strat: {at_least: 90}\n"
    )
    response = client.post(url, {"text": bad, "action": "save"})
    body = response.content.decode()
    assert response.status_code == 422
    assert "line 37, column 9" in body and "days_since_strat" in body
    assert "days_since_strat" in body.split('id="id_text"')[1]  # the text kept as typed
    assert standard.phases.get(key="adoption").entry_rules[0] == {"days_since_start": {"at_least": 90}}


@pytest.mark.django_db
def test_the_editor_of_one_framework_cannot_turn_it_into_another(leader, standard):
    client = logged_in_client(leader)
    response = client.post(
        reverse("success-framework-edit", args=[standard.pk]),
        {"text": STANDARD.replace("key: standard", "key: other"), "action": "save"},
    )
    assert response.status_code == 422 and "must stay" in response.content.decode()
    assert not SuccessFramework.objects.filter(key="other").exists()


@pytest.mark.django_db
def test_a_leader_writes_a_new_framework(leader):
    client = logged_in_client(leader)
    starter = client.get(reverse("success-framework-new")).content.decode()
    assert "key: my-framework" in starter
    response = client.post(
        reverse("success-framework-new"),
        {"text": (LIBRARY / "self-serve.yaml").read_text(), "action": "save"},
    )
    framework = SuccessFramework.objects.get(key="self-serve")
    assert response["Location"] == reverse("success-framework", args=[framework.pk])
    assert framework.phases.count() == 3


@pytest.mark.django_db
def test_a_csm_reads_frameworks_but_cannot_edit(csm, standard):
    client = logged_in_client(csm)
    assert client.get(reverse("success-framework-edit", args=[standard.pk])).status_code == 403
    response = client.post(reverse("success-framework-new"), {"text": STANDARD, "action": "save"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_an_oversized_text_is_refused_with_a_line(leader):
    response = logged_in_client(leader).post(
        reverse("success-framework-new"), {"text": "key: x\n" + "#" * (150 * 1024), "action": "check"}
    )
    assert response.status_code == 422 and "line 1, column 1" in response.content.decode()


# --- API ----------------------------------------------------------------------------------------------


def _api(user):
    from tests.conftest import Api

    return Api(create_api_key(user=user)[1])


@pytest.mark.django_db
def test_the_api_lists_and_reads_a_framework_by_id_or_key(csm, standard):
    api = _api(csm)
    listed = api.get("/success/frameworks").json()
    assert listed["count"] == 1 and listed["items"][0]["key"] == "standard"
    assert listed["items"][0]["phases"] == 4 and listed["items"][0]["milestones"] == 6
    by_id = api.get(f"/success/frameworks/{standard.pk}").json()
    by_key = api.get("/success/frameworks/standard").json()
    assert by_id == by_key
    assert [p["key"] for p in by_id["phase_list"]] == ["onboarding", "first-use", "adoption", "renewal"]
    assert by_id["phase_list"][3]["rules_in_words"] == [
        "at least 275 days since the customer's start",
        "the next renewal within 90 days",
    ]
    assert by_id["yaml"] == STANDARD
    assert api.get("/success/frameworks/nope").status_code == 404


@pytest.mark.django_db
def test_a_leader_puts_a_framework_by_key(leader):
    api = _api(leader)
    text = (LIBRARY / "self-serve.yaml").read_text()
    created = api.send("put", "/success/frameworks/self-serve", {"yaml": text})
    assert created.status_code == 201, created.content
    assert created.json()["phases"] == 3
    again = api.send("put", "/success/frameworks/self-serve", {"yaml": text.replace("Activation", "Start")})
    assert again.status_code == 200 and again.json()["phase_list"][0]["name"] == "Start"


@pytest.mark.django_db
def test_a_bad_framework_is_a_422_naming_lines(leader):
    api = _api(leader)
    bad = STANDARD.replace("first_value: true", "first_value: maybe")
    response = api.send("put", "/success/frameworks/standard", {"yaml": bad})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert body["errors"][0]["field"] == "yaml" and body["errors"][0]["message"].startswith(
        "line 58, column 18"
    )
    wrong_key = api.send("put", "/success/frameworks/other", {"yaml": STANDARD})
    assert wrong_key.status_code == 422 and "line 4, column 1" in wrong_key.json()["errors"][0]["message"]
    assert not SuccessFramework.objects.exists()


@pytest.mark.django_db
def test_a_csm_cannot_put_a_framework(csm):
    response = _api(csm).send("put", "/success/frameworks/standard", {"yaml": STANDARD})
    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"yaml": "a: " + "[" * 300 + "]" * 300}, 422),
        ({"yaml": "key: x\n" + "y" * (200 * 1024)}, 422),
        ({"yaml": ""}, 422),
        ({"yaml": STANDARD, "extra": 1}, 422),
        ({"yaml": 5}, 422),
        ({"yaml": "a\x00b"}, 422),
    ],
)
def test_bad_bodies_are_4xx_never_500(leader, body, status):
    response = _api(leader).send("put", "/success/frameworks/standard", body)
    assert response.status_code == status, response.content


# --- The command --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_validates_applies_and_exports(tmp_path, leader):
    good = tmp_path / "standard.yaml"
    good.write_text(STANDARD)
    bad = tmp_path / "bad.yaml"
    bad.write_text(STANDARD.replace("key: onboarding", "key: Onboarding"))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("framework", "validate", str(good), str(bad), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{good}: OK"
    assert lines[1].startswith(f"{bad}:9:10: ") and "lower-case" in lines[1]
    with pytest.raises(CommandError):
        call_command("framework", "apply", str(bad), stdout=io.StringIO())
    assert not SuccessFramework.objects.exists()
    out = io.StringIO()
    call_command("framework", "apply", str(good), "--actor", leader.email, stdout=out)
    assert "Applied standard (Standard): 4 phases, 6 milestones." in out.getvalue()
    exported = tmp_path / "out.yaml"
    call_command("framework", "export", "standard", str(exported))
    assert exported.read_text() == STANDARD
    out = io.StringIO()
    call_command("framework", "export", "standard", stdout=out)
    assert out.getvalue() == STANDARD
    with pytest.raises(CommandError, match="standard"):
        call_command("framework", "export", "nope")


def test_the_command_is_documented_in_the_success_guide():
    from pathlib import Path

    guide = (Path(__file__).parents[2] / "docs" / "success.md").read_text()
    for words in (
        "touchpoint framework export",
        "touchpoint framework apply",
        "touchpoint framework validate",
    ):
        assert words in guide
    assert json.dumps("enter_when")[1:-1] in guide


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.sampled_from([STANDARD, STANDARD.replace("phases:", "phases: 5\nx:"), "{" * 400]),
    ),
    action=st.sampled_from(["check", "save"]),
)
def test_whatever_a_leader_types_the_editor_answers_with_problems_or_saves(leader, text, action):
    response = logged_in_client(leader).post(
        reverse("success-framework-new"), {"text": text, "action": action}
    )
    assert response.status_code in (200, 302, 422)
    if response.status_code == 422 and "problem-where" in response.content.decode():
        assert "line " in response.content.decode()
