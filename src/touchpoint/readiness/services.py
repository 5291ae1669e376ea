"""Every write to a readiness map: one transaction each, audited, the touchpoint's status kept current.

    readiness_map = create_map(name=..., actor=user, start_from=library.template("standard", "ja"))
    answer_question(item=item, answer="yes", evidence_url="https://…", actor=user)
    set_status_by_hand(touchpoint=tp, status="not_applicable", reason="No hardware in this launch", actor=user)
    apply_shape(shape, actor=user)   # a YAML text's map: created, or updated by key

The status rule lives in readiness/status.py. A status set by hand stays until someone clears it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from touchpoint.plain_text import clean_text
from touchpoint.readiness.models import (
    Answer,
    ChecklistItem,
    Function,
    MapKind,
    ReadinessMap,
    Stage,
    Status,
    Touchpoint,
    TouchpointComment,
    TouchpointLink,
    UptimeMonth,
)
from touchpoint.readiness.status import derived_status
from touchpoint.readiness.structure import MapShape, QuestionShape, TouchpointShape
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

# Due and launch dates a person could mean; year 1 or 9999 is a typing slip.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
MAX_TOUCHPOINTS = 500
MAX_QUESTIONS = 30
MAX_ROWS = 30  # stages or functions


# --- checks -----------------------------------------------------------------------------------------


def _text(value: str, field: str, *, limit: int, required: bool = True) -> str:
    return clean_text(value, field, limit=limit, required=required)  # readiness: required unless said


def _day(value: date | None, field: str) -> date | None:
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError(
            {field: _("Give a date between %(first)s and %(last)s.") % {"first": FIRST_DAY, "last": LAST_DAY}}
        )
    return value


def _url(value: str, field: str) -> str:
    value = (value or "").strip()
    if value:
        if len(value) > 500:
            raise ValidationError({field: _("A link is at most 500 characters.")})
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise ValidationError({field: _("Give a web link starting with http:// or https://.")}) from None
    return value


def _person(user: User | None, field: str) -> User | None:
    if user is not None and not user.is_active:
        raise ValidationError({field: _("%(name)s can no longer sign in.") % {"name": user}})
    return user


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise ValidationError({field: _("Choose one of the offered values.")})
    return value


def _unique_key(wanted: str, taken: Iterable[str], fallback: str) -> str:
    base = (slugify(wanted) or fallback)[:56].strip("-") or fallback
    taken = set(taken)
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def _user_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=email, is_active=True).first() if email else None


# --- status -----------------------------------------------------------------------------------------


def refresh_status(touchpoint: Touchpoint, *, today: date | None = None) -> bool:
    """Store the checklist's status (unless set by hand); True when it changed."""
    if touchpoint.status_by_hand:
        return False
    answers = list(touchpoint.checklist.values_list("answer", flat=True))
    status = derived_status(answers, due_on=touchpoint.due_on, today=today or timezone.localdate())
    if status == touchpoint.status:
        return False
    Touchpoint.objects.filter(pk=touchpoint.pk).update(status=status, updated_at=timezone.now())
    touchpoint.status = status
    return True


def refresh_overdue(*, today: date | None = None) -> int:
    """The daily pass: touchpoints whose due date has just passed turn to a gap (status.py)."""
    today = today or timezone.localdate()
    changed = 0
    candidates = Touchpoint.objects.filter(status_by_hand=False, status=Status.AT_RISK, due_on__lt=today)
    for touchpoint in candidates.iterator():
        with transaction.atomic():
            if refresh_status(touchpoint, today=today):
                record_audit(
                    actor=None,
                    action="readiness.status_overdue",
                    instance=touchpoint,
                    changes={"status": touchpoint.status},
                )
                changed += 1
    return changed


# --- maps -------------------------------------------------------------------------------------------


