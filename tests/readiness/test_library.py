"""The shipped readiness-map template (readiness/library/standard.yaml): four stages and twelve functions
in a fixed order, 40 to 55 touchpoints of 2 to 5 questions, every text in English, Japanese, Russian and
Thai (in that language's script), every text within its model field, and a map made from it that starts
with nothing answered."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
import yaml

from tests.factories import UserFactory
from touchpoint.readiness import library, services
from touchpoint.readiness.definition import KEY_PATTERN
from touchpoint.readiness.models import (
    Answer,
    ChecklistItem,
    Function,
    ReadinessMap,
    Stage,
    Status,
    Touchpoint,
)
from touchpoint.readiness.status import derived_status
from touchpoint.users.roles import Role

SHIPPED = library.LIBRARY / "standard.yaml"
LANGUAGES = ("en", "ja", "ru", "th")
STAGES = ["hear", "buy", "use", "stay"]
FUNCTIONS = [
    "marketing",
    "sales-enablement",
    "project-management",
    "engineering-qa",
    "legal",
    "sales",
    "systems-engineering",
    "manufacturing",
    "finance-operations",
    "network-cloud-operations",
    "support",
    "customer-success",
]
# Editorial limits for the shipped texts, well inside the model's: a checklist question is read at a
# glance in a cell, and a name fits a column header.
QUESTION_LIMIT = 250
NAME_LIMIT = 120

SCRIPTS = {
    "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),  # hiragana, katakana, kanji
    "ru": re.compile(r"[\u0400-\u04ff]"),  # Cyrillic
    "th": re.compile(r"[\u0e00-\u0e7f]"),  # Thai
}
FOREIGN_TO_ENGLISH = re.compile(r"[\u0400-\u04ff\u0e00-\u0e7f\u3040-\u30ff\u4e00-\u9fff]")


def _raw() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def _texts(raw: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Every translatable text of the raw file as (where, model field, the language mapping), the field
    given as "app_label.Model.field" so that its max_length is read from the model."""
    found: list[tuple[str, str, Any]] = [
        ("name", "ReadinessMap.name", raw["name"]),
        ("description", "ReadinessMap.description", raw["description"]),
    ]
    for stage in raw["stages"]:
        found.append((f"stage {stage['key']} name", "Stage.name", stage["name"]))
        found.append((f"stage {stage['key']} description", "Stage.description", stage["description"]))
    for function in raw["functions"]:
        found.append((f"function {function['key']} name", "Function.name", function["name"]))
    for tp in raw["touchpoints"]:
        found.append((f"touchpoint {tp['key']} name", "Touchpoint.name", tp["name"]))
        found.append((f"touchpoint {tp['key']} description", "Touchpoint.description", tp["description"]))
        for i, question in enumerate(tp["checklist"], start=1):
            found.append((f"touchpoint {tp['key']} question {i}", "ChecklistItem.question", question))
    return found


MODELS = {model.__name__: model for model in (ReadinessMap, Stage, Function, Touchpoint, ChecklistItem)}


def _max_length(field: str) -> int:
    model, name = field.split(".")
    limit = MODELS[model]._meta.get_field(name).max_length
    assert limit, f"{field} has no max_length"
    return limit


def test_the_shipped_template_is_listed():
    assert SHIPPED.is_file()
    assert "standard" in library.template_keys()


def test_every_shipped_template_text_is_written_in_all_four_languages():
    problems = []
    for where, _field, text in _texts(_raw()):
        if not isinstance(text, dict) or set(text) != set(LANGUAGES):
            problems.append(f"{where}: languages {sorted(text) if isinstance(text, dict) else text!r}")
            continue
        for language in LANGUAGES:
            value = text[language]
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where} [{language}]: empty or not text ({value!r})")
    assert problems == []


def test_every_shipped_template_text_is_in_its_languages_script():
    problems = []
    for where, _field, text in _texts(_raw()):
        for language, script in SCRIPTS.items():
            if not script.search(text[language]):
                problems.append(f"{where} [{language}]: {text[language]!r}")
        if FOREIGN_TO_ENGLISH.search(text["en"]):
            problems.append(f"{where} [en]: {text['en']!r}")
    assert problems == []


def test_every_shipped_template_text_fits_its_model_field():
    problems = []
    for where, field, text in _texts(_raw()):
        limit = _max_length(field)
        if field.endswith(".name"):
            limit = min(limit, NAME_LIMIT)
        if field == "ChecklistItem.question":
            limit = min(limit, QUESTION_LIMIT)
        for language in LANGUAGES:
            value = text[language].strip()
            if len(value) > limit:
                problems.append(f"{where} [{language}]: {len(value)} > {limit}")
    assert problems == []


