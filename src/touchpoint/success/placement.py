"""The placement engine: puts every account in the furthest phase of its framework whose rules hold.

Set-based. A run reads the facts of every account it places with a handful of GROUP BY queries
(accounts and their placements; subscriptions; usage rollups; today's health; milestones reached),
evaluates each framework's phase rules in Python over those facts, and hands the accounts whose
placement changed to `services.record_rule_placements`, which writes them in bulk. A query runs
only when some rule needs its facts. Nothing is locked row by row: the writer's updates are
conditional on the values this run read, so an override a leader saves in the meantime wins.

For each account:
- framework: the one set by hand, else the framework of its segment, else the default one;
- ruled phase: the furthest phase (highest position) whose entry rules all hold (no rules: holds);
- phase: the leader's override when there is one, else the ruled phase; an override is dropped
  once the rules agree with it (or when the account leaves the override's framework).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

from touchpoint.accounts.models import Account
from touchpoint.success.definition import PhaseCondition, parse_conditions
from touchpoint.success.models import (
    AccountPlacement,
    LifecyclePhase,
    MilestoneDefinition,
    MilestoneReached,
    SuccessFramework,
)

ACTIVE_USERS_DAYS = 7  # the default window of an active_users condition
KEY_FEATURES_DAYS = 30  # the default window of a key_features condition
IDS_PER_QUERY = 500  # accounts named in one IN (...) when placing some accounts


@dataclass
class PlacementStats:
    accounts: int = 0  # accounts looked at
    placed: int = 0  # placements created (accounts never placed before)
    moved: int = 0  # phase or framework changed (includes those created with a phase)
    overrides_dropped: int = 0  # overrides the rules now agree with
    seconds: float = 0.0


@dataclass
class Facts:
    """What the rules read, per account id (an account absent from a map has no such data)."""

    today: date
    started_on: dict[int, date] = field(default_factory=dict)
    milestones: dict[int, set[int]] = field(default_factory=dict)
    active_users: dict[int, dict[int, int]] = field(default_factory=dict)  # days -> account -> peak
    key_features: dict[int, dict[int, int]] = field(default_factory=dict)  # days -> account -> count
    health: dict[int, tuple[float | None, str]] = field(default_factory=dict)  # (score, grade)
    subscription_states: dict[int, set[str]] = field(default_factory=dict)
    next_renewal: dict[int, date] = field(default_factory=dict)


class Current(NamedTuple):
    """An account's row as the run read it (None fields: no placement yet). A tuple: 100,000 of
    them are built per run."""

    account_id: int
    segment_id: int | None
    created_at: Any  # as the database gave it (see _local_date): converted only when needed
    placement_id: int | None
    framework_id: int | None
    framework_set_by_hand: bool
    phase_id: int | None
    ruled_phase_id: int | None
    override_phase_id: int | None
    started_on: date | None

    @property
    def exists(self) -> bool:
        return self.placement_id is not None


class Placed(NamedTuple):
    """Where the run puts an account (what the writer compares with `Current`)."""

    current: Current
    framework_id: int | None
    phase_id: int | None
    ruled_phase_id: int | None
    override_phase_id: int | None
    started_on: date


Check = Callable[[int, Facts], bool]


@dataclass(frozen=True)
class PhaseRules:
    phase_id: int
    position: int
    checks: tuple[Check, ...]


class Plan:
    """The frameworks with their phases' rules compiled to checks, and what facts they need."""

    def __init__(self) -> None:
        self.frameworks: dict[int, list[PhaseRules]] = {}  # furthest phase first
        self.phase_framework: dict[int, int] = {}
        self.default_id: int | None = None
        self.by_segment: dict[int, int] = {}
        self.milestone_ids: dict[tuple[int, str], int] = {}
        self.needs: set[str] = set()
        self.active_days: set[int] = set()
        self.feature_days: set[int] = set()

    @classmethod
    def load(cls) -> Plan:
        plan = cls()
        frameworks = list(SuccessFramework.objects.order_by("name", "id").prefetch_related("segments"))
        for framework in frameworks:
            if framework.is_default:
                plan.default_id = framework.pk
            for segment in framework.segments.all():
                plan.by_segment.setdefault(segment.pk, framework.pk)  # by name when two claim one
        for framework_id, key, pk in MilestoneDefinition.objects.values_list("framework_id", "key", "pk"):
            plan.milestone_ids[(framework_id, key)] = pk
        phases = LifecyclePhase.objects.order_by("framework_id", "-position", "-id")
        for phase in phases:
            plan.phase_framework[phase.pk] = phase.framework_id
            checks = tuple(plan.compile(phase.framework_id, c) for c in parse_conditions(phase.entry_rules))
            plan.frameworks.setdefault(phase.framework_id, []).append(
                PhaseRules(phase_id=phase.pk, position=phase.position, checks=checks)
            )
        return plan

    def compile(self, framework_id: int, condition: PhaseCondition) -> Check:
        """One condition as a function of (account id, facts)."""
        kind = condition.kind
        self.needs.add(kind)
        if kind == "days_since_start":
            bound = condition.days_since_start
            assert bound is not None
            return _bounded(
                lambda a, f: (f.today - f.started_on[a]).days if a in f.started_on else None, bound
            )
        if kind == "milestone":
            milestone_id = self.milestone_ids.get((framework_id, condition.milestone or ""))
            if milestone_id is None:
                return lambda a, f: False  # a milestone removed since: nobody has reached it
            return lambda a, f: milestone_id in f.milestones.get(a, ())
        if kind == "active_users":
            usage = condition.active_users
            assert usage is not None
            days = usage.days or ACTIVE_USERS_DAYS
            self.active_days.add(days)
            return _bounded(lambda a, f: f.active_users.get(days, {}).get(a, 0), usage)
        if kind == "key_features":
            usage = condition.key_features
            assert usage is not None
            days = usage.days or KEY_FEATURES_DAYS
            self.feature_days.add(days)
            return _bounded(lambda a, f: f.key_features.get(days, {}).get(a, 0), usage)
        if kind == "health":
            health = condition.health
            assert health is not None
            grades = set(health.grades or ())
            low, high = health.at_least, health.at_most

            def check_health(a: int, f: Facts) -> bool:
                score, grade = f.health.get(a, (None, "unknown"))
                if grades and grade not in grades:
                    return False
                if low is not None and (score is None or score < low):
                    return False
                return not (high is not None and (score is None or score > high))

            return check_health
        if kind == "subscription":
            states = set(condition.subscription or ())
            return lambda a, f: not states.isdisjoint(f.subscription_states.get(a, ()))
        if kind == "days_to_renewal":
            bound = condition.days_to_renewal
            assert bound is not None
            return _bounded(
                lambda a, f: (f.next_renewal[a] - f.today).days if a in f.next_renewal else None, bound
            )
        raise ValueError(f"unknown condition {kind}")

    def framework_for(self, current: Current) -> int | None:
        if current.framework_set_by_hand and current.framework_id is not None:
            return current.framework_id
        if current.segment_id is not None and current.segment_id in self.by_segment:
            return self.by_segment[current.segment_id]
        return self.default_id

    def ruled_phase(self, framework_id: int | None, account_id: int, facts: Facts) -> int | None:
        for phase in self.frameworks.get(framework_id, ()) if framework_id is not None else ():
            if all(check(account_id, facts) for check in phase.checks):
                return phase.phase_id
        return None


