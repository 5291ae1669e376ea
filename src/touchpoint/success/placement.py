"""The placement engine: puts every account in the furthest phase of its framework whose rules hold.

Set-based. A run reads every account it places with ONE statement: the accounts, their placements
and, joined to them, a GROUP BY per kind of fact the rules need (subscriptions; usage rollups per
window; key features per window; today's health), plus one query for the milestones reached. It
evaluates each framework's phase rules in Python over those rows (each rule compiled once to a
small function of the row), and hands the accounts whose placement changed to
`services.record_rule_placements`, which writes them in bulk. Nothing is locked row by row: the
writer's updates are conditional on the values this run read, so an override a leader saves in
the meantime wins.

For each account:
- framework: the one set by hand, else the framework of its segment, else the default one;
- ruled phase: the furthest phase (highest position) whose entry rules all hold (no rules: holds);
- phase: the leader's override when there is one, else the ruled phase; an override is dropped
  once the rules agree with it (or when the account leaves the override's framework).

The facts: days since start (first subscription start, else the account's creation day), the
framework's milestones reached (success_milestonereached), active users (the most people active on
one day of the last D days, from the daily account rollups: distinct people over several days are
not kept), key features used (distinct, last D days, from the event rollups), health (the scores of
the latest scored day), subscription states (any subscription), days to the next renewal (of a
subscription not canceled).
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
STATES = ("trialing", "active", "past_due", "canceled")

# The columns of a row every run reads (rules' own columns follow, see Plan.column).
ID, SEGMENT, CREATED, PLACEMENT, FRAMEWORK, BY_HAND, PHASE, RULED, OVERRIDE, STARTED_ON = range(10)
FIRST_START, TRIALING, ACTIVE, PAST_DUE, CANCELED, RENEWAL = range(10, 16)
BASE_COLUMNS = 16
STATE_COLUMN = dict(zip(STATES, (TRIALING, ACTIVE, PAST_DUE, CANCELED), strict=True))


@dataclass
class PlacementStats:
    accounts: int = 0  # accounts looked at
    placed: int = 0  # placements created (accounts never placed before)
    moved: int = 0  # phase or framework changed (includes those created with a phase)
    overrides_dropped: int = 0  # overrides the rules now agree with
    seconds: float = 0.0


@dataclass
class Facts:
    """What the rules read besides the row: the day, the milestones reached, and the days since the
    start of the account being evaluated (set by `decide` before its checks run)."""

    today: date
    milestones: dict[int, set[int]] = field(default_factory=dict)
    start_days: int = 0


class Current(NamedTuple):
    """An account's placement as the run read it (None fields: no placement yet)."""

    account_id: int
    segment_id: int | None
    created_at: Any  # as the database gave it (see _local_date)
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


Check = Callable[[tuple, Facts], bool]


@dataclass(frozen=True)
class PhaseRules:
    phase_id: int
    position: int
    checks: tuple[Check, ...]


