"""Key features as a YAML file: `touchpoint keyfeature export|apply`, problems at their line and
column, all or nothing, dry runs, pruning, and export → apply changing nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchpoint.usage.key_feature_documents import export_text, problems_of, validate_text
from touchpoint.usage.key_features import Wanted, apply_key_features, plan_key_features
from touchpoint.usage.models import KeyFeature
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def features() -> dict[str, str]:
    return dict(KeyFeature.objects.values_list("event", "label"))


def run(*args: str) -> str:
    out = StringIO()
    call_command("keyfeature", *args, stdout=out)
    return out.getvalue()


def write(tmp_path, text: str):
    path = tmp_path / "key-features.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_export_then_apply_changes_nothing(tmp_path, admin_user):
    KeyFeature.objects.create(event="Report created", label="Reports")
    KeyFeature.objects.create(event="page: Dashboard")  # a colon: must come back quoted
    KeyFeature.objects.create(event="no", label="yes")  # YAML 1.1 would read both as booleans
    KeyFeature.objects.create(event="Export ✓", label="Exports, “CSV”")
    before = features()
    file = str(tmp_path / "out.yaml")
    assert "Wrote" in run("export", file)
    out = run("apply", file, "--prune", "--actor", admin_user.email)
    assert "0 created, 0 changed, 0 removed, 4 unchanged." in out
    assert features() == before
    assert not AuditLogEntry.objects.filter(object_type="usage.keyfeature").exists()


def test_export_without_a_file_writes_to_standard_output():
    KeyFeature.objects.create(event="Report created", label="Reports")
    text = run("export")
    assert text.startswith("#") and "key_features:\n  - event: Report created\n    label: Reports\n" in text
    assert validate_text(text) == [Wanted(event="Report created", label="Reports")]


def test_apply_creates_relabels_and_keeps_the_unlisted_unless_pruned(tmp_path, admin_user):
    KeyFeature.objects.create(event="Report created", label="Reports")
    KeyFeature.objects.create(event="Old feature", label="")
    file = write(
        tmp_path,
        "key_features:\n  - event: Report created\n    label: Reporting\n  - event: ' Invite sent '\n",
    )
    out = run("apply", file, "--actor", admin_user.email)
    assert "created  Invite sent" in out and "changed  Report created: label “Reports” → “Reporting”" in out
    assert (
        "1 created, 1 changed, 0 removed, 0 unchanged." in out
        and "1 key feature not in the file was kept" in out
    )
    assert features() == {"Report created": "Reporting", "Invite sent": "", "Old feature": ""}
    out = run("apply", file, "--prune", "--actor", admin_user.email)
    assert "removed  Old feature" in out and "0 created, 0 changed, 1 removed, 2 unchanged." in out
    assert features() == {"Report created": "Reporting", "Invite sent": ""}
    # Audited as the page's toggles are, as the person named.
    entries = AuditLogEntry.objects.filter(object_type="usage.keyfeature").order_by("id")
    assert list(entries.values_list("action", flat=True)) == ["create", "change", "delete"]
    assert {entry.actor_id for entry in entries} == {admin_user.pk}


def test_a_dry_run_says_what_would_change_and_changes_nothing(tmp_path):
    KeyFeature.objects.create(event="Old feature")
    file = write(tmp_path, "key_features:\n  - event: New feature\n")
    out = run("apply", file, "--prune", "--dry-run")
    assert "created  New feature" in out and "removed  Old feature" in out
    assert out.strip().endswith("Dry run, nothing was changed: 1 created, 0 changed, 1 removed, 0 unchanged.")
    assert features() == {"Old feature": ""}


def test_problems_name_the_line_and_column_and_nothing_is_written(tmp_path):
    KeyFeature.objects.create(event="Kept")
    text = (
        "key_features:\n"
        "  - event: Report created\n"
        "  - event: Report created\n"
        "  - evnt: Export\n"
        "  - event: ''\n"
        "    label: 3\n"
        f"  - event: {'x' * 211}\n"
    )
    file = write(tmp_path, text)
    out = StringIO()
    with pytest.raises(CommandError, match="6 problems found; nothing was changed"):
        call_command("keyfeature", "apply", file, "--prune", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{file}:3:12: the event “Report created” is listed twice (first on line 2)"
    assert f"{file}:4:5: unknown key “evnt” (did you mean “event”?)" in lines
    assert f"{file}:4:5: “event” is missing" in lines
    assert f"{file}:5:12: “event” must not be empty" in lines
    assert f"{file}:6:12: “label” must be text, not “3”" in lines
    assert f"{file}:7:12: “event” is longer than 210 characters" in lines
    assert features() == {"Kept": ""}


@pytest.mark.parametrize(
    "text, line, column, says",
    [
        ("", 1, 1, "the text is empty"),
        ("- event: A\n", 1, 1, "is a mapping"),
        ("key_features:\n  - event: [\n", 3, 1, "not valid YAML"),
        ("key_features:\n  - event: A\nkey_features: []\n", 3, 1, "given twice"),
        ("key_features:\n  - A\n", 2, 5, "must be a mapping"),
        ("features: []\n", 1, 1, "unknown key “features”"),
        ('key_features:\n  - event: "A\\0B"\n', 2, 12, "Null characters"),
    ],
)
def test_each_kind_of_problem_is_placed(text, line, column, says):
    problems = problems_of(text)
    assert problems, text
    assert any(p.line == line and p.column == column and says in p.message for p in problems), problems


def test_an_unknown_actor_or_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No active user has the email nobody@example.com"):
        run("apply", write(tmp_path, "key_features: []\n"), "--actor", "nobody@example.com")
    with pytest.raises(CommandError, match="missing.yaml"):
        run("apply", str(tmp_path / "missing.yaml"))


def test_the_service_refuses_a_set_with_an_event_twice_naming_the_item():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        apply_key_features(features=[Wanted("A"), Wanted(" A ", "again")], prune=False, actor=None)
    assert set(raised.value.message_dict) == {"key_features[1].event"}
    assert not KeyFeature.objects.exists()


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x85\u2028\u2029"),
    min_size=1,
    max_size=40,
).filter(lambda text: text.strip() == text and text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(names, st.one_of(st.just(""), names), max_size=8))
def test_any_set_exported_reads_back_as_itself_and_applies_as_no_change(wanted):
    KeyFeature.objects.all().delete()
    KeyFeature.objects.bulk_create([KeyFeature(event=event, label=label) for event, label in wanted.items()])
    read = validate_text(export_text())
    assert {feature.event: feature.label for feature in read} == wanted
    changes = plan_key_features(features=read, prune=True)
    assert not changes.changed and changes.unchanged == len(wanted)


yaml_ish = st.text(
    alphabet=st.sampled_from(list("key_features:-evntlab \n\"'[]{}#&*!|>0\\x\t")), max_size=120
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(yaml_ish, st.text(max_size=120)))
def test_any_text_is_either_a_list_of_features_or_problems_with_a_place(text):
    problems = problems_of(text)
    lines = max(1, len(text.splitlines()) + 1)
    assert all(1 <= p.line <= lines and p.column >= 1 and p.message for p in problems)
    if not problems:
        read = validate_text(text)
        assert all(f.event and f.event == f.event.strip() and len(f.event) <= 210 for f in read)
        assert len({f.event for f in read}) == len(read)