def _bounded(value: Callable[[int, Facts], int | None], bound: Any) -> Check:
    low, high = bound.at_least, bound.at_most

    def check(a: int, f: Facts) -> bool:
        v = value(a, f)
        if v is None:
            return False
        return (low is None or v >= low) and (high is None or v <= high)

    return check


# --- Facts: a few GROUP BY queries ------------------------------------------------------------------


_DATES: dict[Any, date] = {}


def _as_date(value: Any) -> date:
    """A date column's value (raw cursors hand SQLite's dates back as text; few distinct values)."""
    found = _DATES.get(value)
    if found is None:
        if isinstance(value, datetime):
            found = value.date()
        elif isinstance(value, date):
            found = value
        else:
            found = date.fromisoformat(str(value)[:10])
        if len(_DATES) < 100_000:
            _DATES[value] = found
    return found


def _rows(sql: str, params: list[Any], ids: list[int] | None, column: str) -> Iterable[tuple]:
    """Run `sql` (with `{only}` where an account filter goes) for all accounts or for `ids` in chunks."""
    with connection.cursor() as cursor:
        if ids is None:
            cursor.execute(sql.format(only=""), params)
            yield from cursor.fetchall()
            return
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ids[start : start + IDS_PER_QUERY]
            only = f" AND {column} IN ({', '.join(['%s'] * len(chunk))})"
            cursor.execute(sql.format(only=only), [*params, *chunk])
            yield from cursor.fetchall()


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _local_date(value: Any) -> date:
    """The site's local date of a stored moment (raw SQLite cursors give text, in UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return timezone.localdate(value)


def read_current(ids: list[int] | None) -> list[Current]:
    """Every account (or those of `ids`) with its placement as stored."""
    # On SQLite, the creation moment as text skips the driver's datetime parsing of every row;
    # only accounts without a subscription need it (parsed in _local_date).
    created = "a.created_at || ''" if connection.vendor == "sqlite" else "a.created_at"
    sql = f"""
        SELECT a.id, a.segment_id, {created}, p.id, p.framework_id, p.framework_set_by_hand,
               p.phase_id, p.ruled_phase_id, p.override_phase_id, p.started_on
        FROM {_table(Account)} a LEFT JOIN {_table(AccountPlacement)} p ON p.account_id = a.id
        WHERE 1 = 1{{only}}
    """
    make, as_date = Current._make, _as_date
    return [
        make((*row[:9], as_date(row[9]))) if row[9] is not None else make(row)
        for row in _rows(sql, [], ids, "a.id")
    ]


def gather_facts(plan: Plan, ids: list[int] | None, today: date) -> Facts:
    from touchpoint.health.models import HealthScore
    from touchpoint.revenue.models import Subscription
    from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, KeyFeature

    facts = Facts(today=today)
    # Subscriptions: the first start (always: started_on), the states, the next renewal.
    subscriptions = f"""
        SELECT account_id, MIN(started_on),
               MAX(CASE WHEN status = 'trialing' THEN 1 ELSE 0 END),
               MAX(CASE WHEN status = 'active' THEN 1 ELSE 0 END),
               MAX(CASE WHEN status = 'past_due' THEN 1 ELSE 0 END),
               MAX(CASE WHEN status = 'canceled' THEN 1 ELSE 0 END),
               MIN(CASE WHEN status <> 'canceled' AND renewal_date >= %s THEN renewal_date END)
        FROM {_table(Subscription)} WHERE 1 = 1{{only}} GROUP BY account_id
    """
    states = ("trialing", "active", "past_due", "canceled")
    for row in _rows(subscriptions, [today], ids, "account_id"):
        account_id = row[0]
        facts.started_on[account_id] = _as_date(row[1])
        facts.subscription_states[account_id] = {s for s, flag in zip(states, row[2:6], strict=True) if flag}
        if row[6] is not None:
            facts.next_renewal[account_id] = _as_date(row[6])

    if plan.active_days:
        windows = sorted(plan.active_days)
        columns = ", ".join("MAX(CASE WHEN day >= %s THEN active_users ELSE 0 END)" for _ in windows)
        sql = f"""SELECT account_id, {columns} FROM {_table(DailyAccountRollup)}
                  WHERE day >= %s AND day <= %s{{only}} GROUP BY account_id"""
        starts = [today - timedelta(days=d - 1) for d in windows]
        by_days: dict[int, dict[int, int]] = {d: {} for d in windows}
        for row in _rows(sql, [*starts, min(starts), today], ids, "account_id"):
            for d, value in zip(windows, row[1:], strict=True):
                if value:
                    by_days[d][row[0]] = int(value)
        facts.active_users = by_days

    if plan.feature_days:
        windows = sorted(plan.feature_days)
        columns = ", ".join("COUNT(DISTINCT CASE WHEN r.day >= %s THEN r.event END)" for _ in windows)
        sql = f"""SELECT r.account_id, {columns} FROM {_table(DailyEventRollup)} r
                  JOIN {_table(KeyFeature)} k ON k.event = r.event
                  WHERE r.day >= %s AND r.day <= %s{{only}} GROUP BY r.account_id"""
        starts = [today - timedelta(days=d - 1) for d in windows]
        by_days = {d: {} for d in windows}
        for row in _rows(sql, [*starts, min(starts), today], ids, "r.account_id"):
            for d, value in zip(windows, row[1:], strict=True):
                if value:
                    by_days[d][row[0]] = int(value)
        facts.key_features = by_days

    if "health" in plan.needs:
        # Today's health: the scores of the latest scored day up to today (the daily recompute).
        latest = (
            HealthScore.objects.filter(day__lte=today).order_by("-day").values_list("day", flat=True).first()
        )
        if latest is not None:
            sql = f"SELECT account_id, score, grade FROM {_table(HealthScore)} WHERE day = %s{{only}}"
            for account_id, score, grade in _rows(sql, [latest], ids, "account_id"):
                facts.health[account_id] = (score, grade)

    if "milestone" in plan.needs:
        wanted = sorted(set(plan.milestone_ids.values()))
        if wanted:
            sql = f"""SELECT account_id, milestone_id FROM {_table(MilestoneReached)}
                      WHERE reached_on <= %s{{only}}"""
            reached: dict[int, set[int]] = defaultdict(set)
            for account_id, milestone_id in _rows(sql, [today], ids, "account_id"):
                reached[account_id].add(milestone_id)
            facts.milestones = dict(reached)
    return facts


# --- Deciding ---------------------------------------------------------------------------------------


def decide(plan: Plan, accounts: list[Current], facts: Facts) -> list[Placed]:
    """Where each account belongs; only those whose stored row differs are returned."""
    changed = []
    started = facts.started_on
    by_segment, default_id = plan.by_segment, plan.default_id
    frameworks, phase_framework = plan.frameworks, plan.phase_framework
    for current in accounts:
        account_id = current.account_id
        started_on = started.get(account_id)
        if started_on is None:
            # No subscription: the journey started when the account was created.
            started_on = started[account_id] = _local_date(current.created_at)
        if current.framework_set_by_hand and current.framework_id is not None:
            framework_id = current.framework_id
        else:
            framework_id = by_segment.get(current.segment_id, default_id)  # type: ignore[arg-type,assignment]
        ruled = None
        for phase_rules in frameworks.get(framework_id, ()) if framework_id is not None else ():
            for check in phase_rules.checks:
                if not check(account_id, facts):
                    break
            else:
                ruled = phase_rules.phase_id
                break
        override = current.override_phase_id
        if override is not None and (override == ruled or phase_framework.get(override) != framework_id):
            override = None
        phase = override if override is not None else ruled
        if (
            current.placement_id is None
            or current.framework_id != framework_id
            or current.phase_id != phase
            or current.ruled_phase_id != ruled
            or current.override_phase_id != override
            or current.started_on != started_on
        ):
            changed.append(Placed(current, framework_id, phase, ruled, override, started_on))
    return changed


def _place(ids: list[int] | None, now: datetime | None) -> PlacementStats:
    from touchpoint.success import services

    started = timezone.now()
    clock = time.perf_counter()
    now = now or started
    today = timezone.localdate(now)
    plan = Plan.load()
    accounts = read_current(ids)
    facts = gather_facts(plan, ids, today)
    changed = decide(plan, accounts, facts)
    stats = services.record_rule_placements(changed, now=now)
    stats.accounts = len(accounts)
    stats.seconds = time.perf_counter() - clock
    return stats


def place_all(*, now: datetime | None = None) -> PlacementStats:
    """Place every account (the daily run, and after a framework changes)."""
    return _place(None, now)


def place_accounts(ids: Iterable[int], *, now: datetime | None = None) -> PlacementStats:
    """Place these accounts (after a domain event about them)."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return PlacementStats()
    return _place(wanted, now)


