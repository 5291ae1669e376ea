"""Milestones reached: found in usage by their rules (set-based), or recorded by hand with evidence.

Product milestones are found by `record_from_usage`: for each milestone, one SQL statement reads the
daily rollups (or, for "N people within D days", the raw events) of every account that walks the
milestone's framework, finds the FIRST day the rule held, and inserts the reaches that are new
(`INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`, so a re-run or a concurrent run inserts
nothing twice and an existing row is never touched). No account passes through Python; only the new
reaches come back, to be put on the timeline (one entry per reach, dated the day it was reached) and,
for reaches of the last two days, as "milestone.reached" domain events: a backfill of old history
must not fire journeys for things that happened months ago.

The rules (success/definition.py, MilestoneRule) and the day each is reached:
- event E, count N: the day the account's running total of E reaches N;
- event E, count N, within_days D: the first day on which the D days ending that day hold N of E;
- active_users N (within_days D, default 1): the first day N distinct people were active in the D days
  ending that day. D = 1 reads the daily rollups; D > 1 needs the people, so it reads the raw events
  (and takes a day from the rollups too when one day alone had N people: that holds for any D, and
  keeps history whose raw events were dropped for retention);
- key_features N: the day the Nth distinct key feature was first used.
`first_days_reference` computes the same in plain Python; the tests hold the SQL to it.

Outcome milestones ("the customer got what they bought it for") are recorded by a person:
`record_outcome` with the evidence and who at the customer confirmed it; `undo_outcome` takes one back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.accounts.models import Account, Contact, TimelineEntry
from touchpoint.accounts.services import record_on_timeline
from touchpoint.events.models import DomainEvent
from touchpoint.events.services import record_event, subject_type_of
from touchpoint.success.definition import MilestoneRule, parse_rule
from touchpoint.success.models import (
    MilestoneDefinition,
    MilestoneKind,
    MilestoneReached,
    MilestoneSource,
    SuccessFramework,
)
from touchpoint.usage.models import DailyAccountRollup, DailyEventRollup, KeyFeature, RawEvent
from touchpoint.users.models import User
from touchpoint.users.services import record_audit

# Reaches this recent become domain events (journeys, alerts); older ones found by a backfill only
# land on the timeline.
EVENT_DAYS = 2
_CHUNK = 500  # account ids per statement when a caller names accounts
USAGE_TYPES = ("track", "page", "screen")  # as usage.rollups counts them


# --- Which accounts walk a framework ---------------------------------------------------------------


def walkers_q(framework: SuccessFramework, *, prefix: str = "") -> Q:
    """Accounts that walk `framework`: placed in it; or not placed in any framework and in one of its
    segments; or, for the default framework, not placed and in no framework's segment."""
    p = prefix
    placed = Q(**{f"{p}placement__framework": framework})
    unplaced = Q(**{f"{p}placement__framework__isnull": True})
    segment_ids = list(framework.segments.values_list("pk", flat=True))
    by_segment = Q(**{f"{p}segment_id__in": segment_ids}) if segment_ids else Q(pk__in=[])
    if framework.is_default:
        mapped = SuccessFramework.segments.through.objects.values("segment_id")
        by_segment |= ~Q(**{f"{p}segment_id__in": mapped}) | Q(**{f"{p}segment__isnull": True})
    return placed | (unplaced & by_segment)


def walks(account: Account, framework: SuccessFramework) -> bool:
    return Account.objects.filter(walkers_q(framework), pk=account.pk).exists()


# --- SQL: the first day each account's rule held ---------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _day_number(column: str) -> str:
    """A day as a whole number of days, so window frames can be counted in days."""
    if connection.vendor == "postgresql":
        return f"({column} - DATE '2000-01-01')"
    return f"CAST(julianday({column}) AS INTEGER)"


def _day_from_number(expression: str) -> str:
    if connection.vendor == "postgresql":
        return f"(DATE '2000-01-01' + {expression})"
    return f"date({expression} + 0.5)"  # julianday counts from noon


def _date_param(day: date) -> Any:
    return connection.ops.adapt_datefield_value(day)


def _accounts_clause(
    column: str, account_ids: Sequence[int] | None, not_reached: int | None = None
) -> tuple[str, list[Any]]:
    """The accounts to look at: those named (all when None), less those that reached `not_reached`
    already (a nightly run then reads only the accounts still on their way)."""
    clause, params = "", []
    if account_ids is not None:
        clause, params = f" AND {column} IN ({', '.join(['%s'] * len(account_ids))})", list(account_ids)
    if not_reached is not None:
        table = _q(MilestoneReached._meta.db_table)
        clause += f" AND {column} NOT IN (SELECT account_id FROM {table} WHERE milestone_id = %s)"
        params.append(not_reached)
    return clause, params


