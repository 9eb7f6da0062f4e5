"""Benchmark of the reason catalogue on the sample: stability, speed, quality, the issue's check.

Embeddings come from a database that already holds the sample's (default /work/demo.duckdb, or
any `contact-reasons run` over data/sample/calls): they are copied into fresh databases, so
nothing is embedded again apart from FAQ pages and keyword candidates. Usage::

    python benchmarks/catalogue.py --embeddings-from DB [--out DIR] [--part PART] [--set S.K=V]

`--per-week N [--offset K] [--updates-only]` runs `simulate` on the subset the twelve-week test
uses (N calls of each week's file plus every app-update call), without the refits if asked.
`--set catalogue.novelty_alpha=0` (any `SECTION.KEY=JSON`, repeatable) changes a setting, e.g. to
measure the update without its novelty test.

Parts (`--part`; `all` runs simulate, weekly and done):
  simulate  the twelve weeks in memory with the catalogue's own functions (`update_catalogue`
          each week, clustering as `catalogue.update_clustering` says, then `refit_catalogue`),
          without the database, FAQ or keyword embedding:
          the stability and quality figures in minutes instead of an hour on a loaded machine.
  weekly  the twelve weeks one run each, in order, then a refit: share of calls whose reason id
          changes between updates and at the refit; time of an update vs the refit; the week the
          app-update reason got its id; NMI/ARI of the week-by-week history and of one refit over
          all twelve weeks against data/sample/truth/call_reasons.csv.
  wrapup  wrap-up codes at a first run, in memory (issue 17): 10 calls of each of the 20
          largest true reasons carry a code; the refit without seeds, with the codes as
          must-link seeds, and with the metric learned on them (`seeded.wrapup_method`).
  cost    the update's novelty test alone at `--stored` + `--new` calls (random vectors;
          default 100,000 + 10,000, issue 18's size): its seconds with the sampled reference
          set and against every stored call.
  done    the issue's "Done when": W36-W46 in one run, rename the largest reason, W47 alone
          (>= 95 % of W36-W46 calls keep their id, rename shown, W36-W46 statistics unchanged),
          then `run --refit` (>= 85 % keep their id, the rename survives). Also NMI/ARI after
          the update and the refit, and whether each curated reason's calls stay together at
          the refit; `--merge-pieces N` merges N pairs of pieces of one true reason and `--split N`
          splits the N largest reasons before W47 (more curated reasons: the refit's seeds,
          `seeded.catalogue_seeds`, issue 17). With `--set seeded.wrapup_column='"wrapup_code"'`
          the week files get that column: 10 calls of each of the 20 largest true reasons
          carry their reason's key (`wrapup_codes`); the first run and the refit are seeded.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from contact_reasons import cli, ingest, pipeline  # noqa: E402
from contact_reasons.config import Settings  # noqa: E402
from contact_reasons.embed import load_embedder  # noqa: E402
from contact_reasons.evaluate import score  # noqa: E402
from contact_reasons.storage import Database  # noqa: E402

SAMPLE = ROOT / "data" / "sample"
WEEKS = sorted((SAMPLE / "calls").glob("calls_*.csv"))
FAQ = SAMPLE / "faq"
APP = "new_app_update_problem"


def fresh_db(path: Path, source: Path) -> None:
    """A new database holding only the embedding cache of `source`."""
    path.unlink(missing_ok=True)
    with Database(source, read_only=True) as src:
        embeddings = src.table("embeddings")
    with Database(path) as db:
        db.add_embeddings(embeddings)


def run(
    db_path: Path, files: list[Path], settings: Settings, embedder: Any, *, refit: bool = False
) -> dict[str, Any]:
    """One weekly run, as the flow does it, without Prefect."""
    ingested = ingest.read_inputs(files, settings=settings)
    run_id = f"run-{uuid.uuid4().hex[:12]}"
    with Database(db_path) as db:
        db.start_run(run_id, ingested.files.to_dicts(), settings.model_dump_json())
        start = time.perf_counter()
        summary = pipeline.run_weekly(
            db, run_id, ingested, [FAQ], settings, refit=refit, embedder=embedder
        )
        summary["seconds"] = round(time.perf_counter() - start, 1)
    return summary


def assignments(db_path: Path) -> pl.DataFrame:
    """Every call's current reason id."""
    with Database(db_path, read_only=True) as db:
        return db.table("call_reasons").select("call_id", "reason_id")