def place_framework(framework: SuccessFramework) -> PlacementStats:
    """After a framework's rules, segments or phases changed: accounts may join it, leave it or move
    within it, so every account is placed again (a full run costs a few queries)."""
    return place_all()


# --- What the account panel shows -------------------------------------------------------------------


@dataclass(frozen=True)
class RuleState:
    condition: PhaseCondition
    holds: bool


def next_phase_rules(
    account: Account, placement: AccountPlacement | None, *, now: datetime | None = None
) -> tuple[LifecyclePhase | None, list[RuleState]]:
    """The phase after the account's current one in its framework, and each of its rules met or not."""
    if placement is None or placement.framework_id is None:
        return None, []
    phases = list(
        LifecyclePhase.objects.filter(framework_id=placement.framework_id).order_by("position", "id")
    )
    current_index = next((i for i, p in enumerate(phases) if p.pk == placement.phase_id), -1)
    if current_index + 1 >= len(phases):
        return None, []
    following = phases[current_index + 1]
    plan = Plan()
    plan.milestone_ids = {
        (fid, key): pk
        for fid, key, pk in MilestoneDefinition.objects.filter(
            framework_id=placement.framework_id
        ).values_list("framework_id", "key", "pk")
    }
    conditions = parse_conditions(following.entry_rules)
    checks = [plan.compile(placement.framework_id, c) for c in conditions]
    today = timezone.localdate(now or timezone.now())
    facts = gather_facts(plan, [account.pk], today)
    if account.pk not in facts.started_on:
        facts.started_on[account.pk] = placement.started_on or timezone.localdate(account.created_at)
    return following, [
        RuleState(c, check(account.pk, facts)) for c, check in zip(conditions, checks, strict=True)
    ]


