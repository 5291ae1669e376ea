"""Scores for every account on one day in one INSERT … SELECT: measures, points, weights and grades in SQL.

No account passes through Python: the measure sources aggregate the rollups, the timeline and the
subscriptions (see measures.py), the scorecards become a VALUES list, and the database writes one
`HealthScore` row per account with its per-measure points as JSON.
"""

from __future__ import annotations

from datetime import date

from django.db import connection

from touchpoint.health.measures import AsOf, measured_sql
from touchpoint.health.scoring import Definition


def _points_sql() -> str:
    # measure_points() of scoring.py, in SQL: the share of the way from red to green, clamped to 0–1.
    share = "((s.value - c.red) / (c.green - c.red))"
    return f"(CASE WHEN {share} >= 1 THEN 100.0 WHEN {share} <= 0 THEN 0.0 ELSE 100.0 * {share} END)"


def scoring_select(at: AsOf, cards: dict[int, Definition], segment_versions: dict[int, int],
                   default_version: int | None, *, with_day: bool = False) -> tuple[str, list]:
    """`… SELECT account_id, [day,] version_id, score, grade, measures` for every account that existed.

    The text starts after `WITH`, so the caller can put it in an INSERT or a plain query.
    """
    measured, params = measured_sql(at, keys=sorted({r.measure for d in cards.values() for r in d.rules}))
    card_rows, grade_rows = [], []
    for version_id, definition in cards.items():
        for rule in definition.rules:
            card_rows.append("(%s, %s, %s, %s, %s)")
            params.extend([version_id, rule.measure, float(rule.weight), float(rule.green), float(rule.red)])
    for version_id, definition in cards.items():
        grade_rows.append("(%s, %s, %s)")
        params.extend([version_id, float(definition.green_at), float(definition.red_below)])
    whens = " ".join(f"WHEN {int(segment)} THEN {int(version)}" for segment, version in segment_versions.items())
    default = "NULL" if default_version is None else str(int(default_version))
    version_expr = f"COALESCE(CASE a.segment_id {whens} END, {default})" if whens else default
    if connection.vendor == "sqlite":
        measures_json = ("json_group_object(s.measure, json_object('value', s.value, 'points', s.points, "
                         "'weight', s.weight))")
        empty_json = "'{}'"
    else:
        measures_json = ("json_object_agg(s.measure, json_build_object('value', s.value, 'points', s.points, "
                         "'weight', s.weight))::jsonb")
        empty_json = "'{}'::jsonb"
    sql = f"""
        {measured},
        cards(version_id, measure, weight, green, red) AS (VALUES {", ".join(card_rows)}),
        grades(version_id, green_at, red_below) AS (VALUES {", ".join(grade_rows)}),
        assigned AS (
            SELECT a.id AS account_id, {version_expr} AS version_id
            FROM accounts_account a WHERE a.created_at < %s
        ),
        scored AS (
            SELECT m.account_id, m.measure, m.value, c.weight, {_points_sql().replace("s.value", "m.value")} AS points
            FROM measured m
            JOIN assigned a ON a.account_id = m.account_id
            JOIN cards c ON c.version_id = a.version_id AND c.measure = m.measure
        ),
        totals AS (
            SELECT s.account_id,
                   SUM(s.weight * s.points) / NULLIF(SUM(s.weight), 0) AS score,
                   {measures_json} AS measures
            FROM scored s GROUP BY s.account_id
        )
        SELECT a.account_id, {"%s AS day," if with_day else ""} a.version_id,
               CASE WHEN t.score > 100 THEN 100.0 WHEN t.score < 0 THEN 0.0 ELSE t.score END AS score,
               CASE WHEN t.score IS NULL THEN 'unknown'
                    WHEN t.score >= g.green_at THEN 'green'
                    WHEN t.score < g.red_below THEN 'red'
                    ELSE 'yellow' END AS grade,
               COALESCE(t.measures, {empty_json}) AS measures
        FROM assigned a
        JOIN grades g ON g.version_id = a.version_id
        LEFT JOIN totals t ON t.account_id = a.account_id
    """
    params.append(at.end)
    if with_day:
        params.append(connection.ops.adapt_datefield_value(at.day))
    return sql, params


def insert_scores(day: date, cards: dict[int, Definition], segment_versions: dict[int, int],
                  default_version: int | None) -> int:
    """Replace the day's scores for every account; returns how many rows were written."""
    select, params = scoring_select(AsOf(day), cards, segment_versions, default_version, with_day=True)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM health_healthscore WHERE day = %s", [connection.ops.adapt_datefield_value(day)])
        cursor.execute(
            "INSERT INTO health_healthscore (account_id, day, version_id, score, grade, measures) WITH " + select,
            params,
        )
        return cursor.rowcount