def _fill(readiness_map: ReadinessMap, shape: MapShape, *, keep_answers: bool) -> None:
    """Stages, functions and touchpoints of a new map, from a shape (in bulk: a template is ~50 rows)."""
    if len(shape.stages) > MAX_ROWS or len(shape.functions) > MAX_ROWS:
        raise ValidationError(
            _("A map has at most %(max)d stages and %(max)d functions.") % {"max": MAX_ROWS}
        )
    if len(shape.touchpoints) > MAX_TOUCHPOINTS:
        raise ValidationError(_("A map has at most %(max)d touchpoints.") % {"max": MAX_TOUCHPOINTS})
    stages = {
        s.key: Stage.objects.create(
            map=readiness_map,
            key=s.key,
            position=i,
            name=_text(s.name, "name", limit=120),
            description=_text(s.description, "description", limit=500, required=False),
        )
        for i, s in enumerate(shape.stages)
    }
    functions = {
        f.key: Function.objects.create(
            map=readiness_map,
            key=f.key,
            position=i,
            name=_text(f.name, "name", limit=120),
            lead=_user_by_email(f.lead_email),
        )
        for i, f in enumerate(shape.functions)
    }
    for i, tp in enumerate(shape.touchpoints):
        if tp.stage not in stages or tp.function not in functions:
            raise ValidationError(
                _("The touchpoint %(key)s names a stage or function the map does not have.") % {"key": tp.key}
            )
        touchpoint = Touchpoint(
            map=readiness_map, stage=stages[tp.stage], function=functions[tp.function], position=i
        )
        _shape_touchpoint(touchpoint, tp, keep_answers=keep_answers)


def _shape_touchpoint(touchpoint: Touchpoint, tp: TouchpointShape, *, keep_answers: bool) -> None:
    touchpoint.key = tp.key
    touchpoint.name = _text(tp.name, "name", limit=200)
    touchpoint.description = _text(tp.description, "description", limit=5000, required=False)
    touchpoint.owner = _user_by_email(tp.owner_email) if keep_answers else None
    touchpoint.due_on = _day(tp.due_on, "due_on") if keep_answers else None
    by_hand = keep_answers and bool(tp.status)
    touchpoint.status_by_hand = by_hand
    touchpoint.status = _choice(tp.status, Status, "status") if by_hand else Status.GAP
    touchpoint.status_reason = (
        _text(tp.status_reason, "status_reason", limit=500, required=by_hand) if by_hand else ""
    )
    touchpoint.save()
    if len(tp.checklist) > MAX_QUESTIONS:
        raise ValidationError(_("A touchpoint has at most %(max)d questions.") % {"max": MAX_QUESTIONS})
    # Who confirmed an answer, and when, stays while the text gives the same answer to the same question.
    before = {(row.question, row.answer): row for row in ChecklistItem.objects.filter(touchpoint=touchpoint)}
    items = [_item(touchpoint, i, q, keep_answers=keep_answers) for i, q in enumerate(tp.checklist)]
    for item in items:
        kept = before.get((item.question, item.answer))
        if kept is not None and item.answer:
            item.confirmed_by_id, item.confirmed_at = kept.confirmed_by_id, kept.confirmed_at
    ChecklistItem.objects.filter(touchpoint=touchpoint).delete()
    ChecklistItem.objects.bulk_create(items)
    if keep_answers:
        TouchpointLink.objects.filter(touchpoint=touchpoint).delete()
        TouchpointLink.objects.bulk_create(
            [
                TouchpointLink(touchpoint=touchpoint, kind=kind, target=target)
                for kind, target in dict.fromkeys(tp.links)
            ]
        )
    refresh_status(touchpoint)


def _item(touchpoint: Touchpoint, position: int, q: QuestionShape, *, keep_answers: bool) -> ChecklistItem:
    answer = _choice(q.answer, Answer, "answer") if keep_answers else Answer.OPEN
    return ChecklistItem(
        touchpoint=touchpoint,
        position=position,
        question=_text(q.question, "question", limit=500),
        answer=answer,
        note=_text(q.note, "note", limit=5000, required=False) if keep_answers else "",
        evidence_url=_url(q.evidence_url, "evidence_url") if keep_answers else "",
        confirmed_at=timezone.now() if answer else None,
    )