def account_facts(
    account: Account, row: AccountPlacement | None, *, now: datetime | None = None
) -> dict[str, Any]:
    """What the rules read about one account, for its panel (7-day active users, 30-day key features)."""
    plan = Plan()
    plan.needs = {"health", "milestone"}
    plan.active_days, plan.feature_days = {ACTIVE_USERS_DAYS}, {KEY_FEATURES_DAYS}
    plan.milestone_ids = {
        (fid, key): pk
        for fid, key, pk in MilestoneDefinition.objects.values_list("framework_id", "key", "pk")
    }
    today = timezone.localdate(now or timezone.now())
    facts = gather_facts(plan, [account.pk], today)
    started_on = facts.started_on.get(account.pk) or timezone.localdate(account.created_at)
    score, grade = facts.health.get(account.pk, (None, "unknown"))
    renewal = facts.next_renewal.get(account.pk)
    reached = facts.milestones.get(account.pk, set())
    names = (
        list(
            MilestoneDefinition.objects.filter(pk__in=reached)
            .order_by("position", "id")
            .values_list("name", flat=True)
        )
        if reached
        else []
    )
    from touchpoint.health.models import Grade
    from touchpoint.revenue.models import SubscriptionStatus

    return {
        "started_on": started_on,
        "days_since_start": (today - started_on).days,
        "active_users": facts.active_users.get(ACTIVE_USERS_DAYS, {}).get(account.pk, 0),
        "key_features": facts.key_features.get(KEY_FEATURES_DAYS, {}).get(account.pk, 0),
        "health_score": score,
        "health_grade": Grade(grade).label if grade in Grade.values else grade,
        "subscription_states": [
            SubscriptionStatus(s).label
            for s in SubscriptionStatus.values
            if s in facts.subscription_states.get(account.pk, ())
        ],
        "days_to_renewal": (renewal - today).days if renewal is not None else None,
        "milestones": names,
    }


