"""Demo step "usage": nine months of product use per account, shaped by how well the customer fits.

Weekdays are busy and weekends quiet; customers who fit the product well grow their use and try
more features, poor fits fade out, and a customer the revenue step made churn fades over the 45 days
before it leaves. The last 90 days are raw events, written as the tracking API would store them (the
contacts become product users) and rolled up at the end; the months before exist only as daily
rollups, as if their raw events had been dropped for retention, so health scores and back-tests
have history to work on without millions more raw events.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from django.db import connection

from touchpoint.demo.builders import DemoContext, step
from touchpoint.usage import rollups, store
from touchpoint.usage.models import (
    DailyAccountRollup,
    DailyEventRollup,
    KeyFeature,
    ProductUser,
    RawEvent,
    Source,
)

USAGE_DAYS = 90  # raw events
HISTORY_DAYS = 270  # rollups only before the raw events: enough for a 180-day back-test of 60-day measures
FADE_DAYS = 45  # a poor fit's use fades over the days before it leaves
HISTORY_FLUSH_ROWS = 200_000  # write the history rollups in slices so 10,000 accounts stay in bounded memory
# (event name, how common), most common first: breadth grows down this list as a customer matures.
FEATURES = [
    ("Dashboard viewed", 10),
    ("page: Home", 8),
    ("Report created", 6),
    ("Comment added", 4),
    ("Export downloaded", 3),
    ("Dashboard shared", 2),
    ("Alert configured", 1.5),
    ("User invited", 1),
    ("Integration connected", 0.5),
]
KEY_FEATURES = {
    "Report created": "Reports",
    "Dashboard shared": "Sharing",
    "Alert configured": "Alerts",
    "User invited": "Team invites",
    "Integration connected": "Integrations",
}


def _trend(fit: float, progress: float, days_to_churn: int | None = None) -> float:
    """How active the account is at `progress` (0 = start of the window, 1 = today).

    A poor fit that the revenue step made churn fades over the 45 days before it leaves.
    """
    if days_to_churn is not None and fit < 0.35:
        return 1.0 if days_to_churn > FADE_DAYS else max(0.1, days_to_churn / FADE_DAYS)
    if fit >= 0.6:
        return 0.6 + 0.6 * progress  # adoption grows
    if fit < 0.35:
        return 1.0 if progress < 0.5 else max(0.1, 1.0 - 1.8 * (progress - 0.5))  # fades before churn
    return 0.85


@step("usage", after=("timeline", "revenue"))
def usage(ctx: DemoContext) -> None:
    source, _created = Source.objects.get_or_create(name="Web app (demo)")
    # After `demo --reset` the old demo events and product users lost their accounts: clear them.
    RawEvent.objects.filter(source=source).delete()
    ProductUser.objects.filter(account__isnull=True, contact__isnull=True).delete()
    KeyFeature.objects.bulk_create(
        [KeyFeature(event=event, label=label) for event, label in KEY_FEATURES.items()], ignore_conflicts=True
    )
    first_day = ctx.anchor - timedelta(days=min(HISTORY_DAYS, ctx.days))
    raw_from = ctx.anchor - timedelta(days=min(USAGE_DAYS, ctx.days))
    history = _History(ctx)
    rows: list[tuple] = []
    moments: dict[tuple, datetime] = {}
    product_users: list[ProductUser] = []
    message_number = 0
    for demo_account in ctx.accounts:
        account = demo_account.account
        # The contacts the product knows (those with a user id) are the ones who use it.
        people = [c.contact for c in demo_account.contacts if c.contact.external_id]
        if not people:
            continue
        group_id = account.external_id or f"account_{account.pk}"
        context = {"groupId": group_id}
        breadth = 2 + round(demo_account.fit * (len(FEATURES) - 2))
        features = FEATURES[:breadth]
        names = [name for name, _weight in features]
        weights = [weight for _name, weight in features]
        start = max(first_day, account.created_at.astimezone(ctx.tz).date())
        span = max(1, (ctx.anchor - first_day).days)
        for person in people:
            assert person.external_id is not None  # people are the contacts with a user id
            product_users.append(
                ProductUser(
                    user_id=person.external_id,
                    email=person.email,
                    name=person.name,
                    account=account,
                    contact=person,
                    first_seen_at=account.created_at,
                    last_seen_at=account.created_at,
                )
            )
        # Up to yesterday (the demo never holds events from the future), or the day the customer left.
        end = min(ctx.anchor, demo_account.churned_on or ctx.anchor)

        def activity_on(day: date, demo_account=demo_account, span=span) -> float:
            weekday_factor = 1.0 if day.weekday() < 5 else 0.12
            days_to_churn = (demo_account.churned_on - day).days if demo_account.churned_on else None
            return _trend(demo_account.fit, (day - first_day).days / span, days_to_churn) * weekday_factor

        history.add(
            account.pk,
            len(people),
            demo_account.fit,
            features,
            [(day, activity_on(day)) for day in _days(start, min(end, raw_from))],
        )
        day = max(start, raw_from)
        while day < end:
            activity = activity_on(day)
            for person in people:
                if ctx.rng.random() > (0.2 + 0.45 * demo_account.fit) * activity:
                    continue
                for name in ctx.rng.choices(names, weights, k=ctx.rng.randint(1, 3)):
                    moment_key = (day, ctx.rng.randint(8, 18), ctx.rng.randint(0, 59))
                    moment = moments.get(moment_key)
                    if moment is None:
                        moment = moments[moment_key] = datetime.combine(
                            day, time(*moment_key[1:]), tzinfo=ctx.tz
                        )
                    kind, event = ("page", name[6:]) if name.startswith("page: ") else ("track", name)
                    message_number += 1
                    rows.append(
                        (
                            source.pk,
                            f"demo-{message_number}",
                            kind,
                            event,
                            person.external_id,
                            "",
                            group_id,
                            account.pk,
                            person.pk,
                            moment,
                            moment,
                            context,
                        )
                    )
            day += timedelta(days=1)
    ProductUser.objects.bulk_create(product_users, batch_size=2000)
    _write_events(ctx, rows)
    rollups.rebuild()
    history.flush()


def _days(first: date, end: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range(max(0, (end - first).days))]


class _History:
    """The daily rollups of the months before the raw events, drawn per account with numpy.

    Per day: each of the account's people is active with the same chance the raw-event loop uses,
    does 1–3 things (2 on average), spread over its features by their weights. The counts are drawn
    in one go per account instead of per person and event, which is what keeps 10,000 accounts fast.
    """

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.random = np.random.default_rng(ctx.rng.getrandbits(64))
        self.account_rows: list[tuple] = []
        self.event_rows: list[tuple] = []

    def add(
        self,
        account_id: int,
        people: int,
        fit: float,
        features: list[tuple[str, float]],
        days: list[tuple[date, float]],
    ) -> None:
        if not days:
            return
        chance = np.clip([(0.2 + 0.45 * fit) * activity for _day, activity in days], 0.0, 1.0)
        active = self.random.binomial(people, chance)
        actions = active + self.random.binomial(2 * active, 0.5)  # 1–3 actions per active person
        weights = np.array([weight for _name, weight in features], dtype=float)
        weights /= weights.sum()
        counts = self.random.multinomial(actions, weights)  # (days, features)
        # People who did a feature at least once among two tries: at least one if it was done at all.
        doers = self.random.binomial(active[:, None], 1 - (1 - weights[None, :]) ** 2)
        doers = np.minimum(counts, np.maximum(doers, counts > 0))
        for index in np.flatnonzero(active):
            day = days[index][0]
            self.account_rows.append((day, int(actions[index]), int(active[index]), account_id, False))
            for feature in np.flatnonzero(counts[index]):
                self.event_rows.append(
                    (
                        day,
                        features[feature][0],
                        int(counts[index, feature]),
                        int(doers[index, feature]),
                        account_id,
                    )
                )
        if len(self.event_rows) >= HISTORY_FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        self.ctx.insert_rows(
            DailyAccountRollup,
            ("day", "events", "active_users", "account_id", "people_kept"),
            self.account_rows,
        )
        self.ctx.insert_rows(
            DailyEventRollup, ("day", "event", "events", "users", "account_id"), self.event_rows
        )
        self.account_rows, self.event_rows = [], []


def _write_events(ctx: DemoContext, rows: list[tuple]) -> None:
    """Store the generated events: 1–2 million rows for 10,000 accounts, so values are prepared once.

    Rows are (source, message id, type, event, user id, contact…, timestamp, received at, context).
    """
    if connection.vendor == "sqlite":
        # Django keeps SQLite datetimes as UTC text; format each distinct moment and context once.
        as_text: dict[datetime, tuple[str, str]] = {}
        json_text: dict[int, str] = {}

        def prepared(row: tuple) -> tuple:
            moment = row[9]
            texts = as_text.get(moment)
            if texts is None:
                texts = as_text[moment] = (
                    moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "),
                    rollups.day_of(moment).isoformat(),
                )
            context = json_text.get(id(row[11]))
            if context is None:
                context = json_text[id(row[11])] = json.dumps(row[11])
            return (*row[:9], texts[0], texts[1], texts[0], "{}", context)

        table = connection.ops.quote_name(RawEvent._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in store.RAW_EVENT_COLUMNS)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(store.RAW_EVENT_COLUMNS))})",
                [prepared(row) for row in rows],
            )
        ctx.counts["usage.rawevent"] += len(rows)
        return
    # PostgreSQL: COPY straight into the partitioned table, each moment's day and each context's JSON
    # worked out once; psycopg's C dumpers format the datetimes.
    day_of = {moment: rollups.day_of(moment) for moment in {row[9] for row in rows}}
    store.ensure_partitions(set(day_of.values()))
    json_text = {}
    table = connection.ops.quote_name(RawEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in store.RAW_EVENT_COLUMNS)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            context = json_text.get(id(row[11]))
            if context is None:
                context = json_text[id(row[11])] = json.dumps(row[11])
            copy.write_row((*row[:9], row[9], day_of[row[9]], row[10], "{}", context))
    ctx.counts["usage.rawevent"] += len(rows)
