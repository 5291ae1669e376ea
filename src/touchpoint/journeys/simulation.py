"""Run a journey (a draft or a live one) against the last N days of history, as it would have happened.

    result = simulate(definition, days=90)
    result.to_json()
    simulate_with_progress(definition, days=90, progress=callback)   # callback(stage, done, total)

The builder page runs it in the background (journeys/simulation_runs.py), showing the progress the
callback hears; the CLI runs `simulate` in its own process. Raw product events are read through
usage/store.py, the one module that reads the raw event store.

Simulated time walks from `now - days` to `now`. Who would have entered, and when, comes from the
history the entry names, each source read in one query for the whole window:

- `event`: the domain events of that kind in the window; `where` reads the payload as
  `entry.payload.*` (entry data {"event", "payload", "event_id"}, key "event:<id>");
- `product_event`: the track events of that name in the window, matched to an account and contact
  as the live trigger matches them; `where` reads `entry.properties.*` (key "product:<id>");
- `date`: renewal dates (every anniversary of a subscription's start while it was live, and its
  current renewal date), subscription starts and account creations whose date plus `days` falls in
  the window; the subject enters when the daily date scan runs that day (its schedule's cron, the
  site's time zone) with {"date", "anchor_date", "days"} (key "renewal:<subscription>:<date>"…);
- `schedule`: every time the cron fires in the window (site time zone), times every subject of the
  audience as of that moment (key "schedule:<time>");
- `manual`: nobody enters by themselves; the result says so in `notes`.

These are the entry data and keys journeys/triggers.py gives live enrollments; under re-entry
"never" the key is "" (one enrollment per subject), "after_exit" refuses a subject with an active
enrollment, "after_days" one who entered less than N days before.

Each candidate is checked as the engine would at that moment: the audience (as of the entry), the
re-entry policy and the one-active rule (one active enrollment per subject and entry key). Each
enrollment is then driven by the interpreter the live engine uses (`interpreter.advance`) with a
`HistoricalContext`, woken at each wait's end until `now`; a wait for an event ends when the event
happened in history before the time-out. Nothing is written: the simulation only reads.

Messages are counted as the delivery would treat them: an email to a contact who unsubscribed or has
no address is not sent; one falling in the quiet hours of the contact's time zone is deferred to
their end; one that would be the contact's (`DeliverySettings.weekly_email_cap` + 1)th in a rolling
7 days is capped. The cap counts only this journey's simulated emails (other journeys' real sends in
the window are not part of a simulation), which `cap_scope` states.

`SimulationResult.to_json()` gives a JSON-serialisable dict with these keys (stable; the CLI's
`--json` and the builder page read them):

    journey            the definition's key
    days, start, end   the window (ISO moments)
    trigger            the entry's trigger
    notes              [str]: what the reader should know (a manual trigger, a missing source…)
    entered            int, enrollments that would have started
    entered_by_day     {"YYYY-MM-DD": int}, by the site's calendar day
    refused            {"audience": int, "reentry": int, "active": int}: candidates turned away
    steps              {step_id: {"reached": int, "waiting": int}} for every step of the definition
                       (waiting: still on that step at `end`)
    paths              [{"steps": [{"step": id, "outcome": str}], "ended": str, "count": int}],
                       most taken first; ended is converted/exited/completed or "active"
    arms               {random step id: {arm: {"entered": int, "converted": int}}}
    outcomes           {"converted": int, "exited": int, "completed": int, "active": int}
    conversions        int (= outcomes.converted)
    effects            {kind: int}: every effect steps made (email, in_app, task, webhook…)
    messages_total     int: emails and in-app messages, one per recipient
    messages           [message], the first MESSAGES_SHOWN in time order, rendered:
                       {"at", "step", "kind", "account_id", "account", "contact_id", "to",
                        "language", "subject", "text", "status", "error"} where status is one of
                       sent, deferred (quiet hours, then sent), capped, unsubscribed, no_address,
                       and error names a template that does not render ("" otherwise)
    delivery           {"sent": int, "deferred": int, "capped": int, "unsubscribed": int,
                        "no_address": int}
    capped             int (= delivery.capped)
    quiet_hours_deferred int (= delivery.deferred)
    weekly_email_cap   int, the cap applied
    cap_scope          str: what the cap counted
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.journeys import interpreter
from touchpoint.journeys.definition import (
    AllOf,
    AnyOf,
    DidCondition,
    FieldCondition,
    JourneyDefinition,
    NotOf,
    walk,
)
from touchpoint.journeys.fields_builtin import ENGAGEMENT_MODELS
from touchpoint.journeys.interpreter import Graph, Position, Subject

MESSAGES_SHOWN = 200  # rendered messages kept in the result; all are counted
CAP_WINDOW = timedelta(days=7)  # as journeys/delivery.py
CAP_SCOPE = "this journey's simulated emails only"
MESSAGE_KINDS = ("email", "in_app")


# --- Result ---------------------------------------------------------------------------------------


@dataclass
class SimulationResult:
    journey: str
    days: int
    start: datetime
    end: datetime
    trigger: str
    notes: list[str] = field(default_factory=list)
    entered: int = 0
    entered_by_day: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    steps: dict[str, dict[str, int]] = field(default_factory=dict)
    paths: Counter[tuple[tuple[tuple[str, str], ...], str]] = field(default_factory=Counter)
    arms: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    effects: Counter[str] = field(default_factory=Counter)
    messages_total: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    delivery: Counter[str] = field(default_factory=Counter)
    weekly_email_cap: int = 0

    @property
    def conversions(self) -> int:
        return self.outcomes["converted"]

    @property
    def capped(self) -> int:
        return self.delivery["capped"]

    @property
    def quiet_hours_deferred(self) -> int:
        return self.delivery["deferred"]

    def to_json(self) -> dict[str, Any]:
        paths = sorted(self.paths.items(), key=lambda item: (-item[1], item[0]))
        return {
            "journey": self.journey,
            "days": self.days,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "trigger": self.trigger,
            "notes": list(self.notes),
            "entered": self.entered,
            "entered_by_day": dict(sorted(self.entered_by_day.items())),
            "refused": {key: self.refused[key] for key in ("audience", "reentry", "active")},
            "steps": {step_id: dict(counts) for step_id, counts in self.steps.items()},
            "paths": [
                {
                    "steps": [{"step": step_id, "outcome": outcome} for step_id, outcome in steps],
                    "ended": ended,
                    "count": count,
                }
                for (steps, ended), count in paths
            ],
            "arms": {step: {arm: dict(c) for arm, c in arms.items()} for step, arms in self.arms.items()},
            "outcomes": {key: self.outcomes[key] for key in ("converted", "exited", "completed", "active")},
            "conversions": self.conversions,
            "effects": dict(sorted(self.effects.items())),
            "messages_total": self.messages_total,
            "messages": [dict(message) for message in self.messages],
            "delivery": {
                key: self.delivery[key]
                for key in ("sent", "deferred", "capped", "unsubscribed", "no_address")
            },
            "capped": self.capped,
            "quiet_hours_deferred": self.quiet_hours_deferred,
            "weekly_email_cap": self.weekly_email_cap,
            "cap_scope": CAP_SCOPE,
        }


# --- History, read once per source ------------------------------------------------------------------


@dataclass
class ContactRow:
    id: int
    account_id: int
    name: str
    email: str
    language: str
    time_zone: str
    external_id: str | None = None
    roles: frozenset[str] = frozenset()
    unsubscribed: bool = False
    product_user: bool = False  # the product knows them (an in-app message can reach them)


@dataclass
class Candidate:
    at: datetime
    subject: Subject
    entry_key: str
    entry_data: dict[str, Any]


class History:
    """What the window's history holds for this definition, each source read in one query."""

    def __init__(self, definition: JourneyDefinition, *, start: datetime, end: datetime) -> None:
        from touchpoint.accounts.models import Account

        self.definition = definition
        self.start, self.end = start, end
        self.accounts: dict[int, dict[str, Any]] = {
            row["id"]: dict(row)
            for row in Account.objects.values(
                "id", "name", "engagement_model", "attributes", "created_at", "language"
            ).order_by("id")
        }
        self._contacts: dict[int, ContactRow] | None = None
        self._renewals: dict[int, list[date]] | None = None
        self._occurrences: dict[tuple[int, str], tuple[list[datetime], list[int | None]]] | None = None
        self._did: dict[tuple[int, int | None, str], list[datetime]] | None = None
        # Health by day, by whether the score is wanted (True) or the grade alone (False).
        self._health: dict[bool, dict[int, tuple[list[date], list[tuple[Any, Any]]]]] = {}
        self.zone = timezone.get_current_timezone()
        self._starts: dict[int, date] | None = None
        self.contacts_by_account: dict[int, list[ContactRow]] = defaultdict(list)

    # Contacts (recipients, contact subjects) -------------------------------------------------------

    @property
    def contacts(self) -> dict[int, ContactRow]:
        if self._contacts is None:
            from touchpoint.accounts.models import Contact, ContactRoleAssignment
            from touchpoint.journeys.models import ConsentStatus, MessagingConsent
            from touchpoint.usage.models import ProductUser

            rows = {
                row["id"]: ContactRow(**row)
                for row in Contact.objects.values(
                    "id", "account_id", "name", "email", "language", "time_zone", "external_id"
                ).order_by("id")
            }
            roles: dict[int, set[str]] = defaultdict(set)
            for contact_id, role in ContactRoleAssignment.objects.values_list("contact_id", "role"):
                roles[contact_id].add(role)
            for contact_id, contact_roles in roles.items():
                if contact_id in rows:
                    rows[contact_id].roles = frozenset(contact_roles)
            for contact_id in MessagingConsent.objects.filter(status=ConsentStatus.UNSUBSCRIBED).values_list(
                "contact_id", flat=True
            ):
                if contact_id in rows:
                    rows[contact_id].unsubscribed = True
            for contact_id in ProductUser.objects.filter(contact__isnull=False).values_list(
                "contact_id", flat=True
            ):
                if contact_id in rows:
                    rows[contact_id].product_user = True
            self._contacts = rows
            for contact in rows.values():
                self.contacts_by_account[contact.account_id].append(contact)
        return self._contacts

    def contacts_of(self, account_id: int) -> list[ContactRow]:
        self.contacts  # noqa: B018 - loads them
        return self.contacts_by_account.get(account_id, [])

    def subjects_of_account(self, account_id: int) -> list[Subject]:
        """The subjects an account-level entry enrolls: the account, or its contacts with the roles."""
        if self.definition.subject == "account":
            return [Subject(account_id)]
        wanted = set(self.definition.audience.roles)
        return [
            Subject(account_id, contact.id)
            for contact in self.contacts_of(account_id)
            if not wanted or contact.roles & wanted
        ]

    def all_subjects(self) -> list[Subject]:
        subjects: list[Subject] = []
        for account_id in self.accounts:
            subjects.extend(self.subjects_of_account(account_id))
        return subjects

    # Dates ----------------------------------------------------------------------------------------

    @property
    def renewals(self) -> dict[int, list[date]]:
        """Each account's renewal dates: past anniversaries while its subscriptions were live, and the next."""
        if self._renewals is None:
            self._renewals = defaultdict(list)
            for _sub_id, account_id, when in self.renewal_dates():
                self._renewals[account_id].append(when)
            for dates in self._renewals.values():
                dates.sort()
        return self._renewals

    def renewal_dates(self) -> Iterable[tuple[int, int, date]]:
        from touchpoint.revenue.models import Subscription

        horizon = self.end.date() + timedelta(days=3660)
        for row in Subscription.objects.values(
            "id", "account_id", "started_on", "term_months", "renewal_date", "canceled_on"
        ).order_by("id"):
            seen: set[date] = set()
            term = max(row["term_months"] or 12, 1)
            last = row["renewal_date"] or row["canceled_on"] or horizon
            if row["canceled_on"] is not None:
                last = min(last, row["canceled_on"])
            step = 1
            while step < 1000:
                when = row["started_on"] + relativedelta(months=term * step)
                if when > last:
                    break
                seen.add(when)
                step += 1
            if row["renewal_date"] is not None and row["canceled_on"] is None:
                seen.add(row["renewal_date"])
            for when in sorted(seen):
                yield row["id"], row["account_id"], when

    def anchor_date(self, account_id: int, anchor: str, at: datetime) -> date | None:
        day = self.local_day(at)
        if anchor == "renewal":
            dates = self.renewals.get(account_id, [])
            index = bisect.bisect_left(dates, day)
            return dates[index] if index < len(dates) else None
        if anchor == "subscription_start":
            return self.starts.get(account_id)
        return None

    @property
    def starts(self) -> dict[int, date]:
        if self._starts is None:
            from touchpoint.revenue.models import Subscription

            starts: dict[int, date] = {}
            for account_id, started_on in Subscription.objects.values_list(
                "account_id", "started_on"
            ).order_by("started_on", "id"):
                starts.setdefault(account_id, started_on)
            self._starts = starts
        return self._starts

    # Events: waits and `did` ------------------------------------------------------------------------

    def _event_names(self) -> tuple[set[str], set[str], int]:
        """(names waits wait for, names `did` conditions count, the longest `within_days`)."""
        waits: set[str] = set()
        counted: set[str] = set()
        longest = 0
        for step in walk(self.definition.steps):
            if step.type == "wait" and step.event:
                waits.add(step.event)
        for condition in self._conditions():
            for leaf in _leaves(condition):
                if isinstance(leaf, DidCondition):
                    counted.add(leaf.did)
                    longest = max(longest, leaf.within_days)
        return waits, counted, longest

    def occurrences(self, account_id: int, name: str) -> tuple[list[datetime], list[int | None]]:
        """When the account's events of that name happened (sorted), and the contact of each."""
        if self._occurrences is None:
            self._occurrences = self._load_occurrences()
        return self._occurrences.get((account_id, name), ([], []))

    def _load_occurrences(self) -> dict[tuple[int, str], tuple[list[datetime], list[int | None]]]:
        """The events waits wait for, as journeys/triggers.py hands them to `engine.notify_event`:
        domain events of those kinds and product track events of those names. Two queries."""
        from touchpoint.events.models import DomainEvent

        names, _counted, _longest = self._event_names()
        found: dict[tuple[int, str], list[tuple[datetime, int | None]]] = defaultdict(list)
        if names:
            for kind, account_id, subject_type, subject_id, occurred_at in (
                DomainEvent.objects.filter(
                    kind__in=names, occurred_at__gte=self.start, occurred_at__lte=self.end
                )
                .exclude(account_id__isnull=True)
                .values_list("kind", "account_id", "subject_type", "subject_id", "occurred_at")
                .iterator(chunk_size=5000)
            ):
                contact = subject_id if subject_type == "accounts.contact" else None
                if account_id is not None:
                    found[(account_id, kind)].append((occurred_at, contact))
            for name in sorted(names):
                for _id, account_id, contact_id, _user, _properties, timestamp in self.product_events(
                    {name}, since=self.start
                ):
                    found[(account_id, name)].append((timestamp, contact_id))
        index: dict[tuple[int, str], tuple[list[datetime], list[int | None]]] = {}
        for key, rows in found.items():
            rows.sort(key=lambda row: row[0])
            index[key] = ([row[0] for row in rows], [row[1] for row in rows])
        return index

    def first_event_after(
        self, subject: Subject, name: str, after: datetime, until: datetime
    ) -> datetime | None:
        """The first event that would have woken this enrollment's wait in [after, until], as
        `engine.notify_event` wakes: an account's event wakes all its enrollments, a person's event
        the enrollments of that person and of the account."""
        moments, contacts = self.occurrences(subject.account_id, name)
        for index in range(bisect.bisect_left(moments, after), len(moments)):
            if moments[index] > until:
                return None
            contact = contacts[index]
            if contact is None or subject.contact_id is None or contact == subject.contact_id:
                return moments[index]
        return None

    def did_count(self, condition: DidCondition, subject: Subject, at: datetime) -> int:
        """`conditions.did` over the preloaded events: the account's (or the person's) product events of
        that name in (at - within_days, at], as stored (usage.selectors.event_count)."""
        if self._did is None:
            self._did = self._load_did()
        key = (subject.account_id, subject.contact_id, condition.did)
        moments = self._did.get(key, [])
        since = at - timedelta(days=condition.within_days)
        return bisect.bisect_right(moments, at) - bisect.bisect_right(moments, since)

    def _load_did(self) -> dict[tuple[int, int | None, str], list[datetime]]:
        from touchpoint.usage import store
        from touchpoint.usage.rollups import USAGE_TYPES

        _waits, names, longest = self._event_names()
        found: dict[tuple[int, int | None, str], list[datetime]] = defaultdict(list)
        if not names:
            return found
        since = self.start - timedelta(days=longest + 1)
        for name, account_id, contact_id, timestamp in store.event_times(
            names, types=USAGE_TYPES, after=since, until=self.end
        ):
            found[(account_id, None, name)].append(timestamp)
            if contact_id is not None:
                found[(account_id, contact_id, name)].append(timestamp)
        for moments in found.values():
            moments.sort()
        return found

    # Health by day ----------------------------------------------------------------------------------

    def health_on(self, account_id: int, day: date, *, score: bool = True) -> tuple[Any, Any] | None:
        """(grade, score) of the account's latest score on or before that day (health.selectors.score_on).

        With `score=False` only the grade is right (the score is the one of the day the grade last
        changed): a journey that reads the grade alone loads far fewer rows.
        """
        series = self._health.get(score)
        if series is None:
            series = self._health[score] = self._load_health(score=score)
        found = series.get(account_id)
        if found is None:
            return None
        days, values = found
        index = bisect.bisect_right(days, day) - 1
        return values[index] if index >= 0 else None

    def _load_health(self, *, score: bool) -> dict[int, tuple[list[date], list[tuple[Any, Any]]]]:
        """The window's scores, and each account's last score before it: plain SQL (the rows are many,
        and the ORM's date conversion of each would cost more than the read).

        Only the days the value asked for changed come back: "the latest score on or before the day"
        is the same from the first day of a run of equal values to its last. The grade moves far less
        often than the daily score (bench/journeys.py: 900,000 rows → 180,000 for the grade alone).
        """
        from django.db import connection

        from touchpoint.health.models import HealthScore

        table = HealthScore._meta.db_table
        first, last = self.local_day(self.start), self.local_day(self.end)
        differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
        changed = f"grade {differs} prev_grade" + (f" OR score {differs} prev_score" if score else "")
        series: dict[int, tuple[list[date], list[tuple[Any, Any]]]] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT account_id, day, grade, score FROM ("
                " SELECT account_id, day, grade, score,"
                "  LAG(day) OVER w AS prev_day, LAG(grade) OVER w AS prev_grade, LAG(score) OVER w AS prev_score"
                " FROM ("
                f"  SELECT s.account_id, s.day, s.grade, s.score FROM {table} s"
                f"  JOIN (SELECT account_id, MAX(day) AS day FROM {table} WHERE day < %s GROUP BY account_id) b"
                "   ON b.account_id = s.account_id AND b.day = s.day"
                "  UNION ALL"
                f"  SELECT account_id, day, grade, score FROM {table} WHERE day >= %s AND day <= %s"
                " ) scores"
                " WINDOW w AS (PARTITION BY account_id ORDER BY day)"
                f") runs WHERE prev_day IS NULL OR {changed} "
                "ORDER BY account_id, day",
                [first, first, last],
            )
            while rows := cursor.fetchmany(20000):
                for account, scored_on, grade, value in rows:
                    days, values = series.setdefault(account, ([], []))
                    days.append(scored_on if isinstance(scored_on, date) else date.fromisoformat(scored_on))
                    values.append((grade, value))
        return series

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def todays_fields(self) -> set[str]:
        """The fields the definition reads whose history is not kept (journeys/fields_builtin.py)."""
        found: set[str] = set()
        for condition in self._conditions():
            for leaf in _leaves(condition):
                name = getattr(leaf, "field", "")
                if (
                    name in TODAYS_FIELDS
                    or name == "account.engagement_model"
                    or name.startswith("account.attributes.")
                ):
                    found.add(name)
        if self.definition.audience.roles:
            found.add("contact.role")
        if any(getattr(step, "by_engagement", False) for step in walk(self.definition.steps)):
            found.add("account.engagement_model")
        return found

    def _conditions(self) -> Iterable[Any]:
        definition = self.definition
        if definition.audience.when is not None:
            yield definition.audience.when
        if definition.entry.where is not None:
            yield definition.entry.where
        if definition.goal is not None:
            yield definition.goal
        yield from definition.exit_when
        for step in walk(definition.steps):
            if step.type == "split":
                yield step.when

    # Who would have entered ------------------------------------------------------------------------

    def candidates(self, notes: list[str]) -> list[Candidate]:
        entry = self.definition.entry
        if entry.trigger == "event":
            return self._domain_event_candidates()
        if entry.trigger == "product_event":
            return self._product_event_candidates()
        if entry.trigger == "date":
            return self._date_candidates()
        if entry.trigger == "schedule":
            return self._schedule_candidates()
        notes.append(
            _(
                "This journey's entry is manual: nobody enters by themselves, so a simulation has no one to follow."
            )
        )
        return []

    def _domain_event_candidates(self) -> list[Candidate]:
        from touchpoint.events.models import DomainEvent

        found: list[Candidate] = []
        rows = (
            DomainEvent.objects.filter(
                kind=self.definition.entry.event, occurred_at__gte=self.start, occurred_at__lte=self.end
            )
            .exclude(account_id__isnull=True)
            .order_by("occurred_at", "id")
            .values_list("id", "kind", "account_id", "subject_type", "subject_id", "payload", "occurred_at")
        )
        for event_id, kind, account_id, subject_type, subject_id, payload, occurred_at in rows.iterator(
            chunk_size=5000
        ):
            if account_id not in self.accounts:
                continue  # an event of an account since deleted enrolls no one
            contact_id = subject_id if subject_type == "accounts.contact" else None
            data = {"event": kind, "payload": payload, "event_id": event_id}
            for subject in self.subjects_for(account_id, contact_id):
                found.append(Candidate(occurred_at, subject, f"event:{event_id}", data))
        return found

    def subjects_for(self, account_id: int, contact_id: int | None) -> list[Subject]:
        """Who an event of this account (and maybe contact) enrolls: as journeys/triggers.py decides."""
        if self.definition.subject == "account":
            return [Subject(account_id)]
        contact = self.contacts.get(contact_id) if contact_id is not None else None
        if contact is not None and contact.account_id == account_id:
            wanted = set(self.definition.audience.roles)
            return [Subject(account_id, contact.id)] if not wanted or contact.roles & wanted else []
        return self.subjects_of_account(account_id)

    def _product_event_candidates(self) -> list[Candidate]:
        found: list[Candidate] = []
        name = self.definition.entry.product_event or ""
        for event_id, account_id, contact_id, user_id, properties, timestamp in self.product_events(
            {name}, since=self.start, with_properties=True
        ):
            if self.definition.subject == "contact" and contact_id is None:
                continue  # a contact journey needs the person who did it
            data = {
                "event": name,
                "properties": properties if isinstance(properties, dict) else {},
                "product_event_id": event_id,
                "user_id": user_id,
                "timestamp": timestamp.isoformat(),
            }
            for subject in self.subjects_for(account_id, contact_id):
                found.append(Candidate(timestamp, subject, f"product:{event_id}", data))
        found.sort(key=lambda candidate: candidate.at)
        return found

    def product_events(
        self, names: set[str], *, since: datetime, with_properties: bool = False
    ) -> list[tuple[int, int, int | None, str, Any, datetime]]:
        """(id, account, contact, user id, properties, timestamp) of the track events with these names.

        One query. An event stored before its user or group was known is matched now, as the live
        trigger matches it when it reads the event: the group id to an account's external id, the
        user id to a contact's external id or to the product user's account and contact.
        """
        from touchpoint.accounts.models import Contact
        from touchpoint.usage import store
        from touchpoint.usage.models import ProductUser

        rows = list(
            store.track_events_in(names, since=since, until=self.end, with_properties=with_properties)
        )
        groups = {row["group_id"] for row in rows if row["account_id"] is None and row["group_id"]}
        users = {
            row["user_id"]
            for row in rows
            if row["user_id"] and (row["account_id"] is None or row["contact_id"] is None)
        }
        by_group: dict[str, int] = {}
        people: dict[str, tuple[int, int | None]] = {}
        if groups:
            by_group = {str(external_id): pk for external_id, pk in self.accounts_by_external_id(groups)}
        if users:
            for external_id, account_pk, pk in Contact.objects.filter(external_id__in=users).values_list(
                "external_id", "account_id", "pk"
            ):
                people[str(external_id)] = (account_pk, pk)
            for user_id, user_account, user_contact in ProductUser.objects.filter(
                user_id__in=users
            ).values_list("user_id", "account_id", "contact_id"):
                if user_id not in people and user_account is not None:
                    people[user_id] = (user_account, user_contact)
        found: list[tuple[int, int, int | None, str, Any, datetime]] = []
        for row in rows:
            account_id: int | None = row["account_id"]
            contact_id: int | None = row["contact_id"]
            if account_id is None:
                account_id = by_group.get(row["group_id"])
            person = people.get(row["user_id"])
            if person is not None:
                account_id = account_id or person[0]
                if contact_id is None and person[0] == account_id:
                    contact_id = person[1]
            if account_id is None or account_id not in self.accounts:
                continue  # a user of no known account enrolls no one
            found.append(
                (row["id"], account_id, contact_id, row["user_id"], row.get("properties"), row["timestamp"])
            )
        return found

    def accounts_by_external_id(self, external_ids: set[str]) -> list[tuple[str, int]]:
        from touchpoint.accounts.models import Account

        rows = Account.objects.filter(external_id__in=external_ids).values_list("external_id", "pk")
        return [(str(external_id), pk) for external_id, pk in rows]

    def _date_candidates(self) -> list[Candidate]:
        entry = self.definition.entry
        offset = timedelta(days=entry.days)
        first, last = timezone.localtime(self.start).date(), timezone.localtime(self.end).date()
        found: list[Candidate] = []

        def add(account_id: int, anchor_day: date, what: str) -> None:
            day = anchor_day + offset
            if not first <= day <= last or account_id not in self.accounts:
                return
            moment = _date_scan_time(day)
            if not self.start <= moment <= self.end:
                return
            data = {"date": entry.date, "anchor_date": anchor_day.isoformat(), "days": entry.days}
            for subject in self.subjects_of_account(account_id):
                found.append(Candidate(moment, subject, f"{what}:{anchor_day.isoformat()}", data))

        if entry.date == "renewal":
            for sub_id, account_id, when in self.renewal_dates():
                add(account_id, when, f"renewal:{sub_id}")
        elif entry.date == "subscription_start":
            from touchpoint.revenue.models import Subscription

            for sub_id, account_id, started_on in Subscription.objects.values_list(
                "id", "account_id", "started_on"
            ).order_by("id"):
                add(account_id, started_on, f"subscription_start:{sub_id}")
        else:
            for account_id, row in self.accounts.items():
                add(account_id, timezone.localtime(row["created_at"]).date(), f"account_created:{account_id}")
        found.sort(key=lambda candidate: candidate.at)
        return found

    def _schedule_candidates(self) -> list[Candidate]:
        from croniter import croniter

        cron = croniter(self.definition.entry.cron or "", timezone.localtime(self.start))
        subjects = self.all_subjects()
        found: list[Candidate] = []
        while True:
            fire: datetime = cron.get_next(datetime)
            if fire > self.end:
                break
            data = {"scheduled_at": fire.isoformat()}
            for subject in subjects:
                found.append(Candidate(fire, subject, f"schedule:{fire.isoformat()}", data))
        return found