def changed_share(before: pl.DataFrame, after: pl.DataFrame) -> tuple[float, int]:
    """Share of the calls in both frames whose reason id differs, and how many."""
    both = before.join(after, on="call_id", suffix="_after")
    if both.height == 0:
        return 0.0, 0
    return float((both["reason_id"] != both["reason_id_after"]).mean()), both.height


def truth() -> pl.DataFrame:
    """The sample's true reason per call."""
    return pl.read_csv(SAMPLE / "truth" / "call_reasons.csv").select(
        "call_id", "reason_key", "week"
    )


def quality(assigned: pl.DataFrame) -> dict[str, Any]:
    """NMI/ARI of assigned reasons against the truth (unexplained calls: their own label -1)."""
    joined = truth().join(assigned, on="call_id")
    result = score(joined["reason_key"].to_list(), joined["reason_id"].to_numpy())
    return {k: result[k] for k in ("nmi", "ari", "reasons") if k in result} | {
        "calls": joined.height
    }


def app_reason_week(db_path: Path) -> dict[str, Any]:
    """The reason holding most app-update calls, when it was created, and its purity."""
    t = truth()
    a = assignments(db_path).join(t, on="call_id")
    app = a.filter(pl.col("reason_key") == APP)
    if app.height == 0:
        return {}
    top = app.group_by("reason_id").len().sort("len", descending=True).row(0, named=True)
    members = a.filter(pl.col("reason_id") == top["reason_id"])
    with Database(db_path, read_only=True) as db:
        created = db.query(
            "SELECT e.occurred_at, e.run_id FROM reason_events e "
            "WHERE e.action = 'created' AND list_contains(e.reason_ids, ?)",
            [top["reason_id"]],
        )
    return {
        "reason_id": top["reason_id"],
        "app_calls_in_it": top["len"],
        "app_calls": app.height,
        "purity": round(top["len"] / members.height, 3),
        "created_by_run": created["run_id"][0] if created.height else None,
    }


