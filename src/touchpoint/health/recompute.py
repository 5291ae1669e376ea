"""Scores for every account on one day in one INSERT … SELECT: measures, points, weights and grades in SQL.

No account passes through Python: the measure sources aggregate the rollups, the timeline and the
subscriptions (see measures.py) and are joined to the accounts once, side by side (one row per
account, a column per measure); the scorecards become a VALUES list with a column per measure's
weight and thresholds; the database computes the points, the weighted score and the grade, and writes
one `HealthScore` row per account with its per-measure points as JSON.
"""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.utils import timezone

from touchpoint.accounts.models import Account
from touchpoint.health.measures import AsOf, source_joins, sources_sql
from touchpoint.health.scoring import Definition


def _points(index: int) -> str:
    # rule_points() of scoring.py, in SQL: the share of the way from red to green, clamped to 0–1; the
    # rule's "no data" points when the value is unknown; NULL when the scorecard does not weigh it.
    share = f"((v{index} - r{index}) / (g{index} - r{index}))"
    return (
        f"(CASE WHEN w{index} IS NULL THEN NULL WHEN v{index} IS NULL THEN m{index} "
        f"WHEN {share} >= 1 THEN 100.0 WHEN {share} <= 0 THEN 0.0 ELSE 100.0 * {share} END)"
    )


def scoring_select(
    at: AsOf,
    cards: dict[int, Definition],
    segment_versions: dict[int, int],
    default_version: int | None,
    *,
    with_day: bool = False,
) -> tuple[str, list]:
    """`… SELECT account_id, [day,] version_id, score, grade, measures` for every account that existed.

    The text starts after `WITH`, so the caller can put it in an INSERT or a plain query.
    """
    keys = sorted({rule.measure for definition in cards.values() for rule in definition.rules})
    sources, params, measures = sources_sql(at, keys)
    measures.sort(key=lambda m: m.key)
    n = len(measures)
    card_columns = ["version_id", "green_at", "red_below"] + [f"{p}{i}" for i in range(n) for p in "wgrm"]
    card_rows = []
    for version_id, definition in cards.items():
        rules = {rule.measure: rule for rule in definition.rules}
        card_rows.append("(" + ", ".join(["%s"] * len(card_columns)) + ")")
        params.extend([version_id, float(definition.green_at), float(definition.red_below)])
        for measure in measures:
            rule = rules.get(measure.key)
            params.extend(
                [float(rule.weight), float(rule.green), float(rule.red), float(rule.missing)]
                if rule
                else [None] * 4
            )
    whens = " ".join(
        f"WHEN {int(segment)} THEN {int(version)}" for segment, version in segment_versions.items()
    )
    default = "NULL" if default_version is None else str(int(default_version))
    version_expr = f"COALESCE(CASE a.segment_id {whens} END, {default})" if whens else default
    values = ", ".join(f"{at.as_float(f'src_{m.source}.{m.column}')} AS v{i}" for i, m in enumerate(measures))
    points = ", ".join(f"{_points(i)} AS p{i}" for i in range(n))
    total = " + ".join(f"COALESCE(w{i} * p{i}, 0)" for i in range(n)) or "0"
    weights = " + ".join(f"(CASE WHEN p{i} IS NULL THEN 0 ELSE w{i} END)" for i in range(n)) or "0"
    # An account with no value for any weighed measure has no score at all ("unknown").
    # Only measures that are evidence count as data (tenure is known for every account).
    known = (
        " + ".join(
            f"(CASE WHEN w{i} IS NOT NULL AND v{i} IS NOT NULL THEN 1 ELSE 0 END)"
            for i, m in enumerate(measures)
            if m.evidence
        )
        or "0"
    )
    if connection.vendor == "sqlite":
        entries = ", ".join(
            f"'{m.key}', CASE WHEN p{i} IS NOT NULL THEN json_object('value', v{i}, 'points', p{i}, "
            f"'weight', w{i}, 'known', CASE WHEN v{i} IS NULL THEN 0 ELSE 1 END) END"
            for i, m in enumerate(measures)
        )
        # json_patch drops the keys whose value is null: measures the scorecard does not weigh are
        # absent, and a measure without data has no "value" (it is stored with its points, known 0).
        measures_json = f"json_patch('{{}}', json_object({entries}))" if entries else "'{}'"
    else:
        pairs = [
            f"'{m.key}', CASE WHEN p{i} IS NOT NULL THEN jsonb_build_object('value', v{i}, 'points', p{i}, "
            f"'weight', w{i}, 'known', CASE WHEN v{i} IS NULL THEN 0 ELSE 1 END) END"
            for i, m in enumerate(measures)
        ]
        # One jsonb_build_object per 50 measures (a function takes at most 100 arguments).
        entries = " || ".join(
            f"jsonb_build_object({', '.join(pairs[i : i + 50])})" for i in range(0, len(pairs), 50)
        )
        measures_json = f"jsonb_strip_nulls({entries})" if entries else "'{}'::jsonb"
    # Cast the VALUES columns: a NULL-only column would otherwise have no type on PostgreSQL.
    typed = ", ".join(f"{at.as_float(column)} AS {column}" for column in card_columns[1:])
    sql = f"""
        {sources},
        cards_raw({", ".join(card_columns)}) AS (VALUES {", ".join(card_rows)}),
        cards AS (SELECT version_id, {typed} FROM cards_raw),
        valued AS (
            SELECT a.id AS account_id, c.*{", " + values if values else ""}
            FROM {Account._meta.db_table} a
            JOIN cards c ON c.version_id = {version_expr}
            {source_joins(measures)}
            WHERE a.created_at < %s
        ),
        pointed AS MATERIALIZED (SELECT valued.*{", " + points if points else ""} FROM valued),
        weighed AS (
            SELECT pointed.*, {total} AS total, {weights} AS weights, {known} AS known FROM pointed
        )
        SELECT account_id, {"%s AS day," if with_day else ""} version_id,
               CASE WHEN weights > 0 AND known > 0 THEN
                   (CASE WHEN total / weights > 100 THEN 100.0 WHEN total / weights < 0 THEN 0.0
                         ELSE total / weights END) END AS score,
               CASE WHEN weights <= 0 OR known = 0 THEN 'unknown'
                    WHEN total / weights >= green_at THEN 'green'
                    WHEN total / weights < red_below THEN 'red'
                    ELSE 'yellow' END AS grade,
               {measures_json} AS measures
        FROM weighed
    """
    params.append(at.end)
    if with_day:
        params.append(connection.ops.adapt_datefield_value(at.day))
    return sql, params


