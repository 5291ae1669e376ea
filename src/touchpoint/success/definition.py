"""The shape of a success framework as text: what a framework YAML file may say, checked by pydantic.

    key: standard
    name: Standard
    description: Self-serve and mid-market customers.
    default: true                      # accounts with no framework of their segment walk this one
    segments: [SMB, Mid-market]        # accounts in these segments get this framework
    product: ""                        # or the product it is for
    phases:                            # in the order the customer walks them
      - key: setup
        name: Setup
        customer_does: Signs the contract, invites the team.
        customer_expects: A clear start, someone to ask.
        roles: Onboarding manager
        processes: Kick-off call
        tools: Welcome email series
        # no enter_when: every account that qualifies for no later phase is here
      - key: adoption
        name: Adoption
        enter_when:                    # all must hold; the furthest phase that holds wins
          - milestone: first-report
          - active_users: {at_least: 5, days: 7}
      - key: renewal
        name: Renewal
        enter_when:
          - days_to_renewal: {at_most: 90}
    milestones:                        # in funnel order
      - key: first-login
        name: First login
        rule: {event: login}           # the first day the event was done (count: N for the Nth)
      - key: first-report
        name: First report created
        first_value: true
        rule: {event: report_created, count: 1}
      - key: ten-active
        name: Ten active users in a week
        rule: {active_users: 10, within_days: 7}
      - key: roi-confirmed
        name: The customer confirmed the return they expected
        kind: outcome                  # set by hand with evidence; no rule
        stall_after_days: 60
    plan_template:                     # what a new success plan starts with
      objectives:
        - text: Cut the time to close the month
          kpis: [{name: Days to close, unit: days, due_in_days: 90}]
      milestones:
        - {title: Kick-off held, due_in_days: 14}
        - {title: First report shared, due_in_days: 30, milestone: first-report}

The phase conditions (one key each):
    days_since_start: {at_least: N} / {at_most: N}   days since the customer's start
    milestone: KEY                                   this framework's milestone reached
    active_users: {at_least: N, days: D}             people active in the last D days (default 7)
    key_features: {at_least: N, days: D}             distinct key features used in the last D days (30)
    health: {grades: [green, yellow]} / {at_least: S} / {at_most: S}   today's health
    subscription: [active, trialing]                 the state of any of its subscriptions
    days_to_renewal: {at_most: N} / {at_least: N}    days until the next renewal (none: does not hold)

This module knows only shapes and the rules that need no database (keys unique, milestone references
exist in this framework, one first value). What needs the database (do the segments exist?) is
checked by success/documents.py, which also turns pydantic's errors into "line N, column M: …".
Keys avoid YAML 1.1's booleans; the reader takes only true/false as booleans.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
ShortText = Annotated[str, Field(max_length=100)]
LongText = Annotated[str, Field(max_length=2000)]
Days = Annotated[int, Field(ge=0, le=3650)]
Count = Annotated[int, Field(ge=1, le=1_000_000)]
GradeName = Literal["green", "yellow", "red", "unknown"]
SubscriptionState = Literal["trialing", "active", "past_due", "canceled"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bound(Strict):
    at_least: Annotated[int, Field(ge=0, le=100_000)] | None = None
    at_most: Annotated[int, Field(ge=0, le=100_000)] | None = None

    @model_validator(mode="after")
    def _one_bound_at_least(self) -> Bound:
        if self.at_least is None and self.at_most is None:
            raise ValueError("give at_least, at_most or both")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError("at_least is above at_most")
        return self


class UsageBound(Bound):
    days: Annotated[int, Field(ge=1, le=365)] | None = None  # default per condition (7 people, 30 features)


class HealthBound(Strict):
    grades: list[GradeName] | None = Field(default=None, min_length=1)
    at_least: Annotated[int, Field(ge=0, le=100)] | None = None
    at_most: Annotated[int, Field(ge=0, le=100)] | None = None

    @model_validator(mode="after")
    def _something(self) -> HealthBound:
        if self.grades is None and self.at_least is None and self.at_most is None:
            raise ValueError("give grades, at_least or at_most")
        return self


class PhaseCondition(Strict):
    """One condition of a phase's entry rules: exactly one key is set."""

    days_since_start: Bound | None = None
    milestone: Key | None = None
    active_users: UsageBound | None = None
    key_features: UsageBound | None = None
    health: HealthBound | None = None
    subscription: list[SubscriptionState] | None = Field(default=None, min_length=1)
    days_to_renewal: Bound | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PhaseCondition:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("each condition has exactly one of: " + ", ".join(type(self).model_fields))
        return self

    @property
    def kind(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)