def first_days_sql(
    rule: MilestoneRule,
    *,
    as_of: date,
    account_ids: Sequence[int] | None = None,
    not_reached: int | None = None,
) -> tuple[str, list[Any]]:
    """SELECT account_id, day: for each account, the first day on or before `as_of` the rule held
    (skipping the accounts that already reached milestone `not_reached`, when given)."""
    event_table, account_table = _q(DailyEventRollup._meta.db_table), _q(DailyAccountRollup._meta.db_table)
    until = _date_param(as_of)
    if rule.event is not None:
        where, params = _accounts_clause("account_id", account_ids, not_reached)
        if rule.within_days is None:
            frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
            order = "day"
        else:
            frame = f"RANGE BETWEEN {int(rule.within_days) - 1} PRECEDING AND CURRENT ROW"
            order = _day_number("day")
        sql = (
            "SELECT account_id, MIN(day) AS day FROM ("
            f"SELECT account_id, day, SUM(events) OVER (PARTITION BY account_id ORDER BY {order} {frame}) AS n "
            f"FROM {event_table} WHERE event = %s AND day <= %s{where}"
            ") counted WHERE n >= %s GROUP BY account_id"
        )
        return sql, [rule.event, until, *params, rule.count]
    if rule.key_features is not None:
        where, params = _accounts_clause("e.account_id", account_ids, not_reached)
        sql = (
            "SELECT account_id, day FROM ("
            "SELECT account_id, day, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY day, event) AS n FROM ("
            f"SELECT e.account_id, e.event, MIN(e.day) AS day FROM {event_table} e "
            f"JOIN {_q(KeyFeature._meta.db_table)} k ON k.event = e.event "
            f"WHERE e.day <= %s{where} GROUP BY e.account_id, e.event"
            ") firsts) ranked WHERE n = %s"
        )
        return sql, [until, *params, rule.key_features]
    assert rule.active_users is not None
    where, params = _accounts_clause("account_id", account_ids, not_reached)
    daily = (
        f"SELECT account_id, MIN(day) AS day FROM {account_table} "
        f"WHERE active_users >= %s AND day <= %s{where} GROUP BY account_id"
    )
    daily_params = [rule.active_users, until, *params]
    days = rule.within_days or 1
    if days == 1:
        return daily, daily_params
    # Each person covers the days [d, min(their next active day, d + D)) from each day d they were
    # active: disjoint spans per person, so the people active in the D days ending on a day are the
    # spans that cover it. A running sum of +1 at each span's start and -1 at its end counts them.
    person = "COALESCE(NULLIF(user_id, ''), anonymous_id)"
    types = ", ".join(f"'{t}'" for t in USAGE_TYPES)
    sql = (
        "WITH person_days AS ("
        f"SELECT DISTINCT account_id, {person} AS person, {_day_number('day')} AS d "
        f"FROM {_q(RawEvent._meta.db_table)} WHERE account_id IS NOT NULL AND type IN ({types}) "
        f"AND day <= %s{where}), "
        "spans AS ("
        f"SELECT account_id, d AS starts, COALESCE(LEAD(d) OVER (PARTITION BY account_id, person ORDER BY d), "
        f"d + {days}) AS next_day, d + {days} AS expires FROM person_days), "
        "moves AS ("
        "SELECT account_id, starts AS d, 1 AS delta FROM spans "
        "UNION ALL SELECT account_id, CASE WHEN next_day < expires THEN next_day ELSE expires END, -1 FROM spans), "
        "per_day AS (SELECT account_id, d, SUM(delta) AS delta FROM moves GROUP BY account_id, d), "
        "running AS (SELECT account_id, d, SUM(delta) OVER (PARTITION BY account_id ORDER BY d "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS people FROM per_day) "
        f"SELECT account_id, MIN(day) AS day FROM ("
        f"SELECT account_id, {_day_from_number('MIN(d)')} AS day FROM running WHERE people >= %s GROUP BY account_id "
        f"UNION ALL {daily}) found GROUP BY account_id"
    )
    return sql, [until, *params, rule.active_users, *daily_params]