@transaction.atomic
def create_map(
    *,
    name: str,
    actor: User | None,
    kind: str = MapKind.PRODUCT,
    product: str = "",
    description: str = "",
    launch_on: date | None = None,
    owner: User | None = None,
    start_from: MapShape | None = None,
) -> ReadinessMap:
    """A new map, its grid taken from `start_from` (a template or another map's shape) without answers,
    owners or due dates: a new product or launch is answered afresh."""
    name = _text(name, "name", limit=200)
    readiness_map = ReadinessMap.objects.create(
        key=_unique_key(name, ReadinessMap.objects.values_list("key", flat=True), "map"),
        name=name,
        kind=_choice(kind, MapKind, "kind"),
        product=_text(product, "product", limit=200, required=False),
        description=_text(description, "description", limit=5000, required=False),
        launch_on=_day(launch_on, "launch_on"),
        owner=_person(owner if owner is not None else actor, "owner"),
    )
    if start_from is not None:
        _fill(readiness_map, start_from, keep_answers=False)
    record_audit(
        actor=actor,
        action="readiness.map_created",
        instance=readiness_map,
        changes={
            "started_from": start_from.key if start_from else None,
            "touchpoints": readiness_map.touchpoints.count(),
        },
    )
    return readiness_map


@transaction.atomic
def update_map(*, readiness_map: ReadinessMap, actor: User | None, **values: Any) -> ReadinessMap:
    checks = {
        "name": lambda v: _text(v, "name", limit=200),
        "kind": lambda v: _choice(v, MapKind, "kind"),
        "product": lambda v: _text(v, "product", limit=200, required=False),
        "description": lambda v: _text(v, "description", limit=5000, required=False),
        "launch_on": lambda v: _day(v, "launch_on"),
        "owner": lambda v: _person(v, "owner"),
    }
    changes = {}
    for field, value in values.items():
        value = checks[field](value)
        if getattr(readiness_map, field) != value:
            setattr(readiness_map, field, value)
            changes[field] = str(value) if value is not None else None
    if changes:
        readiness_map.save()
        record_audit(actor=actor, action="readiness.map_changed", instance=readiness_map, changes=changes)
    return readiness_map


@transaction.atomic
def archive_map(*, readiness_map: ReadinessMap, actor: User | None, archived: bool = True) -> None:
    readiness_map.archived_at = timezone.now() if archived else None
    readiness_map.save(update_fields=["archived_at", "updated_at"])
    record_audit(
        actor=actor,
        action="readiness.map_archived" if archived else "readiness.map_restored",
        instance=readiness_map,
    )


def shape_of(readiness_map: ReadinessMap, *, with_answers: bool = True) -> MapShape:
    """The map as plain data (for a copy, or the YAML export)."""
    stages = list(readiness_map.stages.all())
    functions = list(readiness_map.functions.select_related("lead"))
    touchpoints = (
        readiness_map.touchpoints.select_related("stage", "function", "owner")
        .prefetch_related("checklist", "links")
        .order_by("position", "id")
    )
    from touchpoint.readiness.structure import FunctionShape, StageShape

    return MapShape(
        key=readiness_map.key,
        name=readiness_map.name,
        kind=readiness_map.kind,
        product=readiness_map.product,
        description=readiness_map.description,
        launch_on=readiness_map.launch_on if with_answers else None,
        owner_email=readiness_map.owner.email if with_answers and readiness_map.owner else "",
        stages=tuple(StageShape(key=s.key, name=s.name, description=s.description) for s in stages),
        functions=tuple(
            FunctionShape(key=f.key, name=f.name, lead_email=f.lead.email if f.lead else "")
            for f in functions
        ),
        touchpoints=tuple(
            TouchpointShape(
                key=t.key,
                stage=t.stage.key,
                function=t.function.key,
                name=t.name,
                description=t.description,
                owner_email=t.owner.email if with_answers and t.owner else "",
                due_on=t.due_on if with_answers else None,
                status=t.status if with_answers and t.status_by_hand else "",
                status_reason=t.status_reason if with_answers and t.status_by_hand else "",
                checklist=tuple(
                    QuestionShape(
                        question=q.question,
                        answer=q.answer if with_answers else "",
                        note=q.note if with_answers else "",
                        evidence_url=q.evidence_url if with_answers else "",
                    )
                    for q in t.checklist.all()
                ),
                links=tuple((link.kind, link.target) for link in t.links.all()) if with_answers else (),
            )
            for t in touchpoints
        ),
    )


