"""The shipped journey templates: each parses, speaks four languages and does what its engagement needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.template import Context, Template

from touchpoint.journeys import library
from touchpoint.journeys.definition import (
    DidCondition,
    FieldCondition,
    JourneyDefinition,
    parse,
    walk,
)

SCRIPTS = {
    "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "th": re.compile(r"[\u0e00-\u0e7f]"),
}
# The names the delivery helper's rendering context offers (journeys/rendering.py).
VARIABLES = {"contact.first_name", "contact.name", "account.name", "owner.name", "renewal_date"}
SHIPPED = {
    "welcome-series",
    "onboarding-series",
    "training",
    "monthly-operations-review",
    "quarterly-business-review",
    "release-announcement",
    "renewal-countdown",
    "new-contact-welcome",
    "health-red",
}


def definitions() -> dict[str, JourneyDefinition]:
    return {item.key: parse(yaml.safe_load(item.source)) for item in library.templates()}


def conditions_of(condition) -> list:
    """Every field/did condition inside a condition tree."""
    if condition is None:
        return []
    if hasattr(condition, "all"):
        return [leaf for part in condition.all for leaf in conditions_of(part)]
    if hasattr(condition, "any"):
        return [leaf for part in condition.any for leaf in conditions_of(part)]
    if hasattr(condition, "not_"):
        return conditions_of(condition.not_)
    return [condition]


def every_condition(definition: JourneyDefinition) -> list:
    found = conditions_of(definition.audience.when) + conditions_of(definition.entry.where)
    found += conditions_of(definition.goal)
    for rule in definition.exit_when:
        found += conditions_of(rule)
    for step in walk(definition.steps):
        if step.type == "split":
            found += conditions_of(step.when)
    return found


def test_the_library_ships_a_template_for_each_engagement_of_the_seeds():
    assert {item.key for item in library.templates()} == SHIPPED
    names = [item.name for item in library.templates()]
    assert names == sorted(names, key=str.casefold)
    assert all(item.description and item.name for item in library.templates())


def test_a_template_is_found_by_its_key_and_an_unknown_key_is_refused():
    renewal = library.template("renewal-countdown")
    assert renewal.name == "Renewal 120/90/60/30"
    assert renewal.source.startswith("# Renewal 120/90/60/30")  # the YAML as written, comments and all
    with pytest.raises(library.UnknownTemplate):
        library.template("no-such-journey")


def test_the_list_is_a_copy_a_caller_cannot_spoil():
    first = library.templates()
    first.clear()
    assert len(library.templates()) == len(SHIPPED)


def test_a_file_must_be_named_after_its_key(tmp_path: Path):
    source = library.template("training").source
    (tmp_path / "training.yaml").write_text(source, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a template", encoding="utf-8")
    assert [item.key for item in library.read_folder(tmp_path)] == ["training"]
    (tmp_path / "coaching.yaml").write_text(source, encoding="utf-8")
    with pytest.raises(ValueError, match="name the file after its key"):
        library.read_folder(tmp_path)


def test_every_message_is_written_in_english_japanese_russian_and_thai():
    for key, definition in definitions().items():
        assert definition.messages, key
        for message_key, by_language in definition.messages.items():
            assert set(by_language) == {"en", "ja", "ru", "th"}, (key, message_key)
            for language, text in by_language.items():
                assert text.subject.strip() and text.body.strip(), (key, message_key, language)
                if language in SCRIPTS:
                    assert SCRIPTS[language].search(text.subject + text.body), (key, message_key, language)
                else:
                    assert not any(s.search(text.subject + text.body) for s in SCRIPTS.values())
            # The same call to action in every language: a link that differs would be a mistake.
            assert len({text.cta_url for text in by_language.values()}) == 1, (key, message_key)


def test_every_message_is_a_valid_template_naming_only_the_rendering_variables():
    used: set[str] = set()
    for key, definition in definitions().items():
        for message_key, by_language in definition.messages.items():
            for language, text in by_language.items():
                for part in (text.subject, text.body):
                    Template(part)  # no syntax error
                    names = set(re.findall(r"\{\{\s*([a-z_.]+)", part))
                    assert names <= VARIABLES, (key, message_key, language, names - VARIABLES)
                    used |= names
                rendered = Template(text.body).render(
                    Context(
                        {
                            "contact": {"first_name": "Ana", "name": "Ana Lima"},
                            "account": {"name": "Acme"},
                            "owner": {"name": ""},
                            "renewal_date": "2027-03-01",
                        }
                    )
                )
                assert "{{" not in rendered and "{%" not in rendered
                if "owner.name" in text.body:  # an account with no owner still gets a signature
                    assert rendered.rstrip().splitlines()[-1].strip(), (key, message_key, language)
    assert {"contact.first_name", "account.name", "owner.name", "renewal_date"} <= used


def test_the_templates_use_the_entries_the_engagements_need():
    by_key = definitions()
    renewal = by_key["renewal-countdown"]
    assert (renewal.entry.trigger, renewal.entry.date, renewal.entry.days) == ("date", "renewal", -120)
    waits = [s for s in walk(renewal.steps) if s.type == "wait"]
    assert [(s.until, s.days_before) for s in waits] == [("renewal", 90), ("renewal", 60), ("renewal", 30)]

    contact = by_key["new-contact-welcome"]
    assert (contact.subject, contact.entry.trigger, contact.entry.event) == (
        "contact",
        "event",
        "contact.added",
    )

    red = by_key["health-red"]
    assert (red.entry.trigger, red.entry.event) == ("event", "health.grade_changed")
    assert red.entry.where == FieldCondition(field="entry.payload.grade", op="eq", value="red")

    assert by_key["monthly-operations-review"].entry.cron == "0 9 1 * *"
    assert by_key["quarterly-business-review"].entry.cron == "0 9 1 1,4,7,10 *"
    assert by_key["release-announcement"].entry.trigger == "manual"
    assert isinstance(by_key["onboarding-series"].goal, DidCondition)


def test_the_library_shows_ab_tests_engagement_rules_splits_tasks_and_goals():
    by_key = definitions()
    welcome = [s for s in walk(by_key["welcome-series"].steps) if s.type == "random"]
    assert len(welcome) == 1 and [arm.percent for arm in welcome[0].arms] == [50, 50]
    arm_messages = [arm.steps[0].message for arm in welcome[0].arms]
    subjects = {by_key["welcome-series"].messages[m]["en"].subject for m in arm_messages}
    assert len(subjects) == 2  # two subject lines …
    assert len({by_key["welcome-series"].messages[m]["en"].body for m in arm_messages}) == 1  # … one text

    steps = [step for definition in by_key.values() for step in walk(definition.steps)]
    assert sum(1 for s in steps if getattr(s, "by_engagement", False)) >= 5
    assert all(s.task_title for s in steps if getattr(s, "by_engagement", False))
    assert {s.type for s in steps} >= {
        "wait",
        "split",
        "random",
        "email",
        "in_app",
        "task",
        "playbook",
        "tag",
        "exit",
    }
    fields = {c.field for d in by_key.values() for c in every_condition(d) if isinstance(c, FieldCondition)}
    assert {"account.health_grade", "account.engagement_model", "contact.role"} <= fields
    assert sum(1 for d in by_key.values() if d.goal is not None) >= 3
    for key, definition in by_key.items():
        assert any(s.type == "task" or getattr(s, "by_engagement", False) for s in walk(definition.steps)), (
            key
        )


def test_conditions_name_values_the_data_can_take():
    from touchpoint.accounts.models import ContactRole
    from touchpoint.health.models import Grade

    allowed = {
        # Conditions read the engagement model as the interpreter names it, not as the column stores it.
        "account.engagement_model": {"high_touch", "low_touch", "hybrid"},
        "account.health_grade": set(Grade.values),
        "entry.payload.grade": set(Grade.values),
        "contact.role": set(ContactRole.values),
    }
    for key, definition in definitions().items():
        for condition in every_condition(definition):
            if isinstance(condition, FieldCondition) and condition.field in allowed:
                values = condition.value if isinstance(condition.value, list) else [condition.value]
                assert set(values) <= allowed[condition.field], (key, condition)


@pytest.mark.django_db
def test_every_template_passes_the_full_validation_fields_events_playbooks_and_templates():
    from touchpoint.journeys import documents
    from touchpoint.journeys.fields import registered_fields

    assert registered_fields()  # the built-in fields, so the field names are really checked
    for item in library.templates():
        assert documents.problems_of(item.source) == [], item.key
        assert documents.read(item.source) == parse(yaml.safe_load(item.source))


@pytest.mark.django_db
def test_every_message_renders_in_each_language_for_a_real_contact():
    from tests.factories import AccountFactory, ContactFactory
    from touchpoint.journeys.rendering import render

    account = AccountFactory(name="Acme", owner=None)
    contact = ContactFactory(account=account, name="Ana Lima", email="ana@example.com")
    for key, definition in definitions().items():
        for message_key, by_language in definition.messages.items():
            for language in by_language:
                rendered = render(
                    definition, message_key, language=language, account=account, contact=contact
                )
                assert rendered.language == language
                assert rendered.subject and "{{" not in rendered.subject + rendered.text, (key, message_key)
                if "{{" in by_language[language].body:  # the person or the account is named
                    assert "Acme" in rendered.text or "Ana" in rendered.text, (key, message_key, language)


@pytest.mark.django_db
@pytest.mark.parametrize("engagement_model", ["high", "low", "hybrid"])
def test_every_template_launches_and_runs_to_the_end_without_failing(engagement_model):
    """Saved, launched and walked by the real engine for an account (and its champion) over 200 days:
    no step fails (a playbook, a task title, a message), whatever the engagement model."""
    from datetime import UTC, datetime, timedelta

    from tests.factories import AccountFactory, ContactFactory, PhaseFactory, SubscriptionFactory
    from touchpoint.journeys import engine, services
    from touchpoint.journeys.models import Enrollment, EnrollmentStatus, OutboxRow

    start = datetime(2026, 1, 5, 10, tzinfo=UTC)
    account = AccountFactory(engagement_model=engagement_model, phase=PhaseFactory(name="Onboarding"))
    champion = ContactFactory(account=account, roles=["champion", "decision_maker", "user", "kpi_owner"])
    SubscriptionFactory(
        account=account, started_on=start.date(), renewal_date=start.date() + timedelta(days=120)
    )
    for item in library.templates():
        version = services.save_version(source=item.source)
        services.launch(journey=version.journey)
        definition = services.definition_of(version)
        if definition.subject == "contact":
            enrolled = engine.enroll(
                version=version, account=account, contact=champion, entry_key="t", at=start
            )
        else:
            enrolled = engine.enroll(version=version, account=account, entry_key="t", at=start)
        refused = {("training", "high"), ("quarterly-business-review", "low")}  # their audiences
        expected = (item.key, engagement_model) not in refused
        assert (enrolled is not None) == expected, item.key
    for day in range(1, 200):
        engine.advance_due(now=start + timedelta(days=day), limit=1000)
    failed = Enrollment.objects.filter(status=EnrollmentStatus.FAILED)
    assert not failed.exists(), list(failed.values_list("journey__key", "exit_reason"))
    assert not Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE).exists()
    assert OutboxRow.objects.filter(kind="email").exists() or engagement_model == "high"
    assert OutboxRow.objects.filter(kind="task").exists()
