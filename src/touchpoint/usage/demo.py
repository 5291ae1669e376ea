"""Demo step "usage": 90 days of product events per account, shaped by how well the customer fits.

Weekdays are busy and weekends quiet; customers who fit the product well grow their use and try
more features, poor fits fade out over the last weeks (the decline that comes before churn). Events
are written as the tracking API would store them, the contacts become product users, and the
rollups are rebuilt at the end.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from django.db import connection

from touchpoint.demo.builders import DemoContext, step
from touchpoint.usage import rollups, store
from touchpoint.usage.models import KeyFeature, ProductUser, RawEvent, Source

USAGE_DAYS = 90
# (event name, how common), most common first: breadth grows down this list as a customer matures.
FEATURES = [
    ("Dashboard viewed", 10), ("page: Home", 8), ("Report created", 6), ("Comment added", 4),
    ("Export downloaded", 3), ("Dashboard shared", 2), ("Alert configured", 1.5), ("User invited", 1),
    ("Integration connected", 0.5),
]
KEY_FEATURES = {"Report created": "Reports", "Dashboard shared": "Sharing", "Alert configured": "Alerts",
                "User invited": "Team invites", "Integration connected": "Integrations"}
_COLUMNS = ("source_id", "message_id", "type", "event", "user_id", "anonymous_id", "group_id", "account_id",
            "contact_id", "timestamp", "day", "received_at", "properties", "context")


def _trend(fit: float, progress: float) -> float:
    """How active the account is at `progress` (0 = start of the window, 1 = today)."""
    if fit >= 0.6:
        return 0.6 + 0.6 * progress  # adoption grows
    if fit < 0.35:
        return 1.0 if progress < 0.5 else max(0.1, 1.0 - 1.8 * (progress - 0.5))  # fades before churn
    return 0.85


@step("usage", after=("timeline",))
def usage(ctx: DemoContext) -> None:
    source, _created = Source.objects.get_or_create(name="Web app (demo)")
    # After `demo --reset` the old demo events and product users lost their accounts: clear them.
    RawEvent.objects.filter(source=source).delete()
    ProductUser.objects.filter(account__isnull=True, contact__isnull=True).delete()
    KeyFeature.objects.bulk_create([KeyFeature(event=event, label=label) for event, label in KEY_FEATURES.items()],
                                   ignore_conflicts=True)
    first_day = ctx.anchor - timedelta(days=min(USAGE_DAYS, ctx.days))
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
            product_users.append(ProductUser(
                user_id=person.external_id, email=person.email, name=person.name, account=account,
                contact=person, first_seen_at=account.created_at, last_seen_at=account.created_at))
        day = start
        while day < ctx.anchor:  # up to yesterday: the demo never holds events from the future
            weekday_factor = 1.0 if day.weekday() < 5 else 0.12
            activity = _trend(demo_account.fit, (day - first_day).days / span) * weekday_factor
            for person in people:
                if ctx.rng.random() > (0.2 + 0.45 * demo_account.fit) * activity:
                    continue
                for name in ctx.rng.choices(names, weights, k=ctx.rng.randint(1, 3)):
                    moment_key = (day, ctx.rng.randint(8, 18), ctx.rng.randint(0, 59))
                    moment = moments.get(moment_key)
                    if moment is None:
                        moment = moments[moment_key] = datetime.combine(day, time(*moment_key[1:]), tzinfo=ctx.tz)
                    kind, event = ("page", name[6:]) if name.startswith("page: ") else ("track", name)
                    message_number += 1
                    rows.append((source.pk, f"demo-{message_number}", kind, event, person.external_id, "",
                                 group_id, account.pk, person.pk, moment, moment, context))
            day += timedelta(days=1)
    ProductUser.objects.bulk_create(product_users, batch_size=2000)
    _write_events(ctx, rows)
    rollups.rebuild()


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
                texts = as_text[moment] = (moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "),
                                           rollups.day_of(moment).isoformat())
            context = json_text.get(id(row[11]))
            if context is None:
                context = json_text[id(row[11])] = json.dumps(row[11])
            return (*row[:9], texts[0], texts[1], texts[0], "{}", context)

        table = connection.ops.quote_name(RawEvent._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})",
                               [prepared(row) for row in rows])
        ctx.counts["usage.rawevent"] += len(rows)
        return
    # PostgreSQL: COPY straight into the partitioned table, each moment's day and each context's JSON
    # worked out once; psycopg's C dumpers format the datetimes.
    day_of = {moment: rollups.day_of(moment) for moment in {row[9] for row in rows}}
    store.ensure_partitions(set(day_of.values()))
    json_text: dict[int, str] = {}
    table = connection.ops.quote_name(RawEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            context = json_text.get(id(row[11]))
            if context is None:
                context = json_text[id(row[11])] = json.dumps(row[11])
            copy.write_row((*row[:9], row[9], day_of[row[9]], row[10], "{}", context))
    ctx.counts["usage.rawevent"] += len(rows)