class Plan:
    """The frameworks with their phases' rules compiled to checks, and the columns they read."""

    def __init__(self) -> None:
        self.frameworks: dict[int, list[PhaseRules]] = {}  # furthest phase first
        self.phase_framework: dict[int, int] = {}
        self.default_id: int | None = None
        self.by_segment: dict[int, int] = {}
        self.milestone_ids: dict[tuple[int, str], int] = {}
        self.needs_milestones = False
        self.extra: list[tuple[str, int]] = []  # ("active", days) / ("features", days) / ("score"|"grade", 0)

    def column(self, kind: str, days: int = 0) -> int:
        """The row index of a rule's column, added to the statement the first time a rule needs it."""
        key = (kind, days)
        if key not in self.extra:
            self.extra.append(key)
        return BASE_COLUMNS + self.extra.index(key)

    @classmethod
    def load(cls) -> Plan:
        plan = cls()
        for framework in SuccessFramework.objects.order_by("name", "id").prefetch_related("segments"):
            if framework.is_default:
                plan.default_id = framework.pk
            for segment in framework.segments.all():
                plan.by_segment.setdefault(segment.pk, framework.pk)  # by name when two claim one
        plan.milestone_ids = {
            (framework_id, key): pk
            for framework_id, key, pk in MilestoneDefinition.objects.values_list("framework_id", "key", "pk")
        }
        for phase in LifecyclePhase.objects.order_by("framework_id", "-position", "-id"):
            plan.phase_framework[phase.pk] = phase.framework_id
            checks = tuple(plan.compile(phase.framework_id, c) for c in parse_conditions(phase.entry_rules))
            plan.frameworks.setdefault(phase.framework_id, []).append(
                PhaseRules(phase_id=phase.pk, position=phase.position, checks=checks)
            )
        return plan

    def compile(self, framework_id: int, condition: PhaseCondition) -> Check:
        """One condition as a function of (row, facts)."""
        kind = condition.kind
        if kind == "days_since_start":
            return _bounded(lambda row, f: f.start_days, condition.days_since_start)
        if kind == "milestone":
            self.needs_milestones = True
            milestone_id = self.milestone_ids.get((framework_id, condition.milestone or ""))
            if milestone_id is None:
                return lambda row, f: False  # a milestone removed since: nobody has reached it
            return lambda row, f: milestone_id in f.milestones.get(row[ID], ())
        if kind in ("active_users", "key_features"):
            usage = condition.active_users if kind == "active_users" else condition.key_features
            assert usage is not None
            if kind == "active_users":
                index = self.column("active", usage.days or ACTIVE_USERS_DAYS)
            else:
                index = self.column("features", usage.days or KEY_FEATURES_DAYS)
            return _bounded(lambda row, f: row[index] or 0, usage)
        if kind == "health":
            health = condition.health
            assert health is not None
            score_at, grade_at = self.column("score"), self.column("grade")
            grades = set(health.grades or ())
            low, high = health.at_least, health.at_most

            def check_health(row: tuple, f: Facts) -> bool:
                score, grade = row[score_at], row[grade_at] or "unknown"
                if grades and grade not in grades:
                    return False
                if low is not None and (score is None or score < low):
                    return False
                return not (high is not None and (score is None or score > high))

            return check_health
        if kind == "subscription":
            columns = tuple(STATE_COLUMN[state] for state in condition.subscription or ())
            return lambda row, f: any(row[c] for c in columns)
        if kind == "days_to_renewal":
            return _bounded(
                lambda row, f: (_as_date(row[RENEWAL]) - f.today).days if row[RENEWAL] is not None else None,
                condition.days_to_renewal,
            )
        raise ValueError(f"unknown condition {kind}")


def _bounded(value: Callable[[tuple, Facts], int | None], bound: Any) -> Check:
    low, high = bound.at_least, bound.at_most

    def check(row: tuple, f: Facts) -> bool:
        v = value(row, f)
        if v is None:
            return False
        return (low is None or v >= low) and (high is None or v <= high)

    return check


# --- Reading: one statement of GROUP BYs, and the milestones reached -------------------------------

_DATES: dict[Any, date] = {}


def _as_date(value: Any) -> date:
    """A date column's value (raw cursors hand SQLite's computed dates back as text; few distinct values)."""
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