def test_the_shipped_template_keys_are_valid_and_unique():
    raw = _raw()
    keys = [s["key"] for s in raw["stages"]] + [f["key"] for f in raw["functions"]]
    keys += [t["key"] for t in raw["touchpoints"]]
    limit = _max_length("Touchpoint.key")
    assert [k for k in keys if not re.match(KEY_PATTERN, k) or len(k) > limit] == []
    touchpoint_keys = [t["key"] for t in raw["touchpoints"]]
    assert [k for k, n in Counter(touchpoint_keys).items() if n > 1] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shipped_template_in_each_language(language):
    shape = library.template("standard", language)
    assert shape.key == "standard"
    assert shape.name.strip() and shape.description.strip()
    assert [s.key for s in shape.stages] == STAGES
    assert [f.key for f in shape.functions] == FUNCTIONS
    assert all(s.name.strip() and s.description.strip() for s in shape.stages)
    assert all(f.name.strip() for f in shape.functions)

    assert 40 <= len(shape.touchpoints) <= 55
    keys = [t.key for t in shape.touchpoints]
    assert len(set(keys)) == len(keys)
    for tp in shape.touchpoints:
        assert tp.stage in STAGES and tp.function in FUNCTIONS, tp.key
        assert tp.name.strip() and tp.description.strip(), tp.key
        assert 2 <= len(tp.checklist) <= 5, tp.key
        assert all(q.question.strip() for q in tp.checklist), tp.key
        # The template asks; it answers nothing and sets no status by hand.
        assert not tp.status and not tp.owner_email and tp.due_on is None, tp.key
        assert all(not q.answer and not q.note and not q.evidence_url for q in tp.checklist), tp.key

    # Every column and row of the grid is used: each stage at least 6 times, each function at least twice.
    by_stage = Counter(tp.stage for tp in shape.touchpoints)
    by_function = Counter(tp.function for tp in shape.touchpoints)
    assert {s: n for s, n in by_stage.items() if n < 6} == {} and set(by_stage) == set(STAGES)
    assert {f: n for f, n in by_function.items() if n < 2} == {} and set(by_function) == set(FUNCTIONS)


def test_the_shipped_template_texts_differ_by_language():
    """Each language gets its own texts, not the English fallback."""
    english = library.template("standard", "en")
    for language in ("ja", "ru", "th"):
        shape = library.template("standard", language)
        assert shape.name != english.name
        pairs = zip(shape.touchpoints, english.touchpoints, strict=True)
        assert all(tp.name != en.name and tp.checklist != en.checklist for tp, en in pairs)


@pytest.mark.django_db
def test_a_map_made_from_the_shipped_template_starts_with_nothing_answered():
    pm = UserFactory(role=Role.CSM)
    assert pm.has_perm("readiness.add_readinessmap")
    shape = library.template("standard", "th")

    readiness_map = services.create_map(name="Touchpoint Cloud in Thailand", actor=pm, start_from=shape)

    assert readiness_map.owner == pm
    assert list(readiness_map.stages.values_list("key", flat=True)) == STAGES
    assert list(readiness_map.functions.values_list("key", flat=True)) == FUNCTIONS
    touchpoints = list(readiness_map.touchpoints.order_by("position"))
    assert [t.key for t in touchpoints] == [t.key for t in shape.touchpoints]
    assert [t.name for t in touchpoints] == [t.name for t in shape.touchpoints]
    items = ChecklistItem.objects.filter(touchpoint__map=readiness_map)
    assert items.count() == sum(len(t.checklist) for t in shape.touchpoints)
    for touchpoint, tp in zip(touchpoints, shape.touchpoints, strict=True):
        questions = list(touchpoint.checklist.values_list("question", flat=True))
        assert questions == [q.question for q in tp.checklist]

    # No answers yet: every question open, no owner or due date, and each touchpoint shows the status
    # the checklist rule gives to "nothing answered" (a gap), not one set by hand.
    assert set(items.values_list("answer", flat=True)) == {Answer.OPEN}
    assert not items.exclude(confirmed_at=None).exists()
    nothing_answered = derived_status([Answer.OPEN], due_on=None, today=readiness_map.created_at.date())
    assert nothing_answered == Status.GAP
    assert {(t.status, t.status_by_hand, t.status_reason) for t in touchpoints} == {
        (nothing_answered, False, "")
    }
    assert all(t.owner_id is None and t.due_on is None for t in touchpoints)