@transaction.atomic
def apply_shape(shape: MapShape, *, actor: User | None) -> tuple[ReadinessMap, bool]:
    """Create the map of `shape.key`, or bring it in line with the shape: stages, functions and
    touchpoints matched by key (a renamed touchpoint keeps its comments and history), the ones left
    out deleted, answers as the shape gives them. Returns (map, created)."""
    readiness_map = ReadinessMap.objects.filter(key=shape.key).first()
    created = readiness_map is None
    owner = _user_by_email(shape.owner_email)
    if readiness_map is None:
        readiness_map = ReadinessMap(key=shape.key)
    readiness_map.name = _text(shape.name, "name", limit=200)
    readiness_map.kind = _choice(shape.kind, MapKind, "kind")
    readiness_map.product = _text(shape.product, "product", limit=200, required=False)
    readiness_map.description = _text(shape.description, "description", limit=5000, required=False)
    readiness_map.launch_on = _day(shape.launch_on, "launch_on")
    readiness_map.owner = owner or readiness_map.owner or actor
    readiness_map.save()
    if created:
        _fill(readiness_map, shape, keep_answers=True)
    else:
        _update_grid(readiness_map, shape, actor=actor)
    record_audit(
        actor=actor,
        action="readiness.map_created" if created else "readiness.map_applied",
        instance=readiness_map,
        changes={"touchpoints": len(shape.touchpoints)},
    )
    return readiness_map, created


def _touchpoint_state(touchpoint: Touchpoint) -> tuple[Any, ...]:
    """What applying a text can change on a touchpoint, to tell whether it did."""
    return (
        touchpoint.name,
        touchpoint.description,
        touchpoint.owner_id,
        touchpoint.due_on,
        touchpoint.stage_id,
        touchpoint.function_id,
        touchpoint.status,
        touchpoint.status_by_hand,
        touchpoint.status_reason,
        tuple(
            touchpoint.checklist.order_by("position", "id").values_list(
                "question", "answer", "note", "evidence_url"
            )
        ),
        tuple(sorted(touchpoint.links.values_list("kind", "target"))),
    )


def _update_grid(readiness_map: ReadinessMap, shape: MapShape, *, actor: User | None) -> None:
    if len(shape.touchpoints) > MAX_TOUCHPOINTS:
        raise ValidationError(_("A map has at most %(max)d touchpoints.") % {"max": MAX_TOUCHPOINTS})
    stages: dict[str, Stage] = {row.key: row for row in readiness_map.stages.all()}
    for i, s in enumerate(shape.stages):
        stage = stages.get(s.key) or Stage(map=readiness_map, key=s.key)
        stage.name, stage.position = _text(s.name, "name", limit=120), i
        stage.description = _text(s.description, "description", limit=500, required=False)
        stage.save()
        stages[s.key] = stage
    functions: dict[str, Function] = {row.key: row for row in readiness_map.functions.all()}
    for i, f in enumerate(shape.functions):
        function = functions.get(f.key) or Function(map=readiness_map, key=f.key)
        function.name, function.position = _text(f.name, "name", limit=120), i
        function.lead = _user_by_email(f.lead_email)
        function.save()
        functions[f.key] = function
    wanted_stages = {s.key for s in shape.stages}
    wanted_functions = {f.key for f in shape.functions}
    touchpoints = {t.key: t for t in readiness_map.touchpoints.all()}
    for i, tp in enumerate(shape.touchpoints):
        if tp.stage not in wanted_stages or tp.function not in wanted_functions:
            raise ValidationError(
                _("The touchpoint %(key)s names a stage or function the map does not have.") % {"key": tp.key}
            )
        touchpoint = touchpoints.pop(tp.key, None) or Touchpoint(map=readiness_map)
        before = _touchpoint_state(touchpoint) if touchpoint.pk else None
        status_before = touchpoint.status
        touchpoint.stage, touchpoint.function, touchpoint.position = (
            stages[tp.stage],
            functions[tp.function],
            i,
        )
        _shape_touchpoint(touchpoint, tp, keep_answers=True)
        # The touchpoint's history says what the text changed (the map's own entry says it was applied).
        if before is not None and before != _touchpoint_state(touchpoint):
            record_audit(
                actor=actor,
                action="readiness.applied",
                instance=touchpoint,
                changes={"status": [status_before, touchpoint.status]},
            )
    Touchpoint.objects.filter(pk__in=[t.pk for t in touchpoints.values()]).delete()
    readiness_map.stages.exclude(key__in=wanted_stages).delete()
    readiness_map.functions.exclude(key__in=wanted_functions).delete()