def _local_date(value: Any) -> date:
    """The site's local date of a stored moment (given as text on SQLite: see _statement)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return timezone.localdate(value)


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _latest_health_day(today: date) -> date | None:
    from touchpoint.health.models import HealthScore

    return HealthScore.objects.filter(day__lte=today).order_by("-day").values_list("day", flat=True).first()


def _statement(plan: Plan, today: date, ids: list[int] | None) -> tuple[str, list[Any]]:
    """The one SELECT of a run (for all accounts, or those of `ids`), and its parameters."""
    from touchpoint.health.models import HealthScore
    from touchpoint.revenue.models import Subscription
    from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, KeyFeature

    def only(column: str) -> tuple[str, list[Any]]:
        if ids is None:
            return "", []
        return f" AND {column} IN ({', '.join(['%s'] * len(ids))})", list(ids)

    # The creation moment counts only for accounts without a subscription (_local_date parses it);
    # on SQLite as text, which skips the driver's parsing.
    created = "a.created_at || ''" if connection.vendor == "sqlite" else "a.created_at"
    created = f"CASE WHEN s.started IS NULL THEN {created} END"  # not parsed for the others
    columns = [
        f"a.id, a.segment_id, {created}, p.id, p.framework_id, p.framework_set_by_hand, p.phase_id,"
        " p.ruled_phase_id, p.override_phase_id, p.started_on",
        "s.started, s.trialing, s.active, s.past_due, s.canceled, s.renewal",
    ]
    where, where_params = only("account_id")
    joins = [
        f"""LEFT JOIN (SELECT account_id, MIN(started_on) AS started,
                  MAX(CASE WHEN status = 'trialing' THEN 1 ELSE 0 END) AS trialing,
                  MAX(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active,
                  MAX(CASE WHEN status = 'past_due' THEN 1 ELSE 0 END) AS past_due,
                  MAX(CASE WHEN status = 'canceled' THEN 1 ELSE 0 END) AS canceled,
                  MIN(CASE WHEN status <> 'canceled' AND renewal_date >= %s THEN renewal_date END) AS renewal
           FROM {_table(Subscription)} WHERE 1 = 1{where} GROUP BY account_id) s ON s.account_id = a.id"""
    ]
    params: list[Any] = [today, *where_params]
    active = sorted(days for kind, days in plan.extra if kind == "active")
    features = sorted(days for kind, days in plan.extra if kind == "features")
    if active:
        starts = [today - timedelta(days=d - 1) for d in active]
        peaks = ", ".join(f"MAX(CASE WHEN day >= %s THEN active_users ELSE 0 END) AS a{d}" for d in active)
        joins.append(
            f"""LEFT JOIN (SELECT account_id, {peaks} FROM {_table(DailyAccountRollup)}
                WHERE day >= %s AND day <= %s{where} GROUP BY account_id) u ON u.account_id = a.id"""
        )
        params += [*starts, min(starts), today, *where_params]
    if features:
        starts = [today - timedelta(days=d - 1) for d in features]
        where_r, _same = only("r.account_id")
        used = ", ".join(f"COUNT(DISTINCT CASE WHEN r.day >= %s THEN r.event END) AS f{d}" for d in features)
        joins.append(
            f"""LEFT JOIN (SELECT r.account_id, {used} FROM {_table(DailyEventRollup)} r
                JOIN {_table(KeyFeature)} k ON k.event = r.event
                WHERE r.day >= %s AND r.day <= %s{where_r} GROUP BY r.account_id) kf ON kf.account_id = a.id"""
        )
        params += [*starts, min(starts), today, *where_params]
    health_day = _latest_health_day(today) if any(k in ("score", "grade") for k, _d in plan.extra) else None
    if health_day is not None:
        joins.append(f"LEFT JOIN {_table(HealthScore)} h ON h.account_id = a.id AND h.day = %s")
        params.append(health_day)
    for kind, days in plan.extra:
        if kind == "active":
            columns.append(f"u.a{days}")
        elif kind == "features":
            columns.append(f"kf.f{days}")
        else:
            columns.append(f"h.{kind}" if health_day is not None else "NULL")
    outer, outer_params = only("a.id")
    sql = f"""SELECT {", ".join(columns)}
              FROM {_table(Account)} a LEFT JOIN {_table(AccountPlacement)} p ON p.account_id = a.id
              {" ".join(joins)}
              WHERE 1 = 1{outer}"""
    return sql, [*params, *outer_params]


def read_rows(plan: Plan, ids: list[int] | None, today: date) -> tuple[list[tuple], Facts]:
    """Every account's row (or those of `ids`) and the facts beside it."""
    facts = Facts(today=today)
    rows: list[tuple] = []
    chunks: list[list[int] | None] = (
        [None] if ids is None else [ids[i : i + IDS_PER_QUERY] for i in range(0, len(ids), IDS_PER_QUERY)]
    )
    with connection.cursor() as cursor:
        for chunk in chunks:
            cursor.execute(*_statement(plan, today, chunk))
            rows.extend(cursor.fetchall())
        if plan.needs_milestones and plan.milestone_ids:
            reached: dict[int, set[int]] = defaultdict(set)
            table = _table(MilestoneReached)
            for chunk in chunks:
                only = "" if chunk is None else f" AND account_id IN ({', '.join(['%s'] * len(chunk))})"
                cursor.execute(
                    f"SELECT account_id, milestone_id FROM {table} WHERE reached_on <= %s{only}",
                    [today, *(chunk or [])],
                )
                for account_id, milestone_id in cursor.fetchall():
                    reached[account_id].add(milestone_id)
            facts.milestones = dict(reached)
    return rows, facts


# --- Deciding ---------------------------------------------------------------------------------------


def started_on_of(row: tuple) -> date:
    first = row[FIRST_START]
    # No subscription: the journey started when the account was created.
    return _as_date(first) if first is not None else _local_date(row[CREATED])


def decide(plan: Plan, rows: list[tuple], facts: Facts) -> list[Placed]:
    """Where each account belongs; only those whose stored row differs are returned."""
    changed = []
    today = facts.today
    by_segment, default_id = plan.by_segment, plan.default_id
    frameworks, phase_framework = plan.frameworks, plan.phase_framework
    as_date = _as_date
    for row in rows:
        first = row[FIRST_START]
        started_on = as_date(first) if first is not None else _local_date(row[CREATED])
        facts.start_days = (today - started_on).days
        if row[BY_HAND] and row[FRAMEWORK] is not None:
            framework_id = row[FRAMEWORK]
        else:
            framework_id = by_segment.get(row[SEGMENT], default_id)
        ruled = None
        for phase_rules in frameworks.get(framework_id, ()):
            for check in phase_rules.checks:
                if not check(row, facts):
                    break
            else:
                ruled = phase_rules.phase_id
                break
        override = row[OVERRIDE]
        if override is not None and (override == ruled or phase_framework.get(override) != framework_id):
            override = None
        phase = override if override is not None else ruled
        if (
            row[PLACEMENT] is None
            or row[FRAMEWORK] != framework_id
            or row[PHASE] != phase
            or row[RULED] != ruled
            or row[OVERRIDE] != override
            or row[STARTED_ON] != started_on
        ):
            current = Current._make(
                (*row[:STARTED_ON], as_date(row[STARTED_ON]) if row[STARTED_ON] else None)
            )
            changed.append(Placed(current, framework_id, phase, ruled, override, started_on))
    return changed


def _place(ids: list[int] | None, now: datetime | None) -> PlacementStats:
    from touchpoint.success import services

    clock = time.perf_counter()
    now = now or timezone.now()
    plan = Plan.load()
    rows, facts = read_rows(plan, ids, timezone.localdate(now))
    stats = services.record_rule_placements(decide(plan, rows, facts), now=now)
    stats.accounts = len(rows)
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
    within it, so every account is placed again (a full run is one statement and a few small queries)."""
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
    rows, facts = read_rows(plan, [account.pk], timezone.localdate(now or timezone.now()))
    if not rows:
        return following, [RuleState(c, False) for c in conditions]
    facts.start_days = (facts.today - started_on_of(rows[0])).days
    return following, [
        RuleState(c, check(rows[0], facts)) for c, check in zip(conditions, checks, strict=True)
    ]


def account_facts(
    account: Account, row: AccountPlacement | None, *, now: datetime | None = None
) -> dict[str, Any]:
    """What the rules read about one account, for its panel (7-day active users, 30-day key features)."""
    from touchpoint.health.models import Grade
    from touchpoint.revenue.models import SubscriptionStatus

    plan = Plan()
    plan.needs_milestones = True
    plan.milestone_ids = {("all", "all"): 0}  # type: ignore[dict-item]  # any: read every milestone reached
    active, features = plan.column("active", ACTIVE_USERS_DAYS), plan.column("features", KEY_FEATURES_DAYS)
    score_at, grade_at = plan.column("score"), plan.column("grade")
    today = timezone.localdate(now or timezone.now())
    rows, facts = read_rows(plan, [account.pk], today)
    values = rows[0] if rows else (account.pk,) + (None,) * (BASE_COLUMNS + len(plan.extra) - 1)
    started_on = started_on_of(values) if rows else timezone.localdate(account.created_at)
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
    grade = str(values[grade_at] or Grade.UNKNOWN)
    renewal = values[RENEWAL]
    return {
        "started_on": started_on,
        "days_since_start": (today - started_on).days,
        "active_users": values[active] or 0,
        "key_features": values[features] or 0,
        "health_score": values[score_at],
        "health_grade": Grade(grade).label if grade in Grade.values else grade,
        "subscription_states": [SubscriptionStatus(s).label for s in STATES if values[STATE_COLUMN[s]]],
        "days_to_renewal": (_as_date(renewal) - today).days if renewal is not None else None,
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
