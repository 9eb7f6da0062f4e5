"""How trustworthy the weekly alerts are: precision and recall per kind against the sample's truth.

Reads one completed run over the twelve sample weeks (a COPY of the demo database: `make demo`
writes data/demo.duckdb), maps every found reason to the true reason of most of its calls
(`truth/call_reasons.csv`), and scores the alerts against the weekly shapes the sample generator
planted (`truth/emerging.json`):

- up (a `new` or `rising` alert is right): the emerging reason from its first week on, each
  seasonal reason in its peak weeks;
- down (a `falling` alert is right): the reason that falls after its FAQ page from the page's
  week on, and a seasonal reason in the two weeks after its peak ends.

Recall is per event: the app-update problem, Christmas hours and tyre change (up; for `new`,
only the emerging reason), meter reading in the FAQ week or the one after and the end of the
tyre season (down). The current test is the `is_emerging` flag of the run's
`weekly_reason_stats` (Poisson, p < 0.01, ratio >= 2, at least 8 calls); it has no kinds, so
its flags count as rising.

Two checks that do not depend on the sample's clustering: the same scoring on the true weekly
counts (perfect clustering), and false alerts per week on simulated steady, overdispersed
reasons (every alert there is false).

    python benchmarks/alerts.py --db /tmp/demo-copy.duckdb [--truth data/sample/truth]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from contact_reasons.alerts import detect_alerts
from contact_reasons.config import AlertSettings
from contact_reasons.storage import Database

VARIANTS: dict[str, AlertSettings] = {
    "negative binomial + BH (chosen)": AlertSettings(),
    "negative binomial + BH, no related-reason groups": AlertSettings(related_neighbours=0),
    "negative binomial + BH, alerted weeks left out of the history": AlertSettings(
        exclude_alerted_weeks=True
    ),
    "negative binomial + BH, 1-2 week windows": AlertSettings(two_week_window=True),
    "moderated t + BH": AlertSettings(model="moderated_t"),
    "moderated t + BH, 1-2 week windows": AlertSettings(model="moderated_t", two_week_window=True),
    "Poisson + BH": AlertSettings(model="poisson"),
}
CURRENT = "current Poisson test (is_emerging)"


def truth_sets(
    truth: dict[str, object],
) -> tuple[set[tuple[str, str]], set[tuple[str, str]], dict[str, tuple[str, set[str]]]]:
    """Reason-weeks where up / down alerts are right, and the events recall is counted on."""
    weeks: list[str] = truth["weeks"]  # type: ignore[assignment]
    up: set[tuple[str, str]] = set()
    down: set[tuple[str, str]] = set()
    events: dict[str, tuple[str, set[str]]] = {}
    for e in truth["emerging"]:  # type: ignore[attr-defined]
        span = {w for w in weeks if w >= e["first_week"]}
        up |= {(e["reason_key"], w) for w in span}
        events[f"{e['reason_key']} (new)"] = ("new", span)
        events[f"{e['reason_key']} (up)"] = ("up", span)
    for e in truth["seasonal"]:  # type: ignore[attr-defined]
        peak = set(e["peak_weeks"])
        up |= {(e["reason_key"], w) for w in peak}
        events[f"{e['reason_key']} (up)"] = ("up", peak)
        after = [w for w in weeks if w > max(peak)][:2]
        if after:
            down |= {(e["reason_key"], w) for w in after}
            events[f"{e['reason_key']} season end (down)"] = ("down", set(after))
    for e in truth["falls_after_faq"]:  # type: ignore[attr-defined]
        start = e["faq_published_week"]
        down |= {(e["reason_key"], w) for w in weeks if w >= start}
        first_two = [w for w in weeks if w >= start][:2]
        events[f"{e['reason_key']} (down)"] = ("down", set(first_two))
    return up, down, events


def score(
    alerts: pl.DataFrame,
    mapping: dict[int, str],
    up: set[tuple[str, str]],
    down: set[tuple[str, str]],
    events: dict[str, tuple[str, set[str]]],
) -> list[dict[str, object]]:
    """Precision and event recall per kind, and for new + rising together."""
    found = [
        (str(r["kind"]), mapping.get(int(r["reason_id"]), "?"), str(r["week"]))
        for r in alerts.iter_rows(named=True)
    ]
    out = []
    for kind, kinds, right, event_kind in (
        ("new", {"new"}, up, "new"),
        ("rising", {"rising"}, up, "up"),
        ("new + rising", {"new", "rising"}, up, "up"),
        ("falling", {"falling"}, down, "down"),
    ):
        mine = [(key, week) for k, key, week in found if k in kinds]
        true = sum((key, week) in right for key, week in mine)
        wanted = {name: span for name, (ek, span) in events.items() if ek == event_kind}
        caught = [
            name
            for name, span in wanted.items()
            if any(key == name.split(" ")[0] and week in span for key, week in mine)
        ]
        out.append(
            {
                "kind": kind,
                "alerts": len(mine),
                "true": true,
                "precision": true / len(mine) if mine else None,
                "events": len(wanted),
                "caught": len(caught),
                "recall": len(caught) / len(wanted) if wanted else None,
                "caught_names": sorted(caught),
            }
        )
    return out


#: Simulated steady reasons: (log-mean of weekly calls, its spread, dispersions drawn from).
#: "like the sample": the demo run's reasons (median 4 calls a week, dispersion about 0);
#: "busier, overdispersed": 9 calls a week and a quarter each of dispersion 0, .02, .05, .1.
PROFILES = {
    "like the sample": (1.4, 0.7, (0.0, 0.0, 0.01, 0.02)),
    "busier, overdispersed": (2.2, 0.8, (0.0, 0.02, 0.05, 0.1)),
}


def simulate_false_alerts(
    settings: AlertSettings, runs: int, profile: str = "busier, overdispersed", seed: int = 11
) -> float:
    """Mean alerts per tested week on steady reasons (all of them false).

    The reasons get random centres, so the related-reason groups are tested too.
    """
    rng = np.random.default_rng(seed)
    places = np.random.default_rng(seed + 1)
    weeks = [f"2026-W{w:02d}" for w in range(36, 48)]
    log_mean, spread, dispersions = PROFILES[profile]
    total = 0
    for _ in range(runs):
        n_reasons = 100
        means = np.exp(rng.normal(log_mean, spread, n_reasons))
        alphas = rng.choice(dispersions, n_reasons)
        rows = []
        for rid in range(n_reasons):
            mu, a = means[rid], alphas[rid]
            lam = rng.gamma(1 / a, a * mu, len(weeks)) if a > 0 else np.full(len(weeks), mu)
            for week, count in zip(weeks, rng.poisson(lam), strict=True):
                rows.append((week, rid, int(count)))
        frame = pl.DataFrame(rows, schema=["week", "reason_id", "calls"], orient="row")
        reasons = pl.DataFrame(
            {
                "reason_id": list(range(n_reasons)),
                "label": [f"reason {r}" for r in range(n_reasons)],
                "centre": places.normal(size=(n_reasons, 16)).tolist(),
            }
        )
        total += detect_alerts(frame, reasons, settings).height
    return total / (runs * (len(weeks) - settings.min_history_weeks))


def _calls_with_vectors(db: Database) -> pl.DataFrame:
    """Every call with its found reason, week and cached vector."""
    calls = db.table("calls").select("call_id", "week", "text_hash")
    vectors = db.table("embeddings").select("text_hash", "vector")
    return (
        db.table("call_reasons")
        .select("call_id", "reason_id")
        .join(calls, on="call_id")
        .join(vectors, on="text_hash")
    )


def _centres(calls: pl.DataFrame) -> dict[int, list[float]]:
    matrix = np.asarray(calls["vector"].to_list(), dtype=np.float64)
    ids = calls["reason_id"].to_numpy()
    return {int(r): matrix[ids == r].mean(axis=0).tolist() for r in np.unique(ids) if r >= 0}


def with_centres(reasons: pl.DataFrame, calls: pl.DataFrame) -> pl.DataFrame:
    """The reasons with a centre each.

    A database from before the catalogue stored none; the centre is then the mean of the
    reason's calls' cached vectors.
    """
    if "centre" in reasons.columns and reasons["centre"].null_count() < reasons.height:
        return reasons
    centres = _centres(calls)
    return reasons.drop("centre", strict=False).with_columns(
        pl.col("reason_id")
        .map_elements(lambda r: centres.get(int(r)), return_dtype=pl.List(pl.Float64))
        .alias("centre")
    )


def cut_in_two(
    calls: pl.DataFrame, true_calls: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, dict[int, str]]:
    """A finer clustering: every found reason cut into two random halves (by call id).

    Returns the halves' weekly counts, the halves as reasons (label, centre of their calls) and
    each half's true reason of most calls. A surge is then spread over twice as many reasons.
    """
    half = calls.with_columns(
        pl.when(pl.col("reason_id") >= 0)
        .then(pl.col("reason_id") * 2 + pl.col("call_id").hash(seed=7) % 2)
        .otherwise(pl.col("reason_id"))
        .cast(pl.Int32)
        .alias("reason_id")
    )
    weekly = half.group_by("week", "reason_id").agg(pl.len().cast(pl.Int64).alias("calls"))
    centres = _centres(half)
    reasons = pl.DataFrame(
        {
            "reason_id": list(centres),
            "label": [f"half {r}" for r in centres],
            "centre": list(centres.values()),
        },
        schema={"reason_id": pl.Int32, "label": pl.String, "centre": pl.List(pl.Float64)},
    )
    return weekly, reasons, _majority(half, true_calls)


def _majority(call_reasons: pl.DataFrame, true_calls: pl.DataFrame) -> dict[int, str]:
    majority = (
        call_reasons.join(true_calls, on="call_id")
        .group_by("reason_id", "reason_key")
        .agg(pl.len().alias("n"))
        .sort(["reason_id", "n", "reason_key"], descending=[False, True, False])
        .group_by("reason_id", maintain_order=True)
        .first()
    )
    return dict(zip(majority["reason_id"].to_list(), majority["reason_key"], strict=True))


def _table(rows: list[dict[str, object]], method: str) -> list[str]:
    lines = []
    for r in rows:
        p = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        rec = "-" if r["recall"] is None else f"{r['recall']:.2f}"
        lines.append(
            f"| {method} | {r['kind']} | {r['alerts']} | {p} | {r['caught']}/{r['events']} "
            f"({rec}) |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Score every variant on the run, on the true counts, and on simulated steady reasons."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path, help="a COPY of a demo database")
    parser.add_argument("--truth", type=Path, default=Path("data/sample/truth"))
    parser.add_argument("--simulations", type=int, default=30)
    parser.add_argument("--output", type=Path, default=None, help="write the tables here")
    args = parser.parse_args(argv)

    truth = json.loads((args.truth / "emerging.json").read_text(encoding="utf-8"))
    up, down, events = truth_sets(truth)
    true_calls = pl.read_csv(args.truth / "call_reasons.csv", columns=["call_id", "reason_key"])
    with Database(args.db, read_only=True) as db:
        stats = db.table("weekly_reason_stats")
        reasons = db.table("reasons")
        call_reasons = db.table("call_reasons")
        calls = _calls_with_vectors(db)
    reasons = with_centres(reasons, calls)
    mapping = _majority(call_reasons, true_calls)

    head = [
        "| method | kind | alerts | precision | events caught (recall) |",
        "|---|---|---|---|---|",
    ]
    lines = ["### One run of the pipeline over the twelve sample weeks", "", *head]
    current = stats.filter(pl.col("is_emerging")).select(
        "week", "reason_id", pl.lit("rising").alias("kind")
    )
    lines += _table(score(current, mapping, up, down, events), CURRENT)
    details: list[str] = []
    for name, settings in VARIANTS.items():
        alerts = detect_alerts(stats, reasons, settings)
        lines += _table(score(alerts, mapping, up, down, events), name)
        if settings == AlertSettings():
            details = [
                f"| {r['week']} | {r['kind']} | {r['label']} | {mapping.get(r['reason_id'], '?')} "
                f"| {r['evidence']} |"
                for r in alerts.iter_rows(named=True)
            ]
    keys = sorted(truth["weekly_counts"])
    ids = {k: i for i, k in enumerate(keys)}
    counts = pl.DataFrame(
        [
            (week, ids[key], n)
            for key, per_week in truth["weekly_counts"].items()
            for week, n in per_week.items()
        ],
        schema=["week", "reason_id", "calls"],
        orient="row",
    )
    identity = {i: k for k, i in ids.items()}
    lines += ["", "### The true weekly counts (perfect clustering)", "", *head]
    for name, settings in VARIANTS.items():
        alerts = detect_alerts(counts, None, settings)
        lines += _table(score(alerts, identity, up, down, events), name)
    weekly_halves, halves, half_mapping = cut_in_two(calls, true_calls)
    lines += [
        "",
        "### The run with every found reason cut into two random halves (a finer clustering)",
        "",
        *head,
    ]
    for name in (
        "negative binomial + BH (chosen)",
        "negative binomial + BH, no related-reason groups",
    ):
        alerts = detect_alerts(weekly_halves, halves, VARIANTS[name])
        lines += _table(score(alerts, half_mapping, up, down, events), name)
    lines += [
        "",
        "### False alerts per week on steady reasons, simulated "
        f"({args.simulations} runs x 100 reasons x 12 weeks)",
        "",
        f"| method | {' | '.join(PROFILES)} |",
        "|---|---|---|",
    ]
    for name, settings in VARIANTS.items():
        rates = [simulate_false_alerts(settings, args.simulations, p) for p in PROFILES]
        lines.append(f"| {name} | {' | '.join(f'{r:.3f}' for r in rates)} |")
    lines += [
        "",
        "### The chosen test's alerts on the run",
        "",
        "| week | kind | reason | true reason of most calls | evidence |",
        "|---|---|---|---|---|",
        *details,
    ]
    text = "\n".join(lines) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