# --- stages and functions (the grid's columns and rows) ---------------------------------------------


@transaction.atomic
def add_row(
    *, readiness_map: ReadinessMap, kind: str, name: str, actor: User | None, lead: User | None = None
) -> Stage | Function:
    """A new stage (kind "stage") or function (kind "function", with its `lead`) at the end."""
    model: type[Stage] | type[Function] = Stage if kind == "stage" else Function
    rows = model.objects.filter(map=readiness_map)
    if rows.count() >= MAX_ROWS:
        raise ValidationError(
            {"name": _("A map has at most %(max)d stages and %(max)d functions.") % {"max": MAX_ROWS}}
        )
    name = _text(name, "name", limit=120)
    row = model.objects.create(
        map=readiness_map,
        name=name,
        key=_unique_key(name, rows.values_list("key", flat=True), kind),
        position=(rows.aggregate(last=Max("position"))["last"] or 0) + 1,
        **({"lead": _person(lead, "lead")} if kind == "function" else {}),
    )
    changes = {"name": name}
    if isinstance(row, Function) and row.lead is not None:
        changes["lead"] = str(row.lead)
    record_audit(actor=actor, action=f"readiness.{kind}_added", instance=readiness_map, changes=changes)
    return row


@transaction.atomic
def rename_row(
    *, row: Stage | Function, name: str, actor: User | None, lead: User | None = None, set_lead: bool = False
) -> None:
    """Rename a stage or function (and, for a function with `set_lead`, name its lead or clear it)."""
    old = row.name
    row.name = _text(name, "name", limit=120)
    changes: dict[str, Any] = {"name": [old, row.name]}
    if isinstance(row, Function) and set_lead:
        row.lead = _person(lead, "lead")
        changes["lead"] = str(row.lead) if row.lead else None
    row.save()
    record_audit(actor=actor, action="readiness.row_changed", instance=row.map, changes=changes)


@transaction.atomic
def remove_row(*, row: Stage | Function, actor: User | None) -> None:
    """Remove an empty stage or function; one that holds touchpoints must be emptied first."""
    held = (
        Touchpoint.objects.filter(stage=row)
        if isinstance(row, Stage)
        else Touchpoint.objects.filter(function=row)
    )
    if held.exists():
        raise ValidationError(
            _("Move or remove its touchpoints first: %(count)d are in it.") % {"count": held.count()}
        )
    record_audit(actor=actor, action="readiness.row_removed", instance=row.map, changes={"name": row.name})
    row.delete()


# --- touchpoints ------------------------------------------------------------------------------------


