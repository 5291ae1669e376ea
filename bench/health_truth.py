"""Health against the truth: the product's AUC beside a gradient-boosting model a data scientist would build.

For each company, in its own throw-away database:
  - demo: the demo company (`touchpoint demo`, its churners fade before they leave, annual plans);
  - simulated: bench/companies.py's self-serve company (one seat, monthly plans, usage flat until the
    day the account leaves, churn mostly in the first months, engagement sets use and churn);
the back-test samples are collected once (`backtest.collect` over `Period.around_today()` with the
default horizon, every registered measure), split as `fit.propose` splits them (the earlier two
thirds of the sampled days train, the later third tests; with `fit.split_days`, the test is also on
accounts the training never saw), and on the same held-out samples it reports the ROC AUC of:
  - default: the default scorecard (the measures' own defaults);
  - fitted: the scorecard `fit.propose` fits on the training days;
  - learned: the learned model (`health.learned.propose_learned`), when the product has one;
  - reference: scikit-learn's HistGradientBoostingClassifier on the training samples' raw measure
    values (NaN where unknown; its settings picked from a small grid by cross-validation on accounts
    left out), on the same test samples the scorecards score.
With 95 % intervals from resampling the test days' accounts, and the gaps against the goals:
reference − fitted ≤ 0.03 and reference − learned ≤ 0.01 on every company, default ≥ 0.75 on the demo.

    .venv/bin/python bench/health_truth.py [--company demo|simulated|all] [--json]
        [--demo-accounts 1000] [--demo-days 540] [--accounts 1500] [--days 270] [--seed 19]
Uses DATABASE_URL when set (PostgreSQL, in a throw-away test database beside it), else temporary SQLite files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

COMPANIES = ("demo", "simulated")
FITTED_GAP_GOAL = 0.03
LEARNED_GAP_GOAL = 0.01
DEMO_DEFAULT_GOAL = 0.75
MODELS = ("default", "fitted", "learned", "reference")


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _auc(outcomes: np.ndarray, risk: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if outcomes.all() or not outcomes.any():
        return None
    return float(roc_auc_score(outcomes, risk))


def _intervals(
    accounts: np.ndarray, outcomes: np.ndarray, risks: dict[str, np.ndarray], rounds: int, seed: int
) -> dict[str, list[float]]:
    """95 % intervals of each AUC and of the gaps to the reference, resampling accounts (all of an
    account's sampled days go together: they are not independent of each other)."""
    if rounds <= 0:
        return {}
    rng = np.random.default_rng(seed)
    unique, inverse = np.unique(accounts, return_inverse=True)
    rows_of = [np.flatnonzero(inverse == i) for i in range(len(unique))]
    drawn: dict[str, list[float]] = {
        name: [] for name in [*risks, "reference − fitted", "reference − learned"]
    }
    for _round in range(rounds):
        picked = np.concatenate([rows_of[i] for i in rng.integers(0, len(unique), len(unique))])
        found = {name: _auc(outcomes[picked], risk[picked]) for name, risk in risks.items()}
        for name, value in found.items():
            if value is not None:
                drawn[name].append(value)
        for model in ("fitted", "learned"):
            if found.get("reference") is not None and found.get(model) is not None:
                drawn[f"reference − {model}"].append(found["reference"] - found[model])
    return {
        name: [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]
        for name, values in drawn.items()
        if values
    }


# What a data scientist would try: a few depths, leaf sizes and learning rates, picked by ROC AUC on
# accounts left out of the training days (GroupKFold by account: an account's days are not independent).
REFERENCE_GRID = (
    {"learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20, "max_iter": 100},
    {"learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 40, "max_iter": 200},
    {"learning_rate": 0.05, "max_leaf_nodes": 7, "min_samples_leaf": 80, "max_iter": 200},
    {"learning_rate": 0.03, "max_leaf_nodes": 4, "min_samples_leaf": 150, "max_iter": 300},
)


def _tune_reference(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[dict, float | None]:
    """The reference's settings: the grid's best by grouped 3-fold cross-validation on the training samples."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GroupKFold

    best: tuple[float, dict] | None = None
    for candidate in REFERENCE_GRID:
        settings = {**candidate, "l2_regularization": 1.0, "early_stopping": False, "random_state": 0}
        found = []
        for fit_rows, check_rows in GroupKFold(n_splits=3).split(x, y, groups):
            model = HistGradientBoostingClassifier(**settings).fit(x[fit_rows], y[fit_rows])
            auc = _auc(y[check_rows], model.predict_proba(x[check_rows])[:, 1])
            if auc is not None:
                found.append(auc)
        if found and (best is None or float(np.mean(found)) > best[0]):
            best = (float(np.mean(found)), settings)
    if best is None:
        return {"random_state": 0}, None
    return best[1], best[0]


def _split(samples, fit) -> tuple[np.ndarray, np.ndarray]:
    """Which samples train and which test, exactly as the fit splits them (`fit.split_days` when the
    product has it: later days and accounts the training never saw; else the later third of the days)."""
    split_days = getattr(fit, "split_days", None)
    if split_days is not None:
        _train_days, _test_days, train, test = split_days(samples)
        train_keys = set(zip(train.day, train.account, strict=True))
        test_keys = set(zip(test.day, test.account, strict=True))
    else:
        cut = max(1, (len(samples.days) * 2) // 3)
        later = set(samples.days[cut:])
        train_keys = {(d, a) for d, a in zip(samples.day, samples.account, strict=True) if d not in later}
        test_keys = {(d, a) for d, a in zip(samples.day, samples.account, strict=True) if d in later}
    keys = list(zip(samples.day, samples.account, strict=True))
    return np.array([k in train_keys for k in keys]), np.array([k in test_keys for k in keys])


def measure_company(name: str, args: argparse.Namespace) -> dict:
    """Build one company in a fresh database and judge every model on its held-out days."""
    from _setup import throwaway_database

    _workdir, drop_database = throwaway_database(f"tp-bench-truth-{name}-")
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    from touchpoint.health import fit, services
    from touchpoint.health.backtest import Period, collect, evaluate
    from touchpoint.health.measures import registered_measures
    from touchpoint.health.scoring import Definition, score

    started = time.perf_counter()
    if name == "demo":
        call_command(
            "demo",
            "--accounts",
            str(args.demo_accounts),
            "--days",
            str(args.demo_days),
            "--seed",
            str(args.demo_seed),
            stdout=StringIO(),
        )
        shape = {"accounts": args.demo_accounts, "days": args.demo_days, "seed": args.demo_seed}
    else:
        from bench.companies import generate_simulated_company

        generate_simulated_company(args.seed, accounts=args.accounts, days=args.days)
        shape = {"accounts": args.accounts, "days": args.days, "seed": args.seed}
    built = time.perf_counter() - started
    _progress(f"{name}: built in {built:.0f}s on {connection.vendor}")

    scorecard = services.ensure_default_scorecard()
    assert scorecard.current_version is not None  # ensure_default_scorecard gives it one
    definition = Definition.from_dict(scorecard.current_version.definition)
    keys = list(
        dict.fromkeys([*(rule.measure for rule in definition.rules), *(m.key for m in registered_measures())])
    )
    if args.leave_out:
        # What the figures owe to some measures: every model (and the scorecards) without them.
        left_out = set(args.leave_out.split(","))
        keys = [key for key in keys if key not in left_out]
        definition = Definition(
            rules=tuple(rule for rule in definition.rules if rule.measure not in left_out),
            green_at=definition.green_at,
            red_below=definition.red_below,
        )
    period = Period.around_today(every=args.every)
    started = time.perf_counter()
    samples = collect(period, measures=keys)
    _progress(
        f"{name}: {len(samples.day):,} samples on {len(samples.days)} days in {time.perf_counter() - started:.0f}s"
    )

    proposal = fit.propose(definition, period, samples=samples)
    train_mask, test_mask = _split(samples, fit)
    values = np.array(
        [[np.nan if (v := row.get(key)) is None else float(v) for key in keys] for row in samples.values],
        dtype=float,
    )
    outcomes = np.array(samples.outcome, dtype=bool)
    accounts = np.array(samples.account)
    # The product's AUCs leave out samples a scorecard cannot score (no evidence at all); the
    # reference is judged on the same test samples.
    default_scores = np.array([np.nan if (s := score(v, definition)) is None else s for v in samples.values])
    fitted_scores = np.array(
        [np.nan if (s := score(v, proposal.definition)) is None else s for v in samples.values]
    )
    unscored = int((test_mask & np.isnan(default_scores)).sum())
    test_mask &= ~np.isnan(default_scores)

    from sklearn.ensemble import HistGradientBoostingClassifier

    # A measure never known on the training days (no touches in this company) tells the model nothing.
    usable = ~np.isnan(values[train_mask]).all(axis=0)
    started = time.perf_counter()
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    # One thread: on a shared machine OpenMP's spinning threads made the small fits ten times slower.
    with threadpool_limits(limits=1):
        settings, cv_auc = _tune_reference(
            values[train_mask][:, usable], outcomes[train_mask], accounts[train_mask]
        )
        reference = HistGradientBoostingClassifier(**settings)
        reference.fit(values[train_mask][:, usable], outcomes[train_mask])
        reference_risk = reference.predict_proba(values[test_mask][:, usable])[:, 1]
    _progress(f"{name}: reference tuned and fitted in {time.perf_counter() - started:.0f}s: {settings}")

    test_outcomes = outcomes[test_mask]
    risks = {
        "default": -default_scores[test_mask],
        "fitted": -fitted_scores[test_mask],
        "reference": reference_risk,
    }
    learned: dict = {"available": False}
    try:
        from touchpoint.health.learned import propose_learned
    except ImportError:
        pass
    else:
        started = time.perf_counter()
        learned_proposal = propose_learned(definition, period, samples=samples)
        learned = {
            "available": True,
            "auc": learned_proposal.proposed.auc,
            "current_auc": learned_proposal.current.auc,
            "test_days_agree": learned_proposal.test_days == proposal.test_days,
            "seconds": round(time.perf_counter() - started, 1),
        }
        # Per-sample scores, when the module gives them, for the learned model's interval too.
        learned_scores = getattr(sys.modules["touchpoint.health.learned"], "learned_scores", None)
        model = getattr(learned_proposal, "model", None)
        if learned_scores is not None and model is not None:
            scores = np.asarray(learned_scores(model, samples), dtype=float)[test_mask]
            if not np.isnan(scores).any():
                risks["learned"] = -scores
    aucs = {name_: _auc(test_outcomes, risk) for name_, risk in risks.items()}
    aucs["learned"] = learned.get("auc")
    # The product's own figures for the same samples, which these must agree with.
    agree = all(
        (product is None) == (ours is None) and (product is None or abs(product - ours) < 1e-9)
        for product, ours in (
            (proposal.current.auc, aucs["default"]),
            (proposal.proposed.auc, aucs["fitted"]),
        )
    )
    intervals = _intervals(accounts[test_mask], test_outcomes, risks, args.bootstrap, args.seed)

    # Per measure: how often it is known, for accounts that churned next and those that stayed (a
    # measure known mostly for one of them says who leaves by being there at all), and its own AUC.
    measures = {}
    for column, key in enumerate(keys):
        known = ~np.isnan(values[test_mask, column])
        own = None
        if known.sum() > 10:
            own = _auc(test_outcomes[known], -values[test_mask, column][known])
        measures[key] = {
            "known_churned": float(known[test_outcomes].mean()) if test_outcomes.any() else None,
            "known_stayed": float(known[~test_outcomes].mean()) if (~test_outcomes).any() else None,
            "auc_higher_is_safer": own,
        }
    all_days = evaluate(samples, definition)
    drop_database()

    def gap(model: str) -> float | None:
        if aucs["reference"] is None or aucs.get(model) is None:
            return None
        return aucs["reference"] - aucs[model]

    goals = {
        "reference − fitted ≤ 0.03": None if gap("fitted") is None else gap("fitted") <= FITTED_GAP_GOAL,
        "reference − learned ≤ 0.01": None if gap("learned") is None else gap("learned") <= LEARNED_GAP_GOAL,
    }
    if name == "demo":
        goals["default ≥ 0.75"] = None if aucs["default"] is None else aucs["default"] >= DEMO_DEFAULT_GOAL
    return {
        "company": name,
        "shape": shape,
        "database": connection.vendor,
        "left_out": args.leave_out,
        "seconds_to_build": round(built, 1),
        "horizon": period.horizon,
        "train_days": [d.isoformat() for d in proposal.train_days],
        "test_days": [d.isoformat() for d in proposal.test_days],
        "train_samples": int(train_mask.sum()),
        "train_positives": int(outcomes[train_mask].sum()),
        "test_samples": int(test_mask.sum()),
        "test_positives": int(test_outcomes.sum()),
        "test_samples_unscored": unscored,
        "agrees_with_product": agree,
        "auc": aucs,
        "intervals": intervals,
        "gaps": {"reference − fitted": gap("fitted"), "reference − learned": gap("learned")},
        "goals": goals,
        "default_auc_all_days": all_days.auc,
        "reference_measures": [key for key, use in zip(keys, usable, strict=True) if use],
        "reference_settings": settings,
        "reference_cv_auc": cv_auc,
        "fitted_improves": proposal.improves,
        "fitted_definition": proposal.definition.as_dict(),
        "learned": learned,
        "measures": measures,
    }


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def report(result: dict) -> list[str]:
    shape = result["shape"]
    lines = [
        f"== {result['company']}: {shape['accounts']:,} accounts, {shape['days']} days, seed {shape['seed']} "
        f"({result['database']}, built in {result['seconds_to_build']:.0f}s); horizon {result['horizon']} days"
        + (f"; without {result['left_out']}" if result["left_out"] else ""),
        f"   train {len(result['train_days'])} days ({result['train_samples']:,} samples, "
        f"{result['train_positives']:,} churned or contracted next); test {len(result['test_days'])} days "
        f"{result['test_days'][0]}…{result['test_days'][-1]} ({result['test_samples']:,} samples, "
        f"{result['test_positives']:,} churned or contracted; {result['test_samples_unscored']:,} without data left out)",
        f"   {'model':<26}{'AUC, test days':>15}   95 % interval (by account)",
    ]
    labels = {
        "default": "default scorecard",
        "fitted": "fitted scorecard",
        "learned": "learned model",
        "reference": "reference (HistGB)",
    }
    for model in MODELS:
        if model == "learned" and not result["learned"]["available"]:
            lines.append(f"   {labels[model]:<26}{'not available':>15}")
            continue
        interval = result["intervals"].get(model)
        band = f"{interval[0]:.3f}–{interval[1]:.3f}" if interval else ""
        lines.append(f"   {labels[model]:<26}{_figure(result['auc'][model]):>15}   {band}")
    for name, value in result["gaps"].items():
        interval = result["intervals"].get(name)
        band = f" (95 %: {interval[0]:+.3f}…{interval[1]:+.3f})" if interval else ""
        goal = FITTED_GAP_GOAL if "fitted" in name else LEARNED_GAP_GOAL
        verdict = "" if value is None else ("  met" if value <= goal else "  MISSED")
        lines.append(
            f"   gap {name}: {'n/a' if value is None else f'{value:+.3f}'}{band}  goal ≤ {goal}{verdict}"
        )
    if result["company"] == "demo":
        value = result["auc"]["default"]
        verdict = "" if value is None else ("  met" if value >= DEMO_DEFAULT_GOAL else "  MISSED")
        lines.append(
            f"   default scorecard on the demo: {_figure(value)} on the test days, "
            f"{_figure(result['default_auc_all_days'])} over all sampled days  goal ≥ {DEMO_DEFAULT_GOAL}{verdict}"
        )
    lines.append(
        f"   fitted proposal improves on the default: {'yes' if result['fitted_improves'] else 'no'}"
    )
    if not result["agrees_with_product"]:
        lines.append(
            "   WARNING: the default and fitted AUCs here differ from the product's own (fit.propose)"
        )
    lines.append(
        "   measures (test days): known for churned / stayed, AUC of the value alone (higher = safer)"
    )
    for key, facts in result["measures"].items():
        lines.append(
            f"     {key:<22}{_share(facts['known_churned']):>6} / {_share(facts['known_stayed']):<6}"
            f"{_figure(facts['auc_higher_is_safer']):>8}"
        )
    return lines


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--company", choices=[*COMPANIES, "all"], default="all")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    parser.add_argument("--demo-accounts", type=int, default=1000)
    parser.add_argument("--demo-days", type=int, default=540)
    parser.add_argument("--demo-seed", type=int, default=42)
    parser.add_argument("--accounts", type=int, default=1500, help="Accounts of the simulated company.")
    parser.add_argument("--days", type=int, default=270, help="Days of history of the simulated company.")
    parser.add_argument("--seed", type=int, default=19, help="Seed of the simulated company.")
    parser.add_argument("--every", type=int, default=7, help="Days between sampled days.")
    parser.add_argument("--bootstrap", type=int, default=200, help="Resamples for the intervals (0: none).")
    parser.add_argument("--leave-out", default="", help="Measures (comma-separated) no model may use.")
    parser.add_argument("--result", help=argparse.SUPPRESS)  # one company, in this process, into this file
    args = parser.parse_args()

    if args.result:
        Path(args.result).write_text(json.dumps(measure_company(args.company, args)))
        return
    # Each company in its own process, so each gets its own throw-away database and Django set-up.
    results = []
    for name in COMPANIES if args.company == "all" else (args.company,):
        with tempfile.TemporaryDirectory(prefix="tp-bench-truth-") as folder:
            out = Path(folder) / "result.json"
            command = [sys.executable, __file__, *_passed_on(args), "--company", name, "--result", str(out)]
            subprocess.run(command, check=True, env=os.environ.copy())
            results.append(json.loads(out.read_text()))
        if not args.json:
            print("\n".join(report(results[-1])), flush=True)
    if args.json:
        print(json.dumps({"companies": results}, indent=2, ensure_ascii=False))


def _passed_on(args: argparse.Namespace) -> list[str]:
    return [
        f"--{option.replace('_', '-')}={getattr(args, option)}"
        for option in (
            "demo_accounts",
            "demo_days",
            "demo_seed",
            "accounts",
            "days",
            "seed",
            "every",
            "bootstrap",
            "leave_out",
        )
    ]


if __name__ == "__main__":
    main()