def without_jit(cursor) -> None:
    """PostgreSQL's JIT compiles this statement's many expressions for seconds and then saves less than
    it spent (4.7 s of 11 s at 100,000 accounts): off for the rest of the transaction."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        cursor.execute("SET LOCAL jit = off")


def insert_scores(
    day: date, cards: dict[int, Definition], segment_versions: dict[int, int], default_version: int | None
) -> int:
    """Replace the day's scores for every account; returns how many rows were written.

    Accounts whose grade changed get a `health.grade_changed` domain event, in the same transaction,
    unless a later day is already scored (a backfill of history: the grade today did not change).
    """
    select, params = scoring_select(AsOf(day), cards, segment_versions, default_version, with_day=True)
    with connection.cursor() as cursor:
        without_jit(cursor)
        cursor.execute(
            "SELECT 1 FROM health_healthscore WHERE day > %s LIMIT 1",
            [connection.ops.adapt_datefield_value(day)],
        )
        latest = cursor.fetchone() is None
        if latest:
            _keep_grades_before(cursor, day)
        cursor.execute(
            "DELETE FROM health_healthscore WHERE day = %s", [connection.ops.adapt_datefield_value(day)]
        )
        columns = "account_id, day, version_id, score, grade, measures"
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # PostgreSQL never runs the SELECT of an INSERT … SELECT in parallel, but does for CREATE
            # TABLE … AS: aggregate the rollups with every worker into a temporary table, then copy it in.
            cursor.execute(
                "CREATE TEMPORARY TABLE health_day_scores ON COMMIT DROP AS WITH " + select, params
            )
            cursor.execute(
                f"INSERT INTO health_healthscore ({columns}) SELECT {columns} FROM health_day_scores"
            )
            rows = cursor.rowcount
            cursor.execute("DROP TABLE health_day_scores")
        else:
            cursor.execute(f"INSERT INTO health_healthscore ({columns}) WITH " + select, params)
            rows = cursor.rowcount
        if latest:
            _record_grade_changes(cursor, day)
        return rows


def _keep_grades_before(cursor, day: date) -> None:
    """Each account's grade before this recompute: the day's own (a re-run), else the last scored day's.

    Two index range reads on (day, …), never a scan of the whole history.
    """
    adapted = connection.ops.adapt_datefield_value(day)
    cursor.execute("DROP TABLE IF EXISTS health_grades_before")
    cursor.execute(
        """
        CREATE TEMPORARY TABLE health_grades_before AS
        SELECT account_id, grade FROM health_healthscore WHERE day = %s
        UNION ALL
        SELECT p.account_id, p.grade FROM health_healthscore p
        WHERE p.day = (SELECT MAX(day) FROM health_healthscore WHERE day < %s)
          AND NOT EXISTS (SELECT 1 FROM health_healthscore d WHERE d.day = %s AND d.account_id = p.account_id)
        """,
        [adapted, adapted, adapted],
    )
    cursor.execute("CREATE INDEX health_grades_before_account ON health_grades_before (account_id)")


def _record_grade_changes(cursor, day: date) -> None:
    """One `health.grade_changed` event per account whose grade changed, in one INSERT … SELECT.

    An account scored for the first time counts as coming from "unknown". The columns are those
    touchpoint.events.services.record_event writes; `transaction_id` takes its database default.
    """
    now = timezone.now()
    json = "json_object" if connection.vendor == "sqlite" else "jsonb_build_object"
    text = "" if connection.vendor == "sqlite" else "::text"
    cursor.execute(
        f"""
        INSERT INTO events_domainevent
            (kind, account_id, subject_type, subject_id, payload, actor_id, occurred_at, created_at)
        SELECT 'health.grade_changed', n.account_id, 'accounts.account', n.account_id,
               {json}('day', %s{text}, 'grade', n.grade, 'previous_grade', COALESCE(b.grade, 'unknown'),
                      'score', n.score),
               NULL, %s, %s
        FROM health_healthscore n LEFT JOIN health_grades_before b ON b.account_id = n.account_id
        WHERE n.day = %s AND n.grade <> COALESCE(b.grade, 'unknown')
        ORDER BY n.account_id
        """,
        [
            day.isoformat(),
            connection.ops.adapt_datetimefield_value(now),
            connection.ops.adapt_datetimefield_value(now),
            connection.ops.adapt_datefield_value(day),
        ],
    )
    cursor.execute("DROP TABLE health_grades_before")