@transaction.atomic
def add_touchpoint(
    *,
    readiness_map: ReadinessMap,
    stage: Stage,
    function: Function,
    name: str,
    actor: User | None,
    description: str = "",
    owner: User | None = None,
    due_on: date | None = None,
    questions: Iterable[str] = (),
) -> Touchpoint:
    if stage.map_id != readiness_map.pk or function.map_id != readiness_map.pk:
        raise ValidationError(_("The stage and the function must be this map's."))
    if readiness_map.touchpoints.count() >= MAX_TOUCHPOINTS:
        raise ValidationError(_("A map has at most %(max)d touchpoints.") % {"max": MAX_TOUCHPOINTS})
    name = _text(name, "name", limit=200)
    touchpoint = Touchpoint.objects.create(
        map=readiness_map,
        stage=stage,
        function=function,
        key=_unique_key(name, readiness_map.touchpoints.values_list("key", flat=True), "touchpoint"),
        name=name,
        description=_text(description, "description", limit=5000, required=False),
        owner=_person(owner, "owner"),
        due_on=_day(due_on, "due_on"),
        position=(readiness_map.touchpoints.aggregate(last=Max("position"))["last"] or 0) + 1,
    )
    questions = [q for q in (str(q).strip() for q in questions) if q]
    if len(questions) > MAX_QUESTIONS:
        raise ValidationError(
            {"questions": _("A touchpoint has at most %(max)d questions.") % {"max": MAX_QUESTIONS}}
        )
    ChecklistItem.objects.bulk_create(
        [
            ChecklistItem(touchpoint=touchpoint, position=i, question=_text(q, "questions", limit=500))
            for i, q in enumerate(questions)
        ]
    )
    refresh_status(touchpoint)
    record_audit(
        actor=actor,
        action="readiness.touchpoint_added",
        instance=touchpoint,
        changes={"stage": stage.name, "function": function.name},
    )
    return touchpoint


@transaction.atomic
def update_touchpoint(*, touchpoint: Touchpoint, actor: User | None, **values: Any) -> Touchpoint:
    """Change name, description, owner, due date, stage or function; the status follows (a new due date
    can turn a late gap back to at risk)."""
    checks = {
        "name": lambda v: _text(v, "name", limit=200),
        "description": lambda v: _text(v, "description", limit=5000, required=False),
        "owner": lambda v: _person(v, "owner"),
        "due_on": lambda v: _day(v, "due_on"),
        "stage": lambda v: v,
        "function": lambda v: v,
    }
    changes = {}
    for field, value in values.items():
        value = checks[field](value)
        if field in ("stage", "function") and value.map_id != touchpoint.map_id:
            raise ValidationError({field: _("Choose one of this map's.")})
        if getattr(touchpoint, field) != value:
            setattr(touchpoint, field, value)
            changes[field] = str(value) if value is not None else None
    if changes:
        touchpoint.save()
        refresh_status(touchpoint)
        record_audit(actor=actor, action="readiness.touchpoint_changed", instance=touchpoint, changes=changes)
    return touchpoint


@transaction.atomic
def remove_touchpoint(*, touchpoint: Touchpoint, actor: User | None) -> None:
    record_audit(
        actor=actor,
        action="readiness.touchpoint_removed",
        instance=touchpoint,
        changes={"name": touchpoint.name},
    )
    touchpoint.delete()


@transaction.atomic
def set_status_by_hand(*, touchpoint: Touchpoint, status: str, reason: str, actor: User | None) -> None:
    """Set the status regardless of the checklist, with the reason why (kept until cleared)."""
    status = _choice(status, Status, "status")
    reason = _text(reason, "reason", limit=500)
    before = touchpoint.status
    touchpoint.status, touchpoint.status_by_hand, touchpoint.status_reason = status, True, reason
    touchpoint.save(update_fields=["status", "status_by_hand", "status_reason", "updated_at"])
    record_audit(
        actor=actor,
        action="readiness.status_set",
        instance=touchpoint,
        changes={"status": [before, status], "reason": reason},
    )