class PhaseDef(Strict):
    key: Key
    name: ShortText
    customer_does: LongText = ""
    customer_expects: LongText = ""
    roles: LongText = ""
    processes: LongText = ""
    tools: LongText = ""
    enter_when: list[PhaseCondition] = Field(default_factory=list, max_length=20)


class MilestoneRule(Strict):
    """How a product milestone is found in usage: exactly one of event, active_users, key_features.

    event: reached the day the account's count of that event (since its start) reaches `count`, or,
      with `within_days`, the first day `count` of them fell within that many days.
    active_users: the first day that many distinct people were active within `within_days` (1).
    key_features: the first day that many distinct key features had been used (since the start).
    """

    event: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    count: Count = 1
    active_users: Count | None = None
    key_features: Annotated[int, Field(ge=1, le=1000)] | None = None
    within_days: Annotated[int, Field(ge=1, le=365)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> MilestoneRule:
        given = [v for v in (self.event, self.active_users, self.key_features) if v is not None]
        if len(given) != 1:
            raise ValueError("a rule has exactly one of: event, active_users, key_features")
        return self


class MilestoneDef(Strict):
    key: Key
    name: ShortText
    description: LongText = ""
    kind: Literal["product", "outcome"] = "product"
    rule: MilestoneRule | None = None
    first_value: bool = False
    stall_after_days: Annotated[int, Field(ge=1, le=3650)] = 30

    @model_validator(mode="after")
    def _rule_fits_kind(self) -> MilestoneDef:
        if self.kind == "product" and self.rule is None:
            raise ValueError("a product milestone needs a rule (or kind: outcome)")
        if self.kind == "outcome" and self.rule is not None:
            raise ValueError("an outcome milestone is set by hand; it has no rule")
        return self


class KpiTemplate(Strict):
    name: ShortText
    unit: Annotated[str, Field(max_length=30)] = ""
    baseline: Annotated[Decimal, Field(max_digits=18, decimal_places=4)] | None = None
    target: Annotated[Decimal, Field(max_digits=18, decimal_places=4)] | None = None
    due_in_days: Days | None = None


class ObjectiveTemplate(Strict):
    text: LongText
    kpis: list[KpiTemplate] = Field(default_factory=list, max_length=20)


class PlanMilestoneTemplate(Strict):
    title: ShortText
    due_in_days: Days | None = None
    milestone: Key | None = None  # a milestone of this framework it tracks


class PlanTemplate(Strict):
    objectives: list[ObjectiveTemplate] = Field(default_factory=list, max_length=20)
    milestones: list[PlanMilestoneTemplate] = Field(default_factory=list, max_length=50)


class FrameworkDefinition(Strict):
    key: Key
    name: ShortText
    description: LongText = ""
    default: bool = False
    segments: list[ShortText] = Field(default_factory=list, max_length=100)
    product: Annotated[str, Field(max_length=200)] = ""
    phases: list[PhaseDef] = Field(min_length=1, max_length=30)
    milestones: list[MilestoneDef] = Field(default_factory=list, max_length=50)
    plan_template: PlanTemplate = Field(default_factory=PlanTemplate)

    @model_validator(mode="after")
    def _references(self) -> FrameworkDefinition:
        for label, keys in (
            ("phase", [p.key for p in self.phases]),
            ("milestone", [m.key for m in self.milestones]),
        ):
            duplicates = sorted({k for k in keys if keys.count(k) > 1})
            if duplicates:
                raise ValueError(f"{label} keys must be unique: {', '.join(duplicates)}")
        milestones = {m.key for m in self.milestones}
        for phase in self.phases:
            for condition in phase.enter_when:
                if condition.milestone is not None and condition.milestone not in milestones:
                    raise ValueError(
                        f"phase {phase.key}: no milestone {condition.milestone} in this framework"
                    )
        for item in self.plan_template.milestones:
            if item.milestone is not None and item.milestone not in milestones:
                raise ValueError(f"plan template: no milestone {item.milestone} in this framework")
        if sum(m.first_value for m in self.milestones) > 1:
            raise ValueError("only one milestone can be the first value")
        return self


def parse(data: Any) -> FrameworkDefinition:
    """The definition in `data` (a dict read from YAML or JSON); raises pydantic.ValidationError."""
    return FrameworkDefinition.model_validate(data)


def parse_conditions(data: Any) -> list[PhaseCondition]:
    """A phase's stored entry rules (LifecyclePhase.entry_rules) as conditions."""
    return [PhaseCondition.model_validate(item) for item in (data or [])]


def parse_rule(data: Any) -> MilestoneRule | None:
    """A milestone's stored rule (MilestoneDefinition.rule), None for outcome milestones."""
    return MilestoneRule.model_validate(data) if data else None


def dump_conditions(conditions: list[PhaseCondition]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json", exclude_none=True) for c in conditions]
