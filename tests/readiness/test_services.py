"""Writing to a readiness map: from a shape, answers that move the status, status by hand, the daily
overdue pass, apply by key, bad input named by field, every change audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from tests.factories import UserFactory
from tests.readiness.shapes import CONTRACT, LEGAL, MARKETING, PRICING_PAGE
from touchpoint.readiness import services
from touchpoint.readiness.models import ChecklistItem, ReadinessMap, Status, Touchpoint
from touchpoint.readiness.structure import MapShape, QuestionShape, StageShape, TouchpointShape
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db

SHAPE = MapShape(
    key="small",
    name="Small",
    stages=(StageShape("hear", "Hear of it"), StageShape("buy", "Buy it")),
    functions=(MARKETING, LEGAL),
    touchpoints=(
        PRICING_PAGE,
        CONTRACT,
    ),
)


@pytest.fixture
def pm():
    return UserFactory(role=Role.CSM, email="pm@example.com")


def test_a_new_map_takes_the_grid_without_answers_and_is_owned_by_its_maker(pm):
    answered = MapShape(
        **{
            **SHAPE.__dict__,
            "touchpoints": (
                TouchpointShape(
                    key="t",
                    stage="buy",
                    function="legal",
                    name="T",
                    owner_email="pm@example.com",
                    due_on=date(2026, 1, 1),
                    checklist=(QuestionShape("Q?", answer="yes"),),
                ),
            ),
        }
    )
    readiness_map = services.create_map(
        name="Launch: Cloud in Japan", actor=pm, start_from=answered, kind="market"
    )
    assert readiness_map.key == "launch-cloud-in-japan" and readiness_map.owner == pm
    touchpoint = readiness_map.touchpoints.get()
    assert touchpoint.owner is None and touchpoint.due_on is None and touchpoint.status == Status.GAP
    assert list(touchpoint.checklist.values_list("answer", flat=True)) == [""]
    again = services.create_map(name="Launch: Cloud in Japan", actor=pm)
    assert again.key == "launch-cloud-in-japan-2"
    assert AuditLogEntry.objects.filter(action="readiness.map_created").count() == 2


def test_answers_move_the_status_and_record_who_confirmed_it(pm):
    readiness_map = services.create_map(name="M", actor=pm, start_from=SHAPE)
    touchpoint = readiness_map.touchpoints.get(key="pricing-page")
    first, second = touchpoint.checklist.all()
    services.answer_question(item=first, answer="yes", evidence_url="https://example.com/pricing", actor=pm)
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.AT_RISK
    services.answer_question(item=second, answer="yes", note="EUR, USD, JPY", actor=pm)
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.READY
    second.refresh_from_db()
    assert second.confirmed_by == pm and second.confirmed_at is not None
    services.answer_question(item=second, answer="no", actor=pm)
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.GAP
    entry = AuditLogEntry.objects.filter(action="readiness.answered").order_by("pk").last()
    assert entry.changes["status"] == ["ready", "gap"] and entry.object_id == str(touchpoint.pk)


def test_a_status_set_by_hand_needs_a_reason_and_holds_until_cleared(pm):
    readiness_map = services.create_map(name="M", actor=pm, start_from=SHAPE)
    touchpoint = readiness_map.touchpoints.get(key="contract")
    with pytest.raises(ValidationError) as error:
        services.set_status_by_hand(touchpoint=touchpoint, status="not_applicable", reason=" ", actor=pm)
    assert "reason" in error.value.message_dict
    services.set_status_by_hand(
        touchpoint=touchpoint, status="not_applicable", reason="Standard terms", actor=pm
    )
    services.answer_question(item=touchpoint.checklist.get(), answer="no", actor=pm)
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.NOT_APPLICABLE  # the hand wins over the checklist
    services.clear_status_by_hand(touchpoint=touchpoint, actor=pm)
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.GAP and not touchpoint.status_by_hand


def test_the_daily_pass_turns_late_unsettled_touchpoints_into_gaps(pm):
    readiness_map = services.create_map(name="M", actor=pm, start_from=SHAPE)
    touchpoint = readiness_map.touchpoints.get(key="pricing-page")
    services.update_touchpoint(touchpoint=touchpoint, due_on=date.today() + timedelta(days=3), actor=pm)
    services.answer_question(item=touchpoint.checklist.first(), answer="partly", actor=pm)
    assert services.refresh_overdue(today=date.today()) == 0
    assert services.refresh_overdue(today=date.today() + timedelta(days=4)) == 1
    touchpoint.refresh_from_db()
    assert touchpoint.status == Status.GAP


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("due_on", {"due_on": date(1, 1, 1)}),
        ("due_on", {"due_on": date(9999, 12, 31)}),
        ("name", {"name": "x" * 100_000}),
        ("name", {"name": "a\x00b"}),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_changes(pm, field, values):
    readiness_map = services.create_map(name="M", actor=pm, start_from=SHAPE)
    touchpoint = readiness_map.touchpoints.get(key="contract")
    with pytest.raises(ValidationError) as error:
        services.update_touchpoint(touchpoint=touchpoint, actor=pm, **values)
    assert field in error.value.message_dict
    touchpoint.refresh_from_db()
    assert touchpoint.name == "Contract" and touchpoint.due_on is None


def test_evidence_must_be_a_web_link(pm):
    readiness_map = services.create_map(name="M", actor=pm, start_from=SHAPE)
    item = ChecklistItem.objects.filter(touchpoint__map=readiness_map).first()
    for bad in ("javascript:alert(1)", "not a link", "https://" + "a" * 600 + ".com"):
        with pytest.raises(ValidationError) as error:
            services.answer_question(item=item, answer="yes", evidence_url=bad, actor=pm)
        assert "evidence_url" in error.value.message_dict
    item.refresh_from_db()
    assert item.answer == ""


def test_apply_creates_then_updates_by_key_keeping_touchpoints_and_dropping_the_rest(pm):
    readiness_map, created = services.apply_shape(SHAPE, actor=pm)
    assert created and readiness_map.touchpoints.count() == 2
    contract_id = readiness_map.touchpoints.get(key="contract").pk
    services.add_comment(touchpoint=Touchpoint.objects.get(pk=contract_id), body="Ask legal", actor=pm)
    renamed = MapShape(
        **{
            **SHAPE.__dict__,
            "touchpoints": (
                TouchpointShape(
                    key="contract",
                    stage="buy",
                    function="legal",
                    name="Master agreement",
                    checklist=(QuestionShape("Terms reviewed?", answer="yes"),),
                ),
            ),
        }
    )
    again, created = services.apply_shape(renamed, actor=pm)
    assert not created and again.pk == readiness_map.pk
    contract = again.touchpoints.get()
    assert (
        contract.pk == contract_id and contract.name == "Master agreement" and contract.status == Status.READY
    )
    assert contract.comments.count() == 1
    assert services.shape_of(again).touchpoints[0].checklist[0].answer == "yes"


def test_a_copy_round_trips_through_its_shape(pm):
    first, _created = services.apply_shape(SHAPE, actor=pm)
    copy = services.create_map(name="Copy", actor=pm, start_from=services.shape_of(first))
    assert [t.key for t in services.shape_of(copy).touchpoints] == [t.key for t in SHAPE.touchpoints]
    assert ReadinessMap.objects.count() == 2


def test_uptime_is_a_percentage_once_a_month(pm):
    row, created = services.record_uptime(
        product="Cloud", month=date(2026, 5, 17), uptime_percent="99.95", actor=pm
    )
    assert created and row.month == date(2026, 5, 1)
    again, created = services.record_uptime(
        product="Cloud", month=date(2026, 5, 2), uptime_percent=99.9, actor=pm
    )
    assert not created and again.pk == row.pk
    for bad in ("101", "-1", "NaN", "1e400", "lots"):
        with pytest.raises(ValidationError) as error:
            services.record_uptime(product="Cloud", month=date(2026, 5, 1), uptime_percent=bad, actor=pm)
        assert "uptime_percent" in error.value.message_dict