@transaction.atomic
def clear_status_by_hand(*, touchpoint: Touchpoint, actor: User | None) -> None:
    """Let the checklist decide again (nothing to do, and nothing audited, when it already does)."""
    if not touchpoint.status_by_hand:
        return
    before = touchpoint.status
    touchpoint.status_by_hand, touchpoint.status_reason = False, ""
    touchpoint.status = Status.GAP  # refresh_status stores the checklist's below
    touchpoint.save(update_fields=["status", "status_by_hand", "status_reason", "updated_at"])
    refresh_status(touchpoint)
    touchpoint.refresh_from_db(fields=["status"])
    record_audit(
        actor=actor,
        action="readiness.status_cleared",
        instance=touchpoint,
        changes={"status": [before, touchpoint.status]},
    )


# --- the checklist ----------------------------------------------------------------------------------


@transaction.atomic
def add_question(*, touchpoint: Touchpoint, question: str, actor: User | None) -> ChecklistItem:
    if touchpoint.checklist.count() >= MAX_QUESTIONS:
        raise ValidationError(
            {"question": _("A touchpoint has at most %(max)d questions.") % {"max": MAX_QUESTIONS}}
        )
    item = ChecklistItem.objects.create(
        touchpoint=touchpoint,
        question=_text(question, "question", limit=500),
        position=(touchpoint.checklist.aggregate(last=Max("position"))["last"] or 0) + 1,
    )
    refresh_status(touchpoint)
    record_audit(
        actor=actor,
        action="readiness.question_added",
        instance=touchpoint,
        changes={"question": item.question},
    )
    return item


@transaction.atomic
def remove_question(*, item: ChecklistItem, actor: User | None) -> None:
    touchpoint = item.touchpoint
    record_audit(
        actor=actor,
        action="readiness.question_removed",
        instance=touchpoint,
        changes={"question": item.question},
    )
    item.delete()
    refresh_status(touchpoint)


@transaction.atomic
def answer_question(
    *, item: ChecklistItem, answer: str, actor: User | None, note: str = "", evidence_url: str = ""
) -> ChecklistItem:
    """Record an answer with its evidence and who confirmed it when; the touchpoint's status follows."""
    answer = _choice(answer, Answer, "answer")
    note = _text(note, "note", limit=5000, required=False)
    evidence_url = _url(evidence_url, "evidence_url")
    before = item.answer
    item.answer, item.note, item.evidence_url = answer, note, evidence_url
    item.confirmed_by = actor if answer else None
    item.confirmed_at = timezone.now() if answer else None
    item.save()
    # Read afresh (and held): a cached touchpoint could carry a status another answer has changed.
    touchpoint = Touchpoint.objects.select_for_update().get(pk=item.touchpoint_id)
    status_before = touchpoint.status
    refresh_status(touchpoint)
    record_audit(
        actor=actor,
        action="readiness.answered",
        instance=touchpoint,
        changes={
            "question": item.question,
            "answer": [before, answer],
            "evidence_url": evidence_url,
            "note": note[:500],
            "status": [status_before, touchpoint.status],
        },
    )
    return item


# --- comments, links, uptime ------------------------------------------------------------------------


@transaction.atomic
def add_comment(*, touchpoint: Touchpoint, body: str, actor: User) -> TouchpointComment:
    comment = TouchpointComment.objects.create(
        touchpoint=touchpoint, author=actor, body=_text(body, "body", limit=5000)
    )
    record_audit(
        actor=actor,
        action="readiness.commented",
        instance=touchpoint,
        changes={"comment": comment.body[:200]},
    )
    return comment


@transaction.atomic
def link(*, touchpoint: Touchpoint, kind: str, target: str, actor: User | None) -> TouchpointLink:
    from touchpoint.readiness.links import link_kinds

    link_kind = link_kinds.get(kind)
    if link_kind is None:
        raise ValidationError({"kind": _("Choose one of the offered kinds.")})
    target = _text(target, "target", limit=128)
    if link_kind.resolve(target) is None:
        raise ValidationError({"target": _("Nothing of that kind has this key.")})
    found, _created = TouchpointLink.objects.get_or_create(touchpoint=touchpoint, kind=kind, target=target)
    record_audit(
        actor=actor, action="readiness.linked", instance=touchpoint, changes={"kind": kind, "target": target}
    )
    return found


