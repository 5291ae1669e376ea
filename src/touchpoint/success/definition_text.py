"""A framework's rules said in words, in the reader's language: a phase's entry rules and a milestone's
rule, as the framework page, the account's "Success phase" panel and others show them.

    rules_in_words([{"days_since_start": {"at_least": 30}}, {"milestone": "first-report"}],
                   milestones={"first-report": "First report created"})
    → ["at least 30 days since the customer's start", "reached the milestone “First report created”"]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from touchpoint.success.definition import (
    Bound,
    HealthBound,
    MilestoneRule,
    PhaseCondition,
    UsageBound,
    parse_rule,
)

# The days a usage condition looks back when it does not say (success/definition.py).
ACTIVE_USERS_DAYS = 7
KEY_FEATURES_DAYS = 30


def _grade(name: str) -> str:
    return {"green": _("green"), "yellow": _("yellow"), "red": _("red"), "unknown": _("unknown")}.get(
        name, name
    )


def _state(name: str) -> str:
    return {
        "trialing": _("trialing"),
        "active": _("active"),
        "past_due": _("past due"),
        "canceled": _("canceled"),
    }.get(name, name)


def _or(words: list[str]) -> str:
    if len(words) < 2:
        return "".join(words)
    return _("%(some)s or %(last)s") % {"some": ", ".join(words[:-1]), "last": words[-1]}


def _days_since_start(bound: Bound) -> str:
    if bound.at_least is not None and bound.at_most is not None:
        return _("between %(low)d and %(high)d days since the customer's start") % {
            "low": bound.at_least,
            "high": bound.at_most,
        }
    if bound.at_least is not None:
        return ngettext(
            "at least %(count)d day since the customer's start",
            "at least %(count)d days since the customer's start",
            bound.at_least,
        ) % {"count": bound.at_least}
    assert bound.at_most is not None
    return ngettext(
        "at most %(count)d day since the customer's start",
        "at most %(count)d days since the customer's start",
        bound.at_most,
    ) % {"count": bound.at_most}


def _active_users(bound: UsageBound) -> str:
    days = bound.days or ACTIVE_USERS_DAYS
    if bound.at_least is not None and bound.at_most is not None:
        return _("between %(low)d and %(high)d people active in the last %(days)d days") % {
            "low": bound.at_least,
            "high": bound.at_most,
            "days": days,
        }
    if bound.at_least is not None:
        return ngettext(
            "at least %(count)d person active in the last %(days)d days",
            "at least %(count)d people active in the last %(days)d days",
            bound.at_least,
        ) % {"count": bound.at_least, "days": days}
    assert bound.at_most is not None
    return ngettext(
        "at most %(count)d person active in the last %(days)d days",
        "at most %(count)d people active in the last %(days)d days",
        bound.at_most,
    ) % {"count": bound.at_most, "days": days}


def _key_features(bound: UsageBound) -> str:
    days = bound.days or KEY_FEATURES_DAYS
    if bound.at_least is not None and bound.at_most is not None:
        return _("between %(low)d and %(high)d key features used in the last %(days)d days") % {
            "low": bound.at_least,
            "high": bound.at_most,
            "days": days,
        }
    if bound.at_least is not None:
        return ngettext(
            "at least %(count)d key feature used in the last %(days)d days",
            "at least %(count)d key features used in the last %(days)d days",
            bound.at_least,
        ) % {"count": bound.at_least, "days": days}
    assert bound.at_most is not None
    return ngettext(
        "at most %(count)d key feature used in the last %(days)d days",
        "at most %(count)d key features used in the last %(days)d days",
        bound.at_most,
    ) % {"count": bound.at_most, "days": days}


def _health(bound: HealthBound) -> list[str]:
    said = []
    if bound.grades:
        said.append(_("health grade %(grades)s") % {"grades": _or([_grade(g) for g in bound.grades])})
    if bound.at_least is not None:
        said.append(_("health score at least %(score)d") % {"score": bound.at_least})
    if bound.at_most is not None:
        said.append(_("health score at most %(score)d") % {"score": bound.at_most})
    return said


def _days_to_renewal(bound: Bound) -> str:
    if bound.at_least is not None and bound.at_most is not None:
        return _("the next renewal in %(low)d to %(high)d days") % {
            "low": bound.at_least,
            "high": bound.at_most,
        }
    if bound.at_most is not None:
        return ngettext(
            "the next renewal within %(count)d day",
            "the next renewal within %(count)d days",
            bound.at_most,
        ) % {"count": bound.at_most}
    assert bound.at_least is not None
    return ngettext(
        "the next renewal at least %(count)d day away",
        "the next renewal at least %(count)d days away",
        bound.at_least,
    ) % {"count": bound.at_least}


def condition_in_words(
    condition: PhaseCondition, *, milestones: Mapping[str, str] | None = None
) -> list[str]:
    """One condition as sentences (a health condition with a grade and a score says both)."""
    if condition.days_since_start is not None:
        return [_days_since_start(condition.days_since_start)]
    if condition.milestone is not None:
        name = (milestones or {}).get(condition.milestone, condition.milestone)
        return [_("reached the milestone “%(name)s”") % {"name": name}]
    if condition.active_users is not None:
        return [_active_users(condition.active_users)]
    if condition.key_features is not None:
        return [_key_features(condition.key_features)]
    if condition.health is not None:
        return _health(condition.health)
    if condition.subscription is not None:
        return [
            _("a subscription that is %(states)s")
            % {"states": _or([_state(s) for s in condition.subscription])}
        ]
    assert condition.days_to_renewal is not None
    return [_days_to_renewal(condition.days_to_renewal)]


def rules_in_words(
    conditions: Iterable[PhaseCondition | Mapping[str, Any]], *, milestones: Mapping[str, str] | None = None
) -> list[str]:
    """A phase's entry rules (conditions, or the dicts LifecyclePhase.entry_rules stores) as sentences,
    all of which must hold. `milestones` maps milestone keys to the names to show."""
    said: list[str] = []
    for item in conditions:
        condition = item if isinstance(item, PhaseCondition) else PhaseCondition.model_validate(dict(item))
        said.extend(condition_in_words(condition, milestones=milestones))
    return said


def milestone_rule_in_words(rule: MilestoneRule | Mapping[str, Any] | None) -> str:
    """How a milestone is reached, in a sentence (an outcome milestone, with no rule, is set by hand)."""
    if rule is not None and not isinstance(rule, MilestoneRule):
        rule = parse_rule(dict(rule))
    if rule is None:
        return _("set by hand, with evidence and who confirmed it")
    if rule.event is not None:
        if rule.count == 1 and rule.within_days is None:
            return _("the first “%(event)s”") % {"event": rule.event}
        if rule.count == 1:
            what = _("“%(event)s” once") % {"event": rule.event}
        else:
            # Every form names the count: languages with one plural form use it for "once" too.
            what = ngettext("“%(event)s” %(count)d time", "“%(event)s” %(count)d times", rule.count) % {
                "event": rule.event,
                "count": rule.count,
            }
        if rule.within_days is None:
            return what
        return ngettext("%(what)s within %(days)d day", "%(what)s within %(days)d days", rule.within_days) % {
            "what": what,
            "days": rule.within_days,
        }
    if rule.active_users is not None:
        days = rule.within_days or 1
        return ngettext(
            "%(count)d person active within %(days)d days",
            "%(count)d people active within %(days)d days",
            rule.active_users,
        ) % {"count": rule.active_users, "days": days}
    assert rule.key_features is not None
    return ngettext("%(count)d key feature used", "%(count)d key features used", rule.key_features) % {
        "count": rule.key_features
    }