DATE_SCAN_SCHEDULE = "journeys.date_entries"
RECHECK_SCHEDULE = "journeys.recheck"
WAKE, RECHECK = 0, 1


def _schedule(name: str) -> Any:
    from touchpoint.scheduler.registry import registered_schedules

    return next((schedule for schedule in registered_schedules() if schedule.name == name), None)


def _fire_times(name: str, start: datetime, end: datetime) -> list[datetime]:
    """When the registered schedule `name` fired in (start, end]; none when it is not registered."""
    schedule = _schedule(name)
    found: list[datetime] = []
    if schedule is None:
        return found
    moment = schedule.next_after(start)
    while moment <= end:
        found.append(moment)
        moment = schedule.next_after(moment)
    return found


def _date_scan_time(day: date) -> datetime:
    """When the live daily date scan runs on that day (its schedule's cron, site time); else the day's start."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    schedule = _schedule(DATE_SCAN_SCHEDULE)
    if schedule is None:
        return start
    return schedule.next_after(start - timedelta(microseconds=1))


def _event_key(subject: Subject) -> str:
    return (
        f"contact:{subject.contact_id}" if subject.contact_id is not None else f"account:{subject.account_id}"
    )


def _leaves(condition: Any) -> Iterable[Any]:
    if isinstance(condition, AllOf):
        for part in condition.all:
            yield from _leaves(part)
    elif isinstance(condition, AnyOf):
        for part in condition.any:
            yield from _leaves(part)
    elif isinstance(condition, NotOf):
        yield from _leaves(condition.not_)
    else:
        yield condition


# --- The context: the world as it was --------------------------------------------------------------


# Fields whose resolvers (journeys/fields_builtin.py) read one value per calendar day, or today's
# value whatever the moment: their answer is remembered per (field, subject, day) or (field, subject).
BY_DAY_FIELDS = frozenset(
    {
        "account.mrr",
        "account.renewal_date",
        "account.days_to_renewal",
        "account.status",
        "account.days_since_created",
        "contact.days_since_created",
    }
)
TODAYS_FIELDS = frozenset(
    {
        "account.segment",
        "account.language",
        "account.owner_email",
        "account.tags",
        "contact.role",
        "contact.language",
        "contact.email_domain",
        "contact.title",
    }
)


class HistoricalContext:
    """interpreter.Context over history: conditions hold or not as of the simulated moment.

    Conditions are judged by `conditions.compare`, the engine's own comparison, on the value
    `conditions.value_of` reads as of `at`, except that the values the simulation has already read
    for the whole window come from memory: health grade and score by day, the engagement model, the
    account's attributes, and `did:` counts of product events (tests hold each equal to the
    registry's resolver). Other fields are asked of their resolver once per subject and day.
    """

    def __init__(self, history: History) -> None:
        self.history = history
        self._memo: dict[tuple[str, Subject, date | None], Any] = {}

    def holds(
        self, condition: Any, subject: Subject, at: datetime, entry_data: dict[str, Any] | None
    ) -> bool:
        from touchpoint.journeys import conditions

        entry = entry_data or {}
        if isinstance(condition, FieldCondition):
            return conditions.compare(
                condition.op, self.value_of(condition.field, subject, at, entry), condition.value
            )
        if isinstance(condition, DidCondition):
            return self.history.did_count(condition, subject, at) >= condition.min_count
        if isinstance(condition, AllOf):
            return all(self.holds(part, subject, at, entry) for part in condition.all)
        if isinstance(condition, AnyOf):
            return any(self.holds(part, subject, at, entry) for part in condition.any)
        if isinstance(condition, NotOf):
            return not self.holds(condition.not_, subject, at, entry)
        raise TypeError(f"not a condition: {condition!r}")

    def value_of(self, name: str, subject: Subject, at: datetime, entry: dict[str, Any]) -> Any:
        from touchpoint.journeys import conditions

        if name.startswith("entry."):
            return conditions.value_of(name, subject, at, entry)
        account = self.history.accounts.get(subject.account_id)
        if name in ("account.health_grade", "account.health_score"):
            health = self.history.health_on(
                subject.account_id, self.history.local_day(at), score=name == "account.health_score"
            )
            if health is None:
                return None
            return health[0] if name == "account.health_grade" else health[1]
        if name == "account.engagement_model":
            return ENGAGEMENT_MODELS.get(account["engagement_model"]) if account is not None else None
        if name.startswith("account.attributes."):
            attributes = account["attributes"] if account is not None else None
            attribute = name.removeprefix("account.attributes.")
            return attributes.get(attribute) if isinstance(attributes, dict) else None
        if name in BY_DAY_FIELDS or name in TODAYS_FIELDS:
            key = (name, subject, self.history.local_day(at) if name in BY_DAY_FIELDS else None)
            if key not in self._memo:
                self._memo[key] = conditions.value_of(name, subject, at, entry)
            return self._memo[key]
        return conditions.value_of(name, subject, at, entry)

    def engagement_model(self, subject: Subject, at: datetime) -> str:
        account = self.history.accounts.get(subject.account_id)
        if account is None:
            return "hybrid"
        return ENGAGEMENT_MODELS.get(account["engagement_model"], "hybrid")

    def anchor_date(self, subject: Subject, anchor: str, at: datetime) -> date | None:
        return self.history.anchor_date(subject.account_id, anchor, at)


# --- The run ------------------------------------------------------------------------------------------


@dataclass
class SimEnrollment:
    subject: Subject
    entry_key: str
    entry_data: dict[str, Any]
    entered_at: datetime
    position: Position
    seed: str
    path: list[tuple[str, str]] = field(default_factory=list)
    ended: str = ""
    generation: int = 0  # bumped at each advance: a queued wake or re-check of an older one is stale


@dataclass
class Slot:
    """What the re-entry rules remember of one subject (engine._may_enter and the unique keys)."""

    active_keys: set[str] = field(default_factory=set)
    used_keys: set[str] = field(default_factory=set)
    ended_at: datetime | None = None


@dataclass
class PendingMessage:
    at: datetime
    step_id: str
    kind: str
    message: str
    account_id: int
    contact: ContactRow | None
    entry_data: dict[str, Any]
    status: str
    survey: str = ""  # a survey step's message (journeys/survey_steps.py): its words come when it is sent


def simulate(
    definition: JourneyDefinition,
    *,
    days: int = 90,
    now: datetime | None = None,
) -> SimulationResult:
    """What the journey would have done over the last `days` days: entries, paths, messages, conversions.

    Reads only; `notes` (in the active language) say what the reader should know about the result.
    """
    return simulate_with_progress(definition, days=days, now=now, progress=None)


# What a simulation is doing, as `progress(stage, done, total)` hears it: reading the window's
# history, following the entries (done of total candidates), rendering the messages shown.
STAGES = ("history", "entries", "messages")
PROGRESS_EVERY = 500  # candidates between two reports


def simulate_with_progress(
    definition: JourneyDefinition,
    *,
    days: int = 90,
    now: datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> SimulationResult:
    """`simulate`, telling `progress(stage, done, total)` how far it got (see STAGES) as it goes.

    The background run (journeys/simulation_runs.py) shows it on the builder page; an exception the
    callback raises stops the simulation.
    """
    report = progress or _no_progress
    if days < 1:
        raise ValueError("a simulation covers at least one day")
    end = now or timezone.now()
    start = end - timedelta(days=days)
    history = History(definition, start=start, end=end)
    context = HistoricalContext(history)
    result = SimulationResult(
        journey=definition.key, days=days, start=start, end=end, trigger=definition.entry.trigger
    )
    graph = Graph(definition)
    for step in walk(definition.steps):
        result.steps[step.id] = {"reached": 0, "waiting": 0}
        if step.type == "random":
            result.arms[step.id] = {arm.arm: {"entered": 0, "converted": 0} for arm in step.arms}
    result.weekly_email_cap = _weekly_email_cap()
    run = _Run(definition, graph, history, context, result, report)
    report("history", 0, 0)
    run.go(history.candidates(result.notes))
    run.finish()
    todays = sorted(history.todays_fields())
    if todays:
        result.notes.append(
            _(
                "These are read as they are today, not as they were then (their history is not kept): %(fields)s."
            )
            % {"fields": ", ".join(todays)}
        )
    result.notes.append(
        _("The weekly email cap counts only this journey's simulated emails, not other journeys' sends.")
    )
    return result


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def _weekly_email_cap() -> int:
    from touchpoint.journeys.models import DeliverySettings

    row = DeliverySettings.objects.filter(pk=1).first()  # .load() would create the row: a write
    return int((row or DeliverySettings()).weekly_email_cap)


def _quiet_hours() -> tuple[time, time]:
    from touchpoint.journeys.models import DeliverySettings

    row = DeliverySettings.objects.filter(pk=1).first() or DeliverySettings()
    return _as_time(row.quiet_hours_start), _as_time(row.quiet_hours_end)


def _as_time(value: Any) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


class _Run:
    def __init__(
        self,
        definition: JourneyDefinition,
        graph: Graph,
        history: History,
        context: Any,
        result: SimulationResult,
        report: Callable[[str, int, int], None] = _no_progress,
    ) -> None:
        self.report = report
        self.definition = definition
        self.graph = graph
        self.history = history
        self.context = context
        self.result = result
        self.end = result.end
        self.slots: dict[Subject, Slot] = {}
        self.queue: list[tuple[datetime, int, int, Any]] = []
        self.sequence = 0
        self.enrollments: list[SimEnrollment] = []
        self.sent_by_contact: dict[int, list[datetime]] = defaultdict(list)
        self.pending: list[PendingMessage] = []
        self.quiet_start, self.quiet_end = _quiet_hours()
        self.zones: dict[str, ZoneInfo] = {}
        self.rechecks: list[datetime] = []
        if definition.goal is not None or definition.exit_when:
            self.rechecks = _fire_times(RECHECK_SCHEDULE, result.start, result.end)

    def push(self, at: datetime, kind: int, enrollment: SimEnrollment) -> None:
        self.sequence += 1
        heapq.heappush(self.queue, (at, kind, self.sequence, (enrollment, enrollment.generation)))

    def go(self, candidates: list[Candidate]) -> None:
        # Wakes and re-checks before entries at the same moment, so an enrollment that ends at t
        # frees its subject for an entry at t, as the engine's clock would.
        candidates.sort(key=lambda candidate: candidate.at)
        index = 0
        while index < len(candidates) or self.queue:
            if self.queue and (index >= len(candidates) or self.queue[0][0] <= candidates[index].at):
                at, kind, _seq, (enrollment, generation) = heapq.heappop(self.queue)
                if enrollment.ended or generation != enrollment.generation:
                    continue  # it moved on (or ended) since this was queued
                if kind == WAKE:
                    self.step(enrollment, at)
                else:
                    self.recheck(enrollment, at)
            else:
                if index % PROGRESS_EVERY == 0:
                    self.report("entries", index, len(candidates))
                self.enter(candidates[index])
                index += 1
        self.report("entries", len(candidates), len(candidates))

    def enter(self, candidate: Candidate) -> None:
        subject = candidate.subject
        entry_where = self.definition.entry.where
        if entry_where is not None and not self.context.holds(
            entry_where, subject, candidate.at, candidate.entry_data
        ):
            return  # the trigger does not hand it to the engine: not a refusal
        audience = self.definition.audience.when
        if audience is not None and not self.context.holds(
            audience, subject, candidate.at, candidate.entry_data
        ):
            self.result.refused["audience"] += 1
            return
        policy = self.definition.reentry.policy
        # As journeys/triggers.py: under "never" every entry has the key "" (one per subject).
        entry_key = "" if policy == "never" else candidate.entry_key
        slot = self.slots.setdefault(subject, Slot())
        # As engine._may_enter: never (anyone who entered before), not while active, after_days
        # counted from the last end; then the unique key (version, subject, entry key).
        if policy == "never" and slot.used_keys:
            self.result.refused["reentry"] += 1
            return
        if slot.active_keys:
            self.result.refused["active"] += 1
            return
        if (
            policy == "after_days"
            and slot.ended_at is not None
            and candidate.at - slot.ended_at < timedelta(days=self.definition.reentry.days or 0)
        ) or entry_key in slot.used_keys:
            self.result.refused["reentry"] += 1
            return
        slot.active_keys.add(entry_key)
        slot.used_keys.add(entry_key)
        enrollment = SimEnrollment(
            subject=subject,
            entry_key=entry_key,
            entry_data=candidate.entry_data,
            entered_at=candidate.at,
            position=interpreter.start(self.graph, candidate.at),
            seed=f"{_event_key(subject)}:{candidate.entry_key}",
        )
        self.enrollments.append(enrollment)
        self.result.entered += 1
        self.result.entered_by_day[self.history.local_day(candidate.at).isoformat()] += 1
        self.result.steps[self.graph.first]["reached"] += 1
        self.step(enrollment, candidate.at)

    def step(self, enrollment: SimEnrollment, at: datetime) -> None:
        enrollment.generation += 1
        outcome = interpreter.advance(
            self.graph,
            enrollment.position,
            subject=enrollment.subject,
            now=at,
            context=self.context,
            seed=enrollment.seed,
            entry_data=enrollment.entry_data,
        )
        for visit in outcome.visits:
            self.result.steps[visit.step_id]["reached"] += 1
        for visit in outcome.left:
            enrollment.path.append((visit.step_id, visit.outcome))
        for effect in outcome.effects:
            self.effect(enrollment, effect, at)
        if outcome.ended:
            self.close(enrollment, outcome.ended, at)
            return
        position = outcome.position
        enrollment.position = position
        wake = position.wake_at
        if position.waiting_for and position.event_seen_at is None and wake is not None:
            seen = self.history.first_event_after(
                enrollment.subject, position.waiting_for, position.step_entered_at, min(wake, self.end)
            )
            if seen is not None:
                position.event_seen_at = wake = seen  # engine.notify_event: wake now, event path
        if wake is not None and wake <= self.end:
            self.push(max(wake, at), WAKE, enrollment)
        self.queue_recheck(enrollment, after=at, before=wake)

    def queue_recheck(self, enrollment: SimEnrollment, *, after: datetime, before: datetime | None) -> None:
        """The daily re-check (engine.recheck_active) advances every waiting enrollment, which ends it
        when its goal or an exit rule holds by then."""
        if not self.rechecks:
            return
        index = bisect.bisect_right(self.rechecks, after)
        if index < len(self.rechecks) and (before is None or self.rechecks[index] < before):
            self.push(self.rechecks[index], RECHECK, enrollment)

    def recheck(self, enrollment: SimEnrollment, at: datetime) -> None:
        # What advance would do first: the goal, then the exit rules; if neither holds it only waits on
        # (same step, same wake), so the advance is made only when one does.
        definition, subject, entry = self.definition, enrollment.subject, enrollment.entry_data
        if (definition.goal is not None and self.context.holds(definition.goal, subject, at, entry)) or any(
            self.context.holds(rule, subject, at, entry) for rule in definition.exit_when
        ):
            self.step(enrollment, at)
            return
        self.queue_recheck(enrollment, after=at, before=enrollment.position.wake_at)

    def close(self, enrollment: SimEnrollment, ended: str, at: datetime) -> None:
        enrollment.ended = ended
        slot = self.slots[enrollment.subject]
        slot.active_keys.discard(enrollment.entry_key)
        slot.ended_at = at
        self.result.outcomes[ended] += 1
        self.result.paths[(tuple(enrollment.path), ended)] += 1
        if ended == "converted":
            for step_id, arm in enrollment.position.choices.items():
                if step_id in self.result.arms and arm in self.result.arms[step_id]:
                    self.result.arms[step_id][arm]["converted"] += 1
        self._count_arms(enrollment)

    def _count_arms(self, enrollment: SimEnrollment) -> None:
        for step_id, arm in enrollment.position.choices.items():
            if step_id in self.result.arms and arm in self.result.arms[step_id]:
                self.result.arms[step_id][arm]["entered"] += 1

    def finish(self) -> None:
        for enrollment in self.enrollments:
            if enrollment.ended:
                continue
            self.result.outcomes["active"] += 1
            self.result.paths[(tuple(enrollment.path), "active")] += 1
            if enrollment.position.step_id:
                self.result.steps[enrollment.position.step_id]["waiting"] += 1
            self._count_arms(enrollment)
        self.render_shown()

    # Effects ----------------------------------------------------------------------------------------

    def effect(self, enrollment: SimEnrollment, effect: interpreter.Effect, at: datetime) -> None:
        self.result.effects[effect.kind] += 1
        if effect.kind not in MESSAGE_KINDS:
            return
        for contact in self.recipients(enrollment.subject, effect.params.get("to") or ["subject"]):
            self.result.messages_total += 1
            status, moment = "sent", at
            if contact is None:
                status = "no_address"  # nobody to write to (the engine's "no_recipient")
            elif effect.kind == "in_app":
                # As the engine: sent when the product knows the person (no consent or cap for in-app).
                status = "sent" if contact.external_id or contact.product_user else "no_address"
            elif not contact.email:
                status = "no_address"
            elif contact.unsubscribed:
                status = "unsubscribed"
            else:
                moment = self.after_quiet_hours(contact, at)
                status = "deferred" if moment != at else "sent"
                if self.over_cap(contact.id, moment):
                    status = "capped"
                else:
                    bisect.insort(self.sent_by_contact[contact.id], moment)
            self.result.delivery[status] += 1
            if len(self.pending) < MESSAGES_SHOWN:
                self.pending.append(
                    PendingMessage(
                        at=moment,
                        step_id=effect.step_id,
                        kind=effect.kind,
                        message=str(effect.params.get("message", "")),
                        account_id=enrollment.subject.account_id,
                        contact=contact,
                        entry_data=enrollment.entry_data,
                        status=status,
                        survey=str(effect.params.get("survey", "")),
                    )
                )

    def recipients(self, subject: Subject, to: list[str]) -> list[ContactRow | None]:
        """The contacts a message goes to: the subject contact, or the account's contacts by role.

        An account subject's "subject" is every contact of the account; nobody to write to gives one
        `None` (counted as no_address), as the delivery would record it.
        """
        found: dict[int, ContactRow] = {}
        for name in to:
            if name == "subject" and subject.contact_id is not None:
                contact = self.history.contacts.get(subject.contact_id)
                if contact is not None:
                    found[contact.id] = contact
            else:
                for contact in self.history.contacts_of(subject.account_id):
                    if name == "subject" or name in contact.roles:
                        found[contact.id] = contact
        return list(found.values()) or [None]

    def over_cap(self, contact_id: int, moment: datetime) -> bool:
        """delivery's rule: the person already got `weekly_email_cap` emails since moment - 7 days
        (0: no cap); here only this journey's simulated ones count."""
        cap = self.result.weekly_email_cap
        if not cap:
            return False
        sent = self.sent_by_contact[contact_id]
        return len(sent) - bisect.bisect_left(sent, moment - CAP_WINDOW) >= cap

    def after_quiet_hours(self, contact: ContactRow, at: datetime) -> datetime:
        """When delivery would send it: at once, or when the quiet hours in the person's zone end."""
        from touchpoint.journeys.delivery import quiet_until

        until = quiet_until(at, self.zone_of(contact.time_zone), self.quiet_start, self.quiet_end)
        return at if until is None else until

    def zone_of(self, name: str) -> ZoneInfo:
        """delivery.zone_of for a contact's stored time zone name (else the site's TIME_ZONE)."""
        name = name or settings.TIME_ZONE
        if name not in self.zones:
            try:
                self.zones[name] = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                self.zones[name] = ZoneInfo(settings.TIME_ZONE)
        return self.zones[name]

    def render_shown(self) -> None:
        from django.core.exceptions import ValidationError

        from touchpoint.accounts.models import Account, Contact
        from touchpoint.journeys.rendering import render

        self.report("messages", 0, len(self.pending))
        self.pending.sort(key=lambda message: message.at)
        accounts = Account.objects.select_related("owner").in_bulk(
            {message.account_id for message in self.pending}
        )
        contacts = Contact.objects.in_bulk(
            {message.contact.id for message in self.pending if message.contact is not None}
        )
        for message in self.pending:
            account = accounts.get(message.account_id)
            contact = contacts.get(message.contact.id) if message.contact is not None else None
            if message.survey:
                # A survey's words and answer link are made per invitation when it is sent: name it.
                subject = _("Survey “%(key)s”") % {"key": message.survey}
                language, text, error = "", "", ""
            else:
                try:
                    rendered = render(
                        self.definition,
                        message.message,
                        account=account,
                        contact=contact,
                        entry_data=message.entry_data,
                    )
                    language, subject, text, error = rendered.language, rendered.subject, rendered.text, ""
                except ValidationError as problem:  # a broken template in a draft: show it, go on
                    language, subject, text, error = "", "", "", " ".join(problem.messages)
            self.result.messages.append(
                {
                    "at": message.at.isoformat(),
                    "step": message.step_id,
                    "kind": message.kind,
                    "account_id": message.account_id,
                    "account": account.name if account else "",
                    "contact_id": contact.pk if contact else None,
                    "to": contact.email if contact else "",
                    "language": language,
                    "subject": subject,
                    "text": text,
                    "status": message.status,
                    "error": error,
                }
            )


__all__ = ["HistoricalContext", "History", "SimulationResult", "simulate", "simulate_with_progress"]