@transaction.atomic
def unlink(*, link_row: TouchpointLink, actor: User | None) -> None:
    record_audit(
        actor=actor,
        action="readiness.unlinked",
        instance=link_row.touchpoint,
        changes={"kind": link_row.kind, "target": link_row.target},
    )
    link_row.delete()


@transaction.atomic
def record_uptime(
    *, product: str, month: date, uptime_percent: Any, actor: User | None, source: str = ""
) -> tuple[UptimeMonth, bool]:
    """The month's uptime of a product (0 to 100 %), typed in or posted by a monitoring tool; a second
    figure for the same month replaces the first."""
    from decimal import Decimal, InvalidOperation

    product = _text(product, "product", limit=200)
    first_day = month.replace(day=1)
    _day(first_day, "month")
    try:
        percent = Decimal(str(uptime_percent))
    except InvalidOperation:
        raise ValidationError({"uptime_percent": _("Give a percentage between 0 and 100.")}) from None
    if not percent.is_finite() or not 0 <= percent <= 100:
        raise ValidationError({"uptime_percent": _("Give a percentage between 0 and 100.")})
    # The uptime KPI matches a map's product to these rows without regard to case: a month recorded as
    # "Cloud" is the month a monitor posts as "cloud", replaced rather than counted twice.
    spelled = (
        UptimeMonth.objects.filter(product__iexact=product, month=first_day)
        .values_list("product", flat=True)
        .first()
    )
    row, created = UptimeMonth.objects.update_or_create(
        product=spelled or product,
        month=first_day,
        defaults={
            "uptime_percent": percent.quantize(Decimal("0.0001")),
            "source": _text(source, "source", limit=100, required=False),
            "recorded_by": actor,
            "recorded_at": timezone.now(),
        },
    )
    record_audit(
        actor=actor,
        action="readiness.uptime_recorded",
        instance=row,
        changes={"product": row.product, "month": str(first_day), "uptime_percent": str(row.uptime_percent)},
    )
    return row, created


# --- a gap becomes a task ---------------------------------------------------------------------------


def open_task_of(touchpoint: Touchpoint) -> Any:
    """The open task made from this touchpoint, if any (found by its link back)."""
    from touchpoint.tasks.models import Task, TaskStatus

    return (
        Task.objects.filter(about_url=touchpoint_url(touchpoint), status=TaskStatus.OPEN)
        .select_related("owner")
        .order_by("-created_at")
        .first()
    )


def touchpoint_url(touchpoint: Touchpoint) -> str:
    from django.urls import reverse

    return reverse("readiness-touchpoint", args=[touchpoint.pk])


@transaction.atomic
def make_task(*, touchpoint: Touchpoint, due_on: date, actor: User | None, url: str = "") -> Any:
    """A task for whoever answers for the touchpoint (its owner, else its function's lead), linking back
    to it. Asking twice while the task is open gives the same task."""
    from touchpoint.tasks import services as tasks
    from touchpoint.tasks.models import TaskType

    owner = touchpoint.answerable_by
    if owner is None:
        raise ValidationError(
            _("Name an owner for this touchpoint (or a lead for its function) first: a task needs someone.")
        )
    found = open_task_of(touchpoint)
    if found is not None:
        return found
    _day(due_on, "due_on")
    task = tasks.create_task(
        account=None,
        title=(
            _("Close the gap: %(touchpoint)s (%(map)s)")
            % {"touchpoint": touchpoint.name, "map": touchpoint.map.name}
        )[:200],
        due_on=due_on,
        owner=owner,
        type=TaskType.OTHER,
        notes=touchpoint.status_reason or touchpoint.description,
        about_label=f"{touchpoint.map.name} · {touchpoint.name}"[:200],
        about_url=url or touchpoint_url(touchpoint),
        actor=actor,
    )
    record_audit(
        actor=actor,
        action="readiness.task_made",
        instance=touchpoint,
        changes={"task": task.pk, "owner": str(owner), "due_on": due_on.isoformat()},
    )
    return task
