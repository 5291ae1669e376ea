"""`touchpoint health recompute [--date D] [--days N]`, `touchpoint health backtest [--json]` and
`touchpoint health fit [--json] [--apply [--override]]`: everything the back-test page does."""

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
        from touchpoint.health.backtest import DEFAULT_HORIZON, DEFAULT_SPAN

        for name, text in (
            ("backtest", "How well a scorecard's past scores foresaw churn."),
            ("fit", "Fit thresholds, points without data and weights on history; test them on later days."),
        ):
            command = sub.add_parser(name, help=text)
            command.add_argument("--scorecard", help="Scorecard name (the default scorecard if omitted).")
            command.add_argument(
                "--start", type=_date, help=f"First scored day (default: {DEFAULT_SPAN} days before the end)."
            )
            command.add_argument("--end", type=_date, help="Last scored day (default: horizon days ago).")
            command.add_argument("--every", type=int, default=7, help="Days between scored days.")
            command.add_argument(
                "--horizon",
                type=int,
                default=DEFAULT_HORIZON,
                help=f"Days after a score to look for churn (default {DEFAULT_HORIZON}).",
            )
            command.add_argument("--json", action="store_true", help="Print the result as JSON.")
        fit = sub.choices["fit"]
        fit.add_argument(
            "--apply", action="store_true", help="Keep the proposal as the scorecard's new version."
        )
        fit.add_argument(
            "--apply-learned",
            action="store_true",
            help="Put the learned model in use beside the scorecard (the account page shows its risk).",
        )
        fit.add_argument(
            "--override",
            action="store_true",
            help="With --apply or --apply-learned: apply even what is no improvement.",
        )
        fit.add_argument("--actor", help="Email of the person applying it (recorded on the version).")

    def handle(self, *args, action: str, **options) -> None:
        if action == "recompute":
            self._recompute(options["date"] or timezone.localdate(), options["days"])
        elif action == "fit":
            self._fit(options)
        else:
            self._backtest(options)

    def _recompute(self, day: date, days: int) -> None:
        from touchpoint.health import services
        from touchpoint.health.measures import prepare_for_scoring

        if days < 1:
            raise CommandError("--days must be at least 1")
        prepare_for_scoring()  # e.g. events ingested but not yet rolled up count too
        started = timezone.now()
        written, empty = 0, []
        for offset in range(days - 1, -1, -1):
            scored_day = day - timedelta(days=offset)
            rows = services.recompute_health(day=scored_day)
            written += rows
            if not rows:
                empty.append(scored_day)
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(
            f"Wrote {written} scores over {days} day(s) up to {day} ({rows} accounts on {day}) in {seconds:.1f}s."
        )
        if empty:
            first, last = min(empty), max(empty)
            self.stdout.write(
                f"No account existed yet on {len(empty)} of those days ({first} … {last}), so nothing was "
                "written for them: an account counts from the day it was created in Touchpoint."
            )

    def _inputs(self, options):
        """The scorecard, its current definition and the period the options name."""
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
        return scorecard, definition, period

    def _backtest(self, options) -> None:
        from touchpoint.health import backtest

        scorecard, definition, period = self._inputs(options)
        result = backtest.run(definition, period, segment=scorecard.segment)
        if options["json"]:
            from touchpoint.health.reports import backtest_report

            self.stdout.write(json.dumps(backtest_report(scorecard, period, result), indent=2))
            return
        self.stdout.write(
            f"Scorecard {scorecard.name} v{scorecard.current_version.number}: "
            f"{result.samples} scores on {len(result.days)} days, {result.positives} followed by "
            f"churn or contraction within {period.horizon} days."
        )
        self.stdout.write(f"ROC AUC (higher score = safer): {result.auc_text(with_range=True)}")
        self.stdout.write("Decile (worst scores first): churn rate, lift")
        for row in result.deciles:
            self.stdout.write(f"  {row['decile']:>2}: {row['rate']:.1%}  lift {row['lift']:.2f}")

    def _fit(self, options) -> None:
        from touchpoint.health import backtest, fit, learned, services
        from touchpoint.users.models import User

        scorecard, definition, period = self._inputs(options)
        actor = None
        if options["apply"] or options["apply_learned"]:
            if not options["actor"]:
                raise CommandError(
                    "--apply and --apply-learned need --actor EMAIL (who applies it is recorded)"
                )
            actor = User.objects.filter(email__iexact=options["actor"]).first()
            if actor is None:
                raise CommandError(f"No user with the email {options['actor']!r}")
        try:
            samples = backtest.collect(
                period, segment=scorecard.segment, measures=[rule.measure for rule in definition.rules]
            )
            proposal = fit.propose(definition, period, samples=samples)
            model = learned.propose_learned(definition, period, samples=samples)
        except ValidationError as error:
            raise CommandError(
                " ".join(m for messages in error.message_dict.values() for m in messages)
            ) from error
        if options["json"]:
            from touchpoint.health.reports import fit_report

            self.stdout.write(
                json.dumps(fit_report(scorecard, definition, period, proposal, learned=model), indent=2)
            )
        else:
            self.stdout.write(
                f"Fitted on {len(proposal.train_days)} sampled days, tested on {len(proposal.test_days)} later "
                f"days and a third of the accounts the fit never saw: ROC AUC {proposal.proposed.auc_text(with_range=True)} for "
                f"the proposal against {proposal.current.auc_text(with_range=True)} "
                f"for {scorecard.name} v{scorecard.current_version.number}."
            )
            self.stdout.write("measure: weight, green, red, points without data (current → proposed)")
            for now, proposed in zip(definition.rules, proposal.definition.rules, strict=True):
                self.stdout.write(
                    f"  {now.measure}: {now.weight:g} → {proposed.weight:g}, {now.green:g} → {proposed.green:g}, "
                    f"{now.red:g} → {proposed.red:g}, {now.missing:g} → {proposed.missing:g}"
                )
            if not proposal.improves:
                self.stdout.write(
                    "No improvement: the proposal did not beat the current scorecard on the test days."
                )
            self.stdout.write(
                f"Learned model on the same test: ROC AUC {model.proposed.auc_text(with_range=True)} against {model.current.auc_text(with_range=True)}"
                + ("" if model.improves else " (no improvement)")
                + "."
            )
        if options["apply_learned"]:
            try:
                services.apply_learned_model(
                    scorecard=scorecard,
                    proposal=model,
                    actor=actor,
                    override=options["override"],
                    note=learned.fit_note(model, period),
                )
            except ValidationError as error:
                raise CommandError(
                    "Not applied: the learned model is no improvement (add --override to apply it anyway)."
                ) from error
            self.stdout.write(f"The learned model is in use beside {scorecard.name}.")
        if not options["apply"]:
            return
        if not proposal.improves and not options["override"]:
            raise CommandError(
                "Not applied: the proposal is no improvement (add --override to apply it anyway)."
            )
        version = services.apply_proposal(
            scorecard=scorecard, proposal=proposal, period=period, actor=actor, override=options["override"]
        )
        self.stdout.write(f"Applied as {scorecard.name} v{version.number}.")