def first_days(
    rule: MilestoneRule, *, as_of: date, account_ids: Sequence[int] | None = None
) -> dict[int, date]:
    """{account id: the first day the rule held}, read-only (what record_from_usage would insert)."""
    found: dict[int, date] = {}
    for chunk in _chunks(account_ids):
        sql, params = first_days_sql(rule, as_of=as_of, account_ids=chunk)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for account_id, day in cursor.fetchall():
                found[account_id] = _as_date(day)
    return found


def _chunks(account_ids: Iterable[int] | None) -> Iterator[list[int] | None]:
    if account_ids is None:
        yield None
        return
    ids = sorted(set(account_ids))
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- The same in plain Python: the reference the tests hold the SQL to ----------------------------


@dataclass(frozen=True)
class DayOfUse:
    """One account's use on one day: events by name, and the people active (for the reference)."""

    day: date
    events: dict[str, int]
    people: frozenset[str]


def first_day_reference(
    rule: MilestoneRule, days: Iterable[DayOfUse], *, key_features: set[str]
) -> date | None:
    """The first day the rule held for one account, by trying every day in turn (slow and obvious)."""
    by_day = {d.day: d for d in days}
    if not by_day:
        return None
    day, last = min(by_day), max(by_day)
    while day <= last:
        if _holds_on(rule, by_day, day, key_features):
            return day
        day += timedelta(days=1)
    return None


def _holds_on(rule: MilestoneRule, by_day: dict[date, DayOfUse], day: date, key_features: set[str]) -> bool:
    before = [d for d in by_day.values() if d.day <= day]
    if rule.event is not None:
        if rule.within_days is not None:
            before = [d for d in before if (day - d.day).days < rule.within_days]
        return sum(d.events.get(rule.event, 0) for d in before) >= rule.count
    if rule.key_features is not None:
        used = {name for d in before for name, n in d.events.items() if n > 0 and name in key_features}
        return len(used) >= rule.key_features
    assert rule.active_users is not None
    window = [d for d in before if (day - d.day).days < (rule.within_days or 1)]
    return len(set().union(*(d.people for d in window))) >= rule.active_users


# --- Recording what usage shows ------------------------------------------------------------------


def _moment(day: date) -> datetime:
    """When a reach on `day` goes on the timeline: midday of that day, never in the future."""
    return min(timezone.make_aware(datetime.combine(day, time(12))), timezone.now())


def timeline_title(milestone: MilestoneDefinition) -> str:
    """The stored (English) title of a "milestone_reached" timeline entry."""
    return f"Reached milestone {milestone.name}"[:255]


def timeline_data(
    milestone: MilestoneDefinition, reach: MilestoneReached | None = None, **extra: Any
) -> dict:
    data = {
        "milestone": milestone.name,
        "milestone_id": milestone.pk,
        "key": milestone.key,
        "kind": milestone.kind,
        "first_value": milestone.is_first_value,
        **extra,
    }
    return data


def event_payload(milestone: MilestoneDefinition, *, reached_on: date, source: str) -> dict:
    return {
        "milestone_id": milestone.pk,
        "milestone_key": milestone.key,
        "framework_id": milestone.framework_id,
        "kind": milestone.kind,
        "is_first_value": milestone.is_first_value,
        "reached_on": reached_on.isoformat(),
        "source": source,
    }


def record_from_usage(
    *,
    framework: SuccessFramework | None = None,
    account_ids: Iterable[int] | None = None,
    as_of: date | None = None,
) -> int:
    """Record every product milestone reached, as far back as usage goes; returns how many are new.

    Idempotent: a reach already recorded (by a rule, by hand or imported) is left as it is.
    """
    as_of = as_of or timezone.localdate()
    milestones = MilestoneDefinition.objects.filter(kind=MilestoneKind.PRODUCT).select_related("framework")
    if framework is not None:
        milestones = milestones.filter(framework=framework)
    ids = None if account_ids is None else sorted(set(account_ids))
    if ids is not None and not ids:
        return 0
    total = 0
    for milestone in milestones.order_by("framework_id", "position", "id"):
        rule = parse_rule(milestone.rule)
        if rule is None:
            continue
        with transaction.atomic():
            for chunk in _chunks(ids):
                total += _record_milestone(milestone, rule, as_of=as_of, account_ids=chunk)
    return total