def condition_in_words(condition: PhaseCondition) -> str:
    """One entry rule as a sentence (the framework part's rules_in_words when present)."""
    import importlib

    try:
        definition_text: Any = importlib.import_module("touchpoint.success.definition_text")
    except ImportError:  # the framework part's module, not on every branch
        definition_text = None
    in_words = getattr(definition_text, "rules_in_words", None)
    if in_words is not None:
        return str(in_words([condition])[0])
    return _in_words(condition)


def _bound_words(bound: Any) -> str:
    if bound.at_least is not None and bound.at_most is not None:
        return gettext("between %(low)s and %(high)s") % {"low": bound.at_least, "high": bound.at_most}
    if bound.at_least is not None:
        return gettext("at least %(count)s") % {"count": bound.at_least}
    return gettext("at most %(count)s") % {"count": bound.at_most}


def _in_words(condition: PhaseCondition) -> str:
    kind = condition.kind
    if kind == "days_since_start":
        return gettext("Days since the start: %(bound)s") % {
            "bound": _bound_words(condition.days_since_start)
        }
    if kind == "milestone":
        name = (
            MilestoneDefinition.objects.filter(key=condition.milestone).values_list("name", flat=True).first()
            or condition.milestone
        )
        return gettext("Milestone reached: %(name)s") % {"name": name}
    if kind == "active_users":
        usage = condition.active_users
        assert usage is not None
        return gettext("Active users in the last %(days)s days: %(bound)s") % {
            "days": usage.days or ACTIVE_USERS_DAYS,
            "bound": _bound_words(usage),
        }
    if kind == "key_features":
        usage = condition.key_features
        assert usage is not None
        return gettext("Key features used in the last %(days)s days: %(bound)s") % {
            "days": usage.days or KEY_FEATURES_DAYS,
            "bound": _bound_words(usage),
        }
    if kind == "health":
        health = condition.health
        assert health is not None
        parts = []
        if health.grades:
            parts.append(gettext("grade %(grades)s") % {"grades": ", ".join(health.grades)})
        if health.at_least is not None or health.at_most is not None:
            parts.append(gettext("score %(bound)s") % {"bound": _bound_words(health)})
        return gettext("Health today: %(what)s") % {"what": "; ".join(parts)}
    if kind == "subscription":
        return gettext("A subscription is %(states)s") % {"states": ", ".join(condition.subscription or ())}
    return gettext("Days to the next renewal: %(bound)s") % {"bound": _bound_words(condition.days_to_renewal)}
