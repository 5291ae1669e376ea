"""`touchpoint health recompute [--date D] [--days N]` and `touchpoint health backtest [--json]`."""

from __future__ import annotations

import json
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from error


class Command(BaseCommand):
    help = "Recompute health scores, or back-test a scorecard against churn and contraction."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        recompute = sub.add_parser("recompute", help="Score every account for a day (today by default).")
        recompute.add_argument("--date", type=_date, help="The day to score (YYYY-MM-DD).")
        recompute.add_argument(
            "--days",
            type=int,
            default=1,
            help="Also score the N-1 days before it (history), one set-based pass per day.",
        )
        backtest = sub.add_parser("backtest", help="How well a scorecard's past scores foresaw churn.")
        backtest.add_argument("--scorecard", help="Scorecard name (the default scorecard if omitted).")
        backtest.add_argument("--start", type=_date, help="First scored day (default: 180 days ago).")
        backtest.add_argument("--end", type=_date, help="Last scored day (default: horizon days ago).")
        backtest.add_argument("--every", type=int, default=7, help="Days between scored days.")
        backtest.add_argument("--horizon", type=int, default=90, help="Days after a score to look for churn.")
        backtest.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, action: str, **options) -> None:
        if action == "recompute":
            self._recompute(options["date"] or timezone.localdate(), options["days"])
        else:
            self._backtest(options)

    def _recompute(self, day: date, days: int) -> None:
        from touchpoint.health import services
        from touchpoint.health.measures import prepare_for_scoring

        if days < 1:
            raise CommandError("--days must be at least 1")
        prepare_for_scoring()  # e.g. events ingested but not yet rolled up count too
        started = timezone.now()
        for offset in range(days - 1, -1, -1):
            rows = services.recompute_health(day=day - timedelta(days=offset))
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(f"Scored {rows} accounts for {days} day(s) up to {day} in {seconds:.1f}s.")

    def _backtest(self, options) -> None:
        from touchpoint.health import backtest, services
        from touchpoint.health.models import Scorecard
        from touchpoint.health.scoring import Definition

        if options["scorecard"]:
            scorecard = Scorecard.objects.filter(name=options["scorecard"]).first()
            if scorecard is None:
                raise CommandError(f"No scorecard named {options['scorecard']!r}")
        else:
            scorecard = services.ensure_default_scorecard()
        if scorecard.current_version is None:
            raise CommandError(f"Scorecard {scorecard.name!r} has no version yet")
        definition = Definition.from_dict(scorecard.current_version.definition)
        try:
            period = backtest.Period.around_today(
                start=options["start"], end=options["end"], every=options["every"], horizon=options["horizon"]
            )
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from error
        result = backtest.run(definition, period, segment=scorecard.segment)
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
            return
        self.stdout.write(
            f"Scorecard {scorecard.name} v{scorecard.current_version.number}: "
            f"{result.samples} scores on {len(result.days)} days, {result.positives} followed by "
            f"churn or contraction within {period.horizon} days."
        )
        auc = "n/a" if result.auc is None else f"{result.auc:.3f}"
        self.stdout.write(f"ROC AUC (higher score = safer): {auc}")
        self.stdout.write("Decile (worst scores first): churn rate, lift")
        for row in result.deciles:
            self.stdout.write(f"  {row['decile']:>2}: {row['rate']:.1%}  lift {row['lift']:.2f}")