def _record_milestone(
    milestone: MilestoneDefinition, rule: MilestoneRule, *, as_of: date, account_ids: list[int] | None
) -> int:
    found_sql, found_params = first_days_sql(
        rule, as_of=as_of, account_ids=account_ids, not_reached=milestone.pk
    )
    walkers = Account.objects.filter(walkers_q(milestone.framework)).order_by().values("pk")
    walkers_sql, walkers_params = walkers.query.sql_with_params()
    table = _q(MilestoneReached._meta.db_table)
    now = timezone.now()
    sql = (
        f"INSERT INTO {table} (account_id, milestone_id, reached_on, source, evidence, evidence_url, "
        "confirmed_by_contact_id, confirmed_by_name, recorded_by_id, recorded_at) "
        f"SELECT found.account_id, %s, found.day, %s, '', '', NULL, '', NULL, %s FROM ({found_sql}) found "
        f"WHERE found.account_id IN ({walkers_sql}) "
        f"AND NOT EXISTS (SELECT 1 FROM {table} r WHERE r.account_id = found.account_id AND r.milestone_id = %s) "
        "ON CONFLICT (account_id, milestone_id) DO NOTHING RETURNING id, account_id, reached_on"
    )
    params = [
        milestone.pk,
        MilestoneSource.RULE.value,
        connection.ops.adapt_datetimefield_value(now),
        *found_params,
        *walkers_params,
        milestone.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        new = [(row_id, account_id, _as_date(day)) for row_id, account_id, day in cursor.fetchall()]
    if new:
        _announce(milestone, new, as_of=as_of, source=MilestoneSource.RULE.value)
    return len(new)


def _announce(
    milestone: MilestoneDefinition, new: list[tuple[int, int, date]], *, as_of: date, source: str
) -> None:
    """Timeline entries for new reaches (each dated its day), domain events for the recent ones."""
    from django.contrib.contenttypes.models import ContentType

    subject_type = ContentType.objects.get_for_model(MilestoneReached)
    title = timeline_title(milestone)
    # Plain rows through one executemany: a backfill writes hundreds of thousands of entries, and
    # model instances would cost most of its time. Each value is written as the ORM would write it.
    ops = connection.ops
    created = ops.adapt_datetimefield_value(timezone.now())
    moments: dict[date, Any] = {}
    rows = []
    for row_id, account_id, day in new:
        if day not in moments:
            moments[day] = ops.adapt_datetimefield_value(_moment(day))
        data = timeline_data(milestone, source=source, reached_on=day.isoformat())
        rows.append(
            (
                account_id,
                "milestone_reached",
                moments[day],
                title,
                "",
                subject_type.pk,
                row_id,
                json.dumps(data),
                created,
            )
        )
    columns = (
        "account_id",
        "kind",
        "occurred_at",
        "title",
        "body",
        "subject_type_id",
        "subject_id",
        "data",
        "created_at",
    )
    table, names = _q(TimelineEntry._meta.db_table), ", ".join(_q(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY: several times faster than executemany there
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", rows
            )
    recent = as_of - timedelta(days=EVENT_DAYS)
    label = subject_type_of(MilestoneReached())
    DomainEvent.objects.bulk_create(
        (
            DomainEvent(
                kind="milestone.reached",
                account_id=account_id,
                subject_type=label,
                subject_id=row_id,
                payload=event_payload(milestone, reached_on=day, source=source),
                occurred_at=_moment(day),
            )
            for row_id, account_id, day in new
            if day >= recent
        ),
        batch_size=2000,
    )


def on_definitions_changed(framework: SuccessFramework) -> int:
    """After a framework's milestones were applied: backfill its product milestones from all history."""
    return record_from_usage(framework=framework)


def record_from_recent_usage() -> int:
    """The cheap check after rollups: only accounts with use today or yesterday can reach something new."""
    today = timezone.localdate()
    active = (
        DailyAccountRollup.objects.filter(day__gte=today - timedelta(days=1))
        .values_list("account_id", flat=True)
        .distinct()
    )
    ids = list(active)
    return record_from_usage(account_ids=ids, as_of=today) if ids else 0


# --- Outcome milestones, by hand -------------------------------------------------------------------


def _check_outcome(account: Account, milestone: MilestoneDefinition) -> None:
    if milestone.kind != MilestoneKind.OUTCOME:
        raise ValidationError(
            {
                "milestone": _("%(name)s is found in product usage; it cannot be set by hand.")
                % {"name": milestone.name}
            }
        )
    if not walks(account, milestone.framework):
        raise ValidationError(
            {"milestone": _("This milestone belongs to a success framework this account does not walk.")}
        )


@transaction.atomic
def record_outcome(
    *,
    account: Account,
    milestone: MilestoneDefinition,
    reached_on: date,
    evidence: str,
    evidence_url: str = "",
    confirmed_by_contact: Contact | None = None,
    confirmed_by_name: str = "",
    actor: User | None,
) -> MilestoneReached:
    """Record that the customer reached an outcome milestone, with the evidence and who confirmed it."""
    _check_outcome(account, milestone)
    evidence, confirmed_by_name, evidence_url = (
        evidence.strip(),
        confirmed_by_name.strip(),
        evidence_url.strip(),
    )
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if reached_on > today:
        errors["reached_on"] = _("The day cannot be in the future.")
    elif reached_on.year < 1900:
        errors["reached_on"] = _("Give a day after 1900.")
    if not evidence:
        errors["evidence"] = _("Say what shows the customer reached it.")
    elif len(evidence) > 5000:
        errors["evidence"] = _("Keep the evidence under 5,000 characters.")
    if len(evidence_url) > 500:
        errors["evidence_url"] = _("The link is too long (500 characters at most).")
    if confirmed_by_contact is not None and confirmed_by_contact.account_id != account.pk:
        errors["confirmed_by_contact"] = _("This contact belongs to another account.")
    if confirmed_by_contact is None and not confirmed_by_name:
        errors["confirmed_by_name"] = _("Say who at the customer confirmed it: a contact or a name.")
    elif len(confirmed_by_name) > 200:
        errors["confirmed_by_name"] = _("The name is too long (200 characters at most).")
    if errors:
        raise ValidationError(errors)
    if evidence_url:
        from django.core.validators import URLValidator

        try:
            URLValidator(schemes=["http", "https"])(evidence_url)
        except ValidationError:
            raise ValidationError({"evidence_url": _("Enter a web address (https://…).")}) from None
    # Lock the account so two people recording the same milestone at once take turns.
    Account.objects.select_for_update().filter(pk=account.pk).exists()
    if MilestoneReached.objects.filter(account=account, milestone=milestone).exists():
        raise ValidationError(
            {
                "milestone": ValidationError(
                    _("This milestone is already recorded for this account."), code="unique"
                )
            }
        )
    reach = MilestoneReached.objects.create(
        account=account,
        milestone=milestone,
        reached_on=reached_on,
        source=MilestoneSource.MANUAL,
        evidence=evidence,
        evidence_url=evidence_url,
        confirmed_by_contact=confirmed_by_contact,
        confirmed_by_name=confirmed_by_name if confirmed_by_contact is None else "",
        recorded_by=actor if actor is not None and actor.pk else None,
    )
    record_on_timeline(
        account=account,
        kind="milestone_reached",
        title=timeline_title(milestone),
        occurred_at=_moment(reached_on),
        body=evidence,
        actor=actor,
        subject=reach,
        data=timeline_data(milestone, source=reach.source, reached_on=reached_on.isoformat()),
    )
    record_event(
        kind="milestone.reached",
        account=account,
        subject=reach,
        actor=actor,
        payload=event_payload(milestone, reached_on=reached_on, source=reach.source),
    )
    record_audit(
        actor=actor,
        action="milestone.recorded",
        instance=account,
        changes={"milestone": [None, milestone.key], "reached_on": [None, reached_on.isoformat()]},
    )
    return reach


@transaction.atomic
def undo_outcome(*, account: Account, milestone: MilestoneDefinition, actor: User | None) -> bool:
    """Take back an outcome milestone recorded by hand (and its timeline entry); False when none was."""
    if milestone.kind != MilestoneKind.OUTCOME:
        raise ValidationError({"milestone": _("Only outcome milestones set by hand can be undone.")})
    reach = MilestoneReached.objects.select_for_update().filter(account=account, milestone=milestone).first()
    if reach is None:
        return False
    from django.contrib.contenttypes.models import ContentType

    TimelineEntry.objects.filter(
        account=account,
        kind="milestone_reached",
        subject_type=ContentType.objects.get_for_model(MilestoneReached),
        subject_id=reach.pk,
    ).delete()
    record_audit(
        actor=actor,
        action="milestone.undone",
        instance=account,
        changes={"milestone": [milestone.key, None], "reached_on": [reach.reached_on.isoformat(), None]},
    )
    reach.delete()
    return True