def part_weekly(out: Path, source: Path, settings: Settings, embedder: Any) -> dict[str, Any]:
    """The twelve weeks one run each, then a refit; and one refit over all weeks."""
    db_path = out / "weekly.duckdb"
    fresh_db(db_path, source)
    rows = []
    previous = None
    week_of_run = {}
    for file in WEEKS:
        summary = run(db_path, [file], settings, embedder)
        now = assignments(db_path)
        share, n = changed_share(previous, now) if previous is not None else (0.0, 0)
        week = file.stem.removeprefix("calls_")
        week_of_run[summary["run_id"]] = week
        rows.append(
            {
                "week": week,
                "mode": summary["mode"],
                "seconds": summary["seconds"],
                "new_reasons": len(summary["new_reasons"]),
                "reasons": summary["reasons_found"],
                "unexplained": round(summary["unexplained_share"], 3),
                "changed_share": round(share, 4),
                "compared": n,
            }
        )
        print(json.dumps(rows[-1]), flush=True)  # noqa: T201
        previous = now
    history = assignments(db_path)
    app = app_reason_week(db_path)
    app["created_in_week"] = week_of_run.get(app.get("created_by_run"), None)
    refit = run(db_path, [WEEKS[-1]], settings, embedder, refit=True)
    after = assignments(db_path)
    refit_share, refit_n = changed_share(history, after)
    whole_db = out / "whole.duckdb"
    fresh_db(whole_db, source)
    whole = run(whole_db, WEEKS, settings, embedder)
    return {
        "weeks": rows,
        "update_seconds_median": sorted(r["seconds"] for r in rows[1:])[len(rows[1:]) // 2],
        "refit_seconds": refit["seconds"],
        "whole_refit_seconds": whole["seconds"],
        "refit_changed_share": round(refit_share, 4),
        "refit_compared": refit_n,
        "app_update": app,
        "quality_week_by_week": quality(history),
        "quality_after_refit": quality(after),
        "quality_one_refit": quality(assignments(whole_db)),
    }


def part_simulate(
    source: Path,
    settings: Settings,
    *,
    per_week: int | None = None,
    offset: int = 0,
    refits: bool = True,
) -> dict[str, Any]:
    """Week by week in memory: one update per week, then a refit; and one refit over all.

    `per_week`: only the calls in rows `offset` + 1 ... `offset` + `per_week` of each week's
    file, plus every app-update call (the subset `tests/test_catalogue_weeks.py` runs, at
    `offset` 0 and 70). `refits=False` leaves out the two refits (the updates' figures only).
    """
    import numpy as np

    from contact_reasons import catalogue as cat
    from contact_reasons import cluster, weekly

    cs = settings.cluster.model_copy(update={"label_phrases": False})
    with Database(source, read_only=True) as db:
        calls = db.read_calls()
        model = db.table("embeddings")["model_id"][0]
        cached = db.cached_embeddings(model, calls["text_hash"].to_list())
    if per_week is not None:
        app_ids = truth().filter(pl.col("reason_key") == APP)["call_id"].to_list()
        rows_in = (pl.col("source_row") > offset) & (pl.col("source_row") <= offset + per_week)
        calls = calls.filter(rows_in | pl.col("call_id").is_in(app_ids))
    vectors_all = np.stack([cached[h] for h in calls["text_hash"]])
    weeks = sorted(calls["week"].unique().to_list())
    now = datetime(2026, 12, 1)
    catalogue = cat.empty_catalogue()
    current = cat.no_assignments()
    space = None
    rows = []
    created_week: dict[int, str] = {}

    def state(k: int) -> tuple[pl.DataFrame, np.ndarray, list[Any], np.ndarray]:
        rows_ = np.flatnonzero(calls["week"].is_in(weeks[: k + 1]).to_numpy())
        window = calls[rows_]
        return window, vectors_all[rows_], window["detected_language"].to_list(), rows_

    def discover_all(window: pl.DataFrame, vec: np.ndarray, langs: list[Any]) -> Any:
        return cluster.discover_reasons(
            window["reason_text"].to_list(),
            vec,
            cs,
            languages=langs,
            fit_mask=weekly.fit_mask(window, cs),
        )

    def refit(k: int) -> tuple[Any, float]:
        window, vec, langs, _ = state(k)
        start = time.perf_counter()
        mask = weekly.fit_mask(window, cs)
        found = discover_all(window, vec, langs)
        sp = cat.CatalogueSpace("sim", model, 0.0, cluster.fit_space(vec, langs, cs, mask))
        change = cat.refit_catalogue(
            window, vec, found, current, catalogue, sp, settings.catalogue, run_id="refit", now=now
        )
        return change, time.perf_counter() - start

    for k, week in enumerate(weeks):
        window, vec, langs, _ = state(k)
        previous = current.select("call_id", "reason_id")
        if k == 0:
            change, seconds = refit(0)
            space = change.space
        else:
            texts = window["reason_text"].to_list()
            mask = weekly.fit_mask(window, cs)

            def discover(idx: np.ndarray, texts=texts, vec=vec, langs=langs, mask=mask) -> Any:
                return cluster.discover_reasons(
                    [texts[i] for i in idx],
                    vec[idx],
                    cs,
                    languages=[langs[i] for i in idx],
                    fit_mask=mask[idx],
                )

            start = time.perf_counter()
            assert space is not None
            change = cat.update_catalogue(
                window,
                vec,
                current,
                catalogue,
                space,
                settings.catalogue,
                discover=discover if settings.catalogue.update_clustering == "discover" else None,
                run_id=week,
                now=now,
            )
            seconds = time.perf_counter() - start
        catalogue = change.catalogue
        current = change.call_reasons.select(
            "call_id", "reason_id", "similarity", "reason_model_id"
        )
        for rid in change.new_reason_ids:
            created_week[rid] = week
        share, n = changed_share(previous, current.select("call_id", "reason_id"))
        explained = previous.filter(pl.col("reason_id") != -1)
        share_explained, _ = changed_share(explained, current.select("call_id", "reason_id"))
        rows.append(
            {
                "week": week,
                "seconds": round(seconds, 1),
                "new_reasons": len(change.new_reason_ids),
                "novel_calls": change.novel_calls,
                "reasons": int(current.filter(pl.col("reason_id") != -1)["reason_id"].n_unique()),
                "unexplained": round(float((current["reason_id"] == -1).mean()), 3),
                "changed_share": round(share, 4),
                "changed_share_of_explained": round(share_explained, 4),
                "compared": n,
            }
        )
        print(json.dumps(rows[-1]), flush=True)  # noqa: T201
    history = current.select("call_id", "reason_id")
    app = history.join(truth(), on="call_id").filter(pl.col("reason_key") == APP)
    top = app.group_by("reason_id").len().sort("len", descending=True).row(0, named=True)
    members = history.filter(pl.col("reason_id") == top["reason_id"]).join(truth(), on="call_id")
    app_update = {
        "reason_id": top["reason_id"],
        "created_in_week": created_week.get(top["reason_id"], weeks[0]),
        "app_calls_in_it": top["len"],
        "app_calls": app.height,
        "purity": round(float((members["reason_key"] == APP).mean()), 3),
    }
    sizes = {"calls": calls.height, "per_week": per_week, "offset": offset}
    if not refits:
        return sizes | {
            "weeks": rows,
            "update_seconds_median": sorted(r["seconds"] for r in rows[1:])[len(rows[1:]) // 2],
            "new_reasons": len(created_week),
            "app_update": app_update,
            "quality_week_by_week": quality(history),
        }
    change, refit_seconds = refit(len(weeks) - 1)
    after = change.call_reasons.select("call_id", "reason_id")
    refit_share, _ = changed_share(history, after)
    explained = history.filter(pl.col("reason_id") != -1)
    refit_share_explained, _ = changed_share(explained, after)
    # one refit over all twelve weeks on an empty catalogue
    catalogue = cat.empty_catalogue()
    current = current.head(0)
    whole, whole_seconds = refit(len(weeks) - 1)
    return sizes | {
        "weeks": rows,
        "update_seconds_median": sorted(r["seconds"] for r in rows[1:])[len(rows[1:]) // 2],
        "refit_seconds": round(refit_seconds, 1),
        "refit_changed_share": round(refit_share, 4),
        "refit_changed_share_of_explained": round(refit_share_explained, 4),
        "new_reasons": len(created_week),
        "app_update": app_update,
        "quality_week_by_week": quality(history),
        "quality_after_refit": quality(after),
        "quality_one_refit": quality(whole.call_reasons.select("call_id", "reason_id")),
        "one_refit_seconds": round(whole_seconds, 1),
    }


def part_wrapup(
    source: Path, settings: Settings, per_reason: int = 10, largest: int = 20
) -> dict[str, Any]:
    """Wrap-up codes at a first run, in memory (issue 17's sample protocol, 20 x 10).

    `per_reason` calls of each of the `largest` true reasons carry their reason's key as a code.

    The twelve weeks in one discovery (`discover_reasons`, as a first run), aligned to an empty
    catalogue: without seeds; with the codes as must-link seeds on that discovery
    (`seeded.wrapup_method = "must_link"`); and found by the metric learned on the codes
    (`"metric"`, the default: `catalogue_seeds.learned_discovery`), as the weekly flow does.
    Scored on the calls that carry no code: NMI/ARI against the truth, reasons, and per code
    the share of its true reason's other calls in the code's reason (recall) and the share of
    that reason's calls that are its true reason (purity).
    """
    import numpy as np

    from contact_reasons import catalogue as cat
    from contact_reasons import catalogue_seeds, cluster, weekly

    cs = settings.cluster.model_copy(update={"label_phrases": False})
    with Database(source, read_only=True) as db:
        calls = db.read_calls()
        model = db.table("embeddings")["model_id"][0]
        cached = db.cached_embeddings(model, calls["text_hash"].to_list())
    calls = calls.join(truth().select("call_id", "reason_key"), on="call_id", how="left")
    vectors = np.stack([cached[h] for h in calls["text_hash"]])
    keys = calls["reason_key"].to_list()
    codes = wrapup_codes(calls, per_reason, largest)
    window = calls.with_columns(pl.Series("wrapup_code", codes, dtype=pl.String))
    langs = window["detected_language"].to_list()
    mask = weekly.fit_mask(window, cs)
    start = time.perf_counter()
    found = cluster.discover_reasons(
        window["reason_text"].to_list(), vectors, cs, languages=langs, fit_mask=mask
    )
    discover_seconds = time.perf_counter() - start
    space = cat.CatalogueSpace("wrapup", model, 0.0, cluster.fit_space(vectors, langs, cs, mask))
    now = datetime(2026, 12, 1)
    empty, none = cat.empty_catalogue(), cat.no_assignments()
    coded = settings.seeded.model_copy(update={"wrapup_column": "wrapup_code"})
    seeds = catalogue_seeds.refit_seeds(window, none, empty, coded)
    unseeded = np.flatnonzero(seeds.group < 0)

    def scored(labels: np.ndarray, named: dict[int, str]) -> dict[str, Any]:
        result = score([keys[i] for i in unseeded], labels[unseeded])
        per_code = []
        for rid, code in named.items():
            mine = labels[unseeded] == rid
            own = np.asarray([keys[i] == code for i in unseeded])
            per_code.append(
                (float((mine & own).sum() / max(own.sum(), 1)), float(own[mine].mean()))
            )
        recall, purity = (np.mean([p[k] for p in per_code]) if per_code else 0 for k in (0, 1))
        return {
            "nmi": round(result["nmi"], 4),
            "ari": round(result["ari"], 4),
            "reasons": result["reasons"],
            "codes_named": len(named),
            "code_recall": round(float(recall), 4),
            "code_purity": round(float(purity), 4),
        }

    out: dict[str, Any] = {"seeds": seeds.summary(), "discover_seconds": round(discover_seconds)}
    plain = cat.refit_catalogue(
        window, vectors, found, none, empty, space, settings.catalogue, run_id="w", now=now
    )

    def labels_of(call_reasons: pl.DataFrame) -> np.ndarray:
        held = dict(call_reasons.select("call_id", "reason_id").iter_rows())
        return np.asarray([held.get(c, -1) for c in window["call_id"].to_list()], np.int64)

    out["unseeded"] = scored(labels_of(plain.call_reasons), {})
    prepared = space.space.transform(vectors, langs)

    def seeded_refit(discovery: Any) -> dict[str, Any]:
        constrained = catalogue_seeds.constrain_discovery(
            discovery, prepared, seeds, settings.catalogue.align_piece_share
        )
        change = cat.refit_catalogue(
            window,
            vectors,
            constrained.discovery,
            none,
            empty,
            space,
            settings.catalogue,
            run_id="w",
            now=now,
            pinned=constrained.pinned,
            fixed=seeds.group >= 0,
        )
        named = catalogue_seeds.code_names(change.call_reasons, window, seeds, change.catalogue)
        return scored(labels_of(change.call_reasons), named)

    out["must_link"] = seeded_refit(found)
    start = time.perf_counter()
    learned = catalogue_seeds.learned_discovery(found, vectors, prepared, seeds, cs, coded, langs)
    out["metric"] = seeded_refit(learned) | {"seconds": round(time.perf_counter() - start)}
    return out


def part_cost(settings: Settings, stored: int, new: int) -> dict[str, Any]:
    """Seconds of the update's novelty test (`catalogue.novel_calls`) at `stored` + `new` calls.

    Random unit vectors of e5-small's size (384) over twelve weeks, the new calls in a
    thirteenth: the cost depends on the sizes, not on what the vectors say.
    """
    import numpy as np

    from contact_reasons import catalogue as cat

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((stored + new, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    weeks = [f"2026-W{36 + (i * 12) // stored:02d}" for i in range(stored)] + ["2026-W48"] * new
    new_idx = np.arange(stored, stored + new)
    out: dict[str, Any] = {"stored": stored, "new": new}
    for reference in (settings.catalogue.novelty_reference_calls, stored):
        s = settings.catalogue.model_copy(update={"novelty_reference_calls": reference})
        start = time.perf_counter()
        novel = cat.novel_calls(vectors, weeks, new_idx, s)
        out[f"seconds_reference_{reference}"] = round(time.perf_counter() - start, 2)
        out[f"novel_reference_{reference}"] = int(novel.size)
    out["load_average"] = [round(x, 1) for x in os.getloadavg()]
    return out


def _cli(*args: str) -> tuple[int, str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = cli.main(list(args))
    return code, buffer.getvalue()


def part_done(
    out: Path,
    source: Path,
    settings: Settings,
    embedder: Any,
    merge_pieces: int = 0,
    split: int = 0,
) -> dict[str, Any]:
    """The issue's Done-when check; with `merge_pieces` merges and `split` splits before W47.

    Also reports NMI/ARI against the sample's truth after the update and after the refit, and
    for each curated reason (the renamed one, the merges' kept ones) whether its calls stay
    together at the refit (`together`).
    """
    db_path = out / "done.duckdb"
    fresh_db(db_path, source)
    weeks = WEEKS
    if settings.seeded.wrapup_column is not None:
        weeks = coded_weeks(out / "coded", settings.seeded.wrapup_column)
    first = run(db_path, weeks[:-1], settings, embedder)
    with Database(db_path, read_only=True) as db:
        before = db.table("call_reasons").select("call_id", "reason_id")
        stats_before = db.query("SELECT * FROM weekly_reason_stats ORDER BY week, reason_id")
    code, listing = _cli("reasons", "--db", str(db_path), "--format", "json")
    largest = max(json.loads(listing), key=lambda r: r["calls"])
    name = "Regningen er for høj (navngivet)"
    code, _ = _cli(
        "reasons",
        "rename",
        str(largest["reason_id"]),
        name,
        "--db",
        str(db_path),
        "--by",
        "benchmark",
    )
    merges = _merge_pieces(db_path, merge_pieces)
    skip = {int(largest["reason_id"])} | {m["kept"] for m in merges}
    splits = _split_largest(db_path, split, skip=skip)
    if merges or splits:  # kept is measured from the catalogue as people left it
        before = assignments(db_path)
    update = run(db_path, [weeks[-1]], settings, embedder)
    after = assignments(db_path)
    with Database(db_path, read_only=True) as db:
        stats_after = db.query(
            "SELECT * FROM weekly_reason_stats WHERE week < '2026-W47' ORDER BY week, reason_id"
        )
    kept_update = 1 - changed_share(before, after)[0]
    _, listing = _cli("reasons", "--db", str(db_path), "--format", "json")
    shown = any(r["name"] == name for r in json.loads(listing))
    _, report = _cli("report", "--db", str(db_path), "--week", "2026-W47")
    curated = [int(largest["reason_id"])] + [m["kept"] for m in merges]
    curated += [c for sp in splits for c in sp["into"]]
    refit = run(db_path, [weeks[-1]], settings, embedder, refit=True)
    after_refit = assignments(db_path)
    kept_refit = 1 - changed_share(before, after_refit)[0]
    _, listing = _cli("reasons", "--db", str(db_path), "--format", "json")
    survived = [r for r in json.loads(listing) if r["name"] == name]
    return {
        "first_run_seconds": first["seconds"],
        "reasons": first["reasons_found"],
        "largest": {
            "reason_id": largest["reason_id"],
            "generated_name": largest["generated_name"],
            "calls": largest["calls"],
        },
        "w47_update_seconds": update["seconds"],
        "w47_new_reasons": update["new_reasons"],
        "kept_after_update": round(kept_update, 4),
        "rename_in_reasons": shown,
        "rename_in_report": name in report,
        "w36_w46_stats_unchanged": stats_before.equals(stats_after),
        "refit_seconds": refit["seconds"],
        "kept_after_refit": round(kept_refit, 4),
        "rename_survives_refit": bool(survived)
        and survived[0]["reason_id"] == largest["reason_id"],
        "merges": merges,
        "splits": splits,
        "refit_seeds": refit.get("seeds"),
        "quality_after_update": quality(after),
        "quality_after_refit": quality(after_refit),
        "curated_after_refit": [together(after, after_refit, rid) for rid in curated],
    }


def wrapup_codes(
    calls: pl.DataFrame, per_reason: int = 10, largest: int = 20, seed: int = 17
) -> list[str | None]:
    """Wrap-up codes for `calls` (with `reason_key`), issue 17's sample protocol (20 x 10).

    `per_reason` calls of each of the `largest` true reasons carry the reason's key, drawn by
    `seed`; the others none.
    """
    import numpy as np

    keys = np.asarray(calls["reason_key"].to_list(), dtype=object)
    top = calls.group_by("reason_key").len().sort(["len", "reason_key"], descending=[True, False])
    rng = np.random.default_rng(seed)
    codes: list[str | None] = [None] * calls.height
    for key in top["reason_key"].head(largest).to_list():
        rows = np.flatnonzero(keys == key)
        for i in rng.choice(rows, size=min(per_reason, rows.size), replace=False):
            codes[int(i)] = key
    return codes


def coded_weeks(folder: Path, column: str) -> list[Path]:
    """The sample's week files with a wrap-up column `column` (`wrapup_codes` over all weeks)."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = [
        pl.read_csv(f, infer_schema=False).with_columns(pl.lit(f.name).alias("_f")) for f in WEEKS
    ]
    calls = pl.concat(frames).join(
        truth().select("call_id", "reason_key"), on="call_id", how="left"
    )
    calls = calls.with_columns(pl.Series(column, wrapup_codes(calls), dtype=pl.String))
    out = []
    for f in WEEKS:
        path = folder / f.name
        calls.filter(pl.col("_f") == f.name).drop("_f", "reason_key").write_csv(path)
        out.append(path)
    return out


def together(before: pl.DataFrame, after: pl.DataFrame, reason_id: int) -> dict[str, Any]:
    """A curated reason at a refit: its calls before, the share still in it, its size after.

    `whole`: the share of its former calls in the one reason that holds most of them after
    (1.0: none went elsewhere, whatever the id).
    """
    mine = before.filter(pl.col("reason_id") == reason_id).join(
        after, on="call_id", suffix="_after"
    )
    if mine.height == 0:
        return {"reason_id": reason_id, "calls_before": 0}
    held = mine.group_by("reason_id_after").len().sort("len", descending=True)
    return {
        "reason_id": reason_id,
        "calls_before": mine.height,
        "still_in_it": round(float((mine["reason_id_after"] == reason_id).mean()), 4),
        "whole": round(held["len"][0] / mine.height, 4),
        "calls_after": int((after["reason_id"] == reason_id).sum()),
    }


def _split_largest(db_path: Path, count: int, skip: set[int]) -> list[dict[str, Any]]:
    """Split, as a person would, the `count` largest reasons that split (`skip` left out)."""
    if count <= 0:
        return []
    _, listing = _cli("reasons", "--db", str(db_path), "--format", "json")
    order = sorted(json.loads(listing), key=lambda r: -r["calls"])
    splits: list[dict[str, Any]] = []
    for row in order:
        if len(splits) == count:
            break
        if row["reason_id"] in skip or row["status"] != "active":
            continue
        code, _ = _cli("reasons", "split", str(row["reason_id"]), "--db", str(db_path))
        if code != 0:
            continue  # its calls form one reason
        with Database(db_path, read_only=True) as db:
            into = db.query(
                "SELECT split_into FROM reasons WHERE reason_id = ?", [row["reason_id"]]
            )["split_into"][0].to_list()
        splits.append({"reason_id": row["reason_id"], "calls": row["calls"], "into": into})
    return splits


def _merge_pieces(db_path: Path, count: int) -> list[dict[str, Any]]:
    """Merge, as a person would, `count` pairs of reasons that are pieces of one true reason.

    For each true reason (sample truth) the two reasons holding most of its calls, where each
    of the two is mostly (>= 60 %) that true reason; the `count` pairs with most calls are
    merged, the larger reason kept (`contact-reasons reasons merge KEEP OTHER`).
    """
    if count <= 0:
        return []
    joined = assignments(db_path).join(truth(), on="call_id").filter(pl.col("reason_id") >= 0)
    sizes = joined.group_by("reason_id").len().rename({"len": "size"})
    top = (
        joined.group_by("reason_id", "reason_key")
        .len()
        .join(sizes, on="reason_id")
        .filter(pl.col("len") >= 0.6 * pl.col("size"))
        .sort("len", descending=True)
    )
    pairs = []
    for key, group in top.group_by("reason_key"):
        if group.height >= 2:
            a, b = group.sort("len", descending=True).head(2).iter_rows(named=True)
            pairs.append(
                (a["len"] + b["len"], str(key[0]), int(a["reason_id"]), int(b["reason_id"]))
            )
    merges = []
    for total, key, keep, other in sorted(pairs, reverse=True)[:count]:
        code, _ = _cli(
            "reasons", "merge", str(keep), str(other), "--db", str(db_path), "--by", "benchmark"
        )
        merges.append(
            {"true_reason": key, "kept": keep, "merged": other, "calls": total, "rc": code}
        )
    return merges


def main() -> None:
    """Run the chosen parts and write a JSON file of the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings-from", type=Path, help="required but for --part cost")
    parser.add_argument("--out", type=Path, default=Path("/tmp/catalogue-bench"))
    parser.add_argument(
        "--part",
        choices=["simulate", "weekly", "done", "cost", "wrapup", "all"],
        default="simulate",
    )
    parser.add_argument("--stored", type=int, default=100_000, help="cost: stored calls")
    parser.add_argument("--new", type=int, default=10_000, help="cost: new calls")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=JSON",
        help="a setting, e.g. catalogue.novelty_alpha=0 (the update without the novelty test)",
    )
    parser.add_argument(
        "--per-week",
        type=int,
        default=None,
        help="simulate: only N calls of each week's file (rows after --offset) and every "
        "app-update call, as tests/test_catalogue_weeks.py does with 70",
    )
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--updates-only", action="store_true", help="simulate: no refits")
    parser.add_argument(
        "--merge-pieces",
        type=int,
        default=0,
        help="done: also merge N pairs of reasons that are pieces of one true reason before "
        "W47 (curated reasons for the refit's seeds, issue 17)",
    )
    parser.add_argument(
        "--split",
        type=int,
        default=0,
        help="done: also split the N largest reasons that split (renamed and merged ones left out) "
        "before W47 (`reasons split`; curated reasons for the refit's seeds, issue 17)",
    )
    args = parser.parse_args()
    if args.part != "cost" and args.embeddings_from is None:
        parser.error("--embeddings-from is required")
    args.out.mkdir(parents=True, exist_ok=True)
    overrides: dict[str, dict[str, Any]] = {"storage": {"model_dir": str(args.out / "models")}}
    for item in args.set:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        overrides.setdefault(section, {})[name] = json.loads(value)
    settings = Settings().with_overrides(overrides)
    embedder = load_embedder(settings.embedding) if args.part != "cost" else None
    results: dict[str, Any] = {}
    if args.part in ("simulate", "all"):
        results["simulate"] = part_simulate(
            args.embeddings_from,
            settings,
            per_week=args.per_week,
            offset=args.offset,
            refits=not args.updates_only,
        )
    if args.part in ("weekly", "all"):
        results["weekly"] = part_weekly(args.out, args.embeddings_from, settings, embedder)
    if args.part in ("done", "all"):
        results["done"] = part_done(
            args.out, args.embeddings_from, settings, embedder, args.merge_pieces, args.split
        )
    if args.part == "cost":
        results["cost"] = part_cost(settings, args.stored, args.new)
    if args.part == "wrapup":
        results["wrapup"] = part_wrapup(args.embeddings_from, settings)
    results["settings"] = {k: v for k, v in overrides.items() if k != "storage"}
    text = json.dumps(results, indent=2, ensure_ascii=False, default=str)
    (args.out / f"catalogue-{args.part}.json").write_text(text, encoding="utf-8")
    print(text)  # noqa: T201


if __name__ == "__main__":
    main()
