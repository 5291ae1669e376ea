"""The shape of a journey definition: what a journey YAML file may say, checked by pydantic.

    key: renewal-countdown
    name: Renewal countdown
    subject: account                 # or contact (then audience.roles picks which people)
    audience:
      roles: [champion]              # contacts only: champion, decision_maker, kpi_owner, user, billing
      when: {field: account.engagement_model, op: in, value: [low_touch, hybrid]}
    entry:
      trigger: date                  # event, product_event, date, schedule, manual
      date: renewal                  # renewal, subscription_start, account_created
      days: -120                     # before (negative) or after the date
    reentry: {policy: after_exit}    # never, after_exit, after_days (with days: N)
    goal: {field: account.renewal_outcome, op: eq, value: renewed}
    exit_when: [{field: account.status, op: eq, value: churned}]
    messages:
      reminder:
        en: {subject: "Your renewal is coming", body: "Hello {{ contact.first_name }} …"}
        ja: {subject: "…", body: "…"}
    steps:
      - {id: wait-a-week, type: wait, days: 7}
      - id: healthy
        type: split
        when: {field: account.health_grade, op: in, value: [green]}
        then: [{id: mail, type: email, message: reminder, by_engagement: true}]
        else: [{id: call, type: task, title: "Call about the renewal", due_in_days: 2}]

This module only knows shapes and the rules that need no database (ids unique, percentages adding
up to 100, a message referenced exists). What needs the database or the registries (does this
playbook, phase, field, event kind, webhook endpoint exist?) is checked by journeys/documents.py,
which also turns pydantic's errors into "line N, column M: …" against the YAML text.

Keys avoid YAML 1.1's booleans (`on`, `yes`, `no` read as true/false by many parsers): a split has
`then` and `else`, an entry a `trigger`.

Steps are nested: a split's and a random split's branches hold their own steps, and when a branch
runs out the enrollment goes on with the step after the split (branches rejoin). No step can lead
back to an earlier one, so every enrollment ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_STEPS = 200
MAX_DAYS = 3650  # ten years: a wait longer than that is a typo
STEP_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"
LANGUAGES = ("en", "ja", "ru", "th")


class Strict(BaseModel):
    # Unknown keys are mistakes ("dealy: 3"), not extensions: refuse them so the author sees it.
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- Conditions ---------------------------------------------------------------------------------

Operator = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "missing", "contains"]
Scalar = str | int | float | bool | None


class FieldCondition(Strict):
    """A field of the subject compared with a value: `{field: account.health_grade, op: eq, value: red}`.

    Field names come from journeys/fields.py (account.*, contact.*, entry.* for what the entry
    brought, e.g. a product event's properties as entry.properties.plan).
    """

    field: str = Field(min_length=1, max_length=120)
    op: Operator = "eq"
    value: Scalar | list[Scalar] = None


class DidCondition(Strict):
    """The subject did a product event (at least `min_count` times in the last `within_days` days)."""

    did: str = Field(min_length=1, max_length=200)
    within_days: int = Field(default=30, ge=1, le=MAX_DAYS)
    min_count: int = Field(default=1, ge=1, le=1_000_000)


class AllOf(Strict):
    all: list[Condition] = Field(min_length=1, max_length=50)


class AnyOf(Strict):
    any: list[Condition] = Field(min_length=1, max_length=50)


class NotOf(Strict):
    not_: Condition = Field(alias="not")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Condition = FieldCondition | DidCondition | AllOf | AnyOf | NotOf


# --- Audience, entry, re-entry ------------------------------------------------------------------


class Audience(Strict):
    roles: list[Literal["champion", "decision_maker", "kpi_owner", "user", "billing"]] = Field(
        default_factory=list
    )
    when: Condition | None = None


class Entry(Strict):
    trigger: Literal["event", "product_event", "date", "schedule", "manual"]
    event: str | None = Field(default=None, max_length=64)  # trigger: event, a domain event kind
    product_event: str | None = Field(default=None, max_length=200)  # trigger: product_event
    where: Condition | None = None  # on the event's payload / properties (entry.* fields)
    date: Literal["renewal", "subscription_start", "account_created"] | None = None  # trigger: date
    days: int = Field(default=0, ge=-MAX_DAYS, le=MAX_DAYS)  # trigger: date, relative to it
    cron: str | None = Field(default=None, max_length=100)  # trigger: schedule, in the site's time zone

    @model_validator(mode="after")
    def _what_each_kind_needs(self) -> Entry:
        needs = {"event": "event", "product_event": "product_event", "date": "date", "schedule": "cron"}
        wanted = needs.get(self.trigger)
        if wanted and not getattr(self, wanted):
            raise ValueError(f"an entry triggered by {self.trigger} needs '{wanted}'")
        return self


class Reentry(Strict):
    policy: Literal["never", "after_exit", "after_days"] = "never"
    days: int | None = Field(default=None, ge=1, le=MAX_DAYS)

    @model_validator(mode="after")
    def _days_with_after_days(self) -> Reentry:
        if self.policy == "after_days" and not self.days:
            raise ValueError("re-entry after_days needs 'days'")
        return self


# --- Messages -----------------------------------------------------------------------------------


class MessageText(Strict):
    subject: str = Field(default="", max_length=300)  # emails; in-app messages use it as the title
    body: str = Field(min_length=1, max_length=50_000)  # Django template text: {{ contact.name }}…
    cta_label: str = Field(default="", max_length=80)  # in-app: the button
    cta_url: str = Field(default="", max_length=500)


# A message per language: {"en": {...}, "ja": {...}}; English is required (the last fallback).
Message = dict[Literal["en", "ja", "ru", "th"], MessageText]


# --- Steps ----------------------------------------------------------------------------------------


class StepBase(Strict):
    id: str = Field(pattern=STEP_ID)
    label: str = Field(default="", max_length=200)  # what the builder shows; defaults to the type


class WaitStep(StepBase):
    """Wait a duration, until a date relative to the renewal, or until an event (with a time-out)."""

    type: Literal["wait"]
    days: int = Field(default=0, ge=0, le=MAX_DAYS)
    hours: int = Field(default=0, ge=0, le=24 * 31)
    until: Literal["renewal", "subscription_start"] | None = None  # with `days_before`
    days_before: int = Field(default=0, ge=-MAX_DAYS, le=MAX_DAYS)
    event: str | None = Field(default=None, max_length=200)  # a domain event kind or product event name
    timeout_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)  # with `event`
    on_timeout: Literal["continue", "exit"] = "continue"

    @model_validator(mode="after")
    def _one_kind_of_wait(self) -> WaitStep:
        kinds = [bool(self.days or self.hours), self.until is not None, self.event is not None]
        if sum(kinds) != 1:
            raise ValueError("a wait needs exactly one of: days/hours, until, event")
        if self.event is not None and self.timeout_days is None:
            raise ValueError("a wait for an event needs 'timeout_days'")
        return self


class SplitStep(StepBase):
    type: Literal["split"]
    when: Condition
    then: list[Step] = Field(default_factory=list, max_length=MAX_STEPS)  # when it holds
    else_: list[Step] = Field(default_factory=list, max_length=MAX_STEPS, alias="else")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Arm(Strict):
    arm: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    percent: int = Field(ge=0, le=100)
    steps: list[Step] = Field(default_factory=list, max_length=MAX_STEPS)


class RandomStep(StepBase):
    """A random split / A-B test: each enrollment draws an arm by the percentages (adding up to 100)."""

    type: Literal["random"]
    arms: list[Arm] = Field(min_length=2, max_length=10)

    @model_validator(mode="after")
    def _percentages(self) -> RandomStep:
        if sum(arm.percent for arm in self.arms) != 100:
            raise ValueError("the arms' percentages must add up to 100")
        names = [arm.arm for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("each arm needs its own name")
        return self


Recipient = Literal["subject", "champion", "decision_maker", "kpi_owner", "user", "billing"]


def _to_subject() -> list[Recipient]:
    return ["subject"]


class EngagementAware(StepBase):
    # By engagement model: high-touch accounts get a task for the owner instead of the message,
    # hybrid get both, low-touch only the message. Without it the step does what it says for all.
    by_engagement: bool = False
    task_title: str = Field(default="", max_length=200)  # the high-touch task; defaults from the message


class EmailStep(EngagementAware):
    type: Literal["email"]
    message: str = Field(min_length=1, max_length=80)
    to: list[Recipient] = Field(default_factory=_to_subject, min_length=1)  # account subject: roles


class InAppStep(EngagementAware):
    type: Literal["in_app"]
    message: str = Field(min_length=1, max_length=80)
    to: list[Recipient] = Field(default_factory=_to_subject, min_length=1)


class TaskStep(StepBase):
    type: Literal["task"]
    title: str = Field(min_length=1, max_length=200)
    notes: str = Field(default="", max_length=5000)
    task_type: Literal["call", "meeting", "review", "risk", "renewal", "onboarding", "other"] = "other"
    priority: Literal["high", "normal", "low"] = "normal"
    due_in_days: int = Field(default=3, ge=0, le=MAX_DAYS)


class PlaybookStep(StepBase):
    type: Literal["playbook"]
    playbook: str = Field(min_length=1, max_length=120)  # a playbook's name


class WebhookStep(StepBase):
    type: Literal["webhook"]
    endpoint: str = Field(min_length=1, max_length=80)  # a WebhookEndpoint's name
    event: str = Field(default="journey.step", max_length=100)  # the "type" in the posted body


class SetPhaseStep(StepBase):
    type: Literal["set_phase"]
    phase: str = Field(min_length=1, max_length=100)  # a lifecycle phase's name (default framework)


class SetAttributeStep(StepBase):
    type: Literal["set_attribute"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    value: Scalar = None


class TagStep(StepBase):
    type: Literal["tag"]
    tag: str = Field(min_length=1, max_length=64)
    remove: bool = False


class SurveyStep(StepBase):
    """Send a survey (journeys/survey_steps.py): an email or in-app message whose text and answer
    link come from the app that owns surveys; refused at validation while no app provides surveys."""

    type: Literal["survey"]
    survey: str = Field(min_length=1, max_length=100)  # a survey's key
    channel: Literal["email", "in_app"] = "email"
    to: list[Recipient] = Field(default_factory=_to_subject, min_length=1)


class ExitStep(StepBase):
    type: Literal["exit"]
    reason: str = Field(default="", max_length=200)


Step = Annotated[
    WaitStep
    | SplitStep
    | RandomStep
    | EmailStep
    | InAppStep
    | TaskStep
    | PlaybookStep
    | WebhookStep
    | SetPhaseStep
    | SetAttributeStep
    | TagStep
    | SurveyStep
    | ExitStep,
    Field(discriminator="type"),
]

ACTION_TYPES = frozenset(
    {"email", "in_app", "task", "playbook", "webhook", "set_phase", "set_attribute", "tag", "survey"}
)


# --- The journey ----------------------------------------------------------------------------------


class JourneyDefinition(Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    subject: Literal["account", "contact"] = "account"
    audience: Audience = Field(default_factory=Audience)
    entry: Entry
    reentry: Reentry = Field(default_factory=Reentry)
    goal: Condition | None = None
    exit_when: list[Condition] = Field(default_factory=list, max_length=20)
    messages: dict[str, Message] = Field(default_factory=dict, max_length=100)
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    @model_validator(mode="after")
    def _consistent(self) -> JourneyDefinition:
        seen: set[str] = set()
        count = 0
        for step in walk(self.steps):
            count += 1
            if step.id in seen:
                raise ValueError(f"step id '{step.id}' is used twice; each step needs its own id")
            seen.add(step.id)
            message = getattr(step, "message", None)
            if message is not None and message not in self.messages:
                raise ValueError(
                    f"step '{step.id}' sends message '{message}', which 'messages' does not define"
                )
        if count > MAX_STEPS:
            raise ValueError(f"a journey has at most {MAX_STEPS} steps")
        for key, message_by_language in self.messages.items():
            if "en" not in message_by_language:
                raise ValueError(f"message '{key}' needs an English text (the last fallback)")
        if self.subject == "account" and self.audience.roles:
            raise ValueError("audience.roles picks contacts: use it with subject: contact")
        return self


def children(step: Any) -> Iterator[list[Any]]:
    """The branches a step holds (a split's then and else, a random split's arms), in order."""
    if step.type == "split":
        yield step.then
        yield step.else_
    elif step.type == "random":
        for arm in step.arms:
            yield arm.steps


def walk(steps: list[Any]) -> Iterator[Any]:
    """Every step, depth first, in the order a reader meets them."""
    for step in steps:
        yield step
        for branch in children(step):
            yield from walk(branch)


def parse(data: Any) -> JourneyDefinition:
    """A definition from plain data (parsed YAML or a version's stored JSON); raises pydantic's ValidationError."""
    return JourneyDefinition.model_validate(data)


AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()
Audience.model_rebuild()
Entry.model_rebuild()
SplitStep.model_rebuild()
Arm.model_rebuild()
RandomStep.model_rebuild()
JourneyDefinition.model_rebuild()
