"""The weekly run, start to end, as one library function: testable without Prefect.

`run_weekly` reads nothing but the database and what it is handed, and writes one transaction.
Every call it is given is stored, whatever its date; the reasons are fitted on a window read
back from the database (`Database.read_calls(since=...)`), never on a filter of what is kept.

Once the catalogue exists, a run is an update (`catalogue.update_catalogue`): new calls join the
reasons there are, and unexplained ones may form new reasons; finished weeks' statistics stay as
they were written. A refit (`refit=True`, or the first run, or a new embedding model) discovers
reasons over the whole window and aligns them to the catalogue (`catalogue.refit_catalogue`).

The Prefect flow in `flows/weekly.py` only wires: it hands `run_weekly` a `call` hook that runs
each stage as a Prefect task.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import polars as pl

from contact_reasons import alerts, cluster, faq, ingest, redact, stats, weekly
from contact_reasons import catalogue as cat
from contact_reasons import catalogue_seeds as seeding
from contact_reasons.config import Settings
from contact_reasons.embed import (
    Embedded,
    Embedder,
    TextKind,
    cache_key,
    embed_with_cache,
    load_embedder,
)
from contact_reasons.naming import NameRule, shown_names
from contact_reasons.reason_model import model_path, save_reason_model
from contact_reasons.scale_out import BatchMap, assign_in_batches
from contact_reasons.storage import Database

T = TypeVar("T")


class StageCall(Protocol):
    """How a stage is run: `call(name, fn, *args, **kwargs)` returns `fn(*args, **kwargs)`."""

    seconds: dict[str, float]

    def __call__(self, name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run stage `name`."""
        ...


class Timer:
    """Runs each stage directly and records its seconds (the default `StageCall`)."""

    def __init__(self) -> None:
        """Start with no stages timed."""
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn` and record its seconds under `name`."""
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 3)


def embed_faq(
    embedder: Embedder,
    documents: pl.DataFrame,
    cached: Mapping[str, np.ndarray],
    kind: TextKind = "query",
) -> Embedded:
    """Embed FAQ units (page title, question, answer); cached ones are not embedded again.

    `kind` is the prompt (`FaqSettings.unit_prompt`; the calls' own, `query`, by default).
    """
    if documents.height == 0:
        empty = embedder.embed([], kind=kind)
        return Embedded(empty, [], empty)
    return embed_with_cache(embedder, faq.faq_passages(documents), cached, kind=kind)


class CachedPhrases:
    """Embeds name candidates (`weekly.reason_names`) through the run's embedding cache.

    The candidate phrases of a reason's name recur week after week; embedding them again on
    every update cost more than embedding the week's new calls (20,000 stored + 2,000 new:
    48 s of a 106 s update, 1,732 phrases). Their vectors are read from and added to the
    `embeddings` table like the calls', under `cache_key(phrase, "query")`, so an update embeds
    only phrases it has not seen; the vectors, and so the names, are the same.
    """

    def __init__(self, db: Database, embedder: Embedder) -> None:
        """Embed with `embedder`, through `db`'s cache."""
        self.db = db
        self.embedder = embedder
        self.parts: list[Embedded] = []

    def __call__(self, phrases: list[str]) -> np.ndarray:
        """The phrases' vectors (as `embedder.embed(phrases, kind="query")`)."""
        keys = [cache_key(p, "query") for p in phrases]
        cached = self.db.cached_embeddings(self.embedder.model_id, keys)
        embedded = embed_with_cache(self.embedder, phrases, cached, kind="query")
        self.parts.append(embedded)
        return embedded.vectors


def faq_cache_keys(documents: pl.DataFrame, kind: TextKind = "query") -> list[str]:
    """The embedding cache keys of FAQ units' texts embedded with the prompt `kind`."""
    return [cache_key(p, kind) for p in faq.faq_passages(documents)]


def stored_embeddings(*parts: Embedded) -> Embedded:
    """What a run adds to the embedding cache: the new vectors of every part, together."""
    hashes = [h for p in parts for h in p.new_hashes]
    vectors = [p.new_vectors for p in parts if len(p.new_hashes)]
    if not vectors:
        return parts[0]
    return Embedded(parts[0].vectors, hashes, np.vstack(vectors).astype(np.float32))


#: What the stages after the window read of its calls: not the summaries and transcripts,
#: the largest columns (the reason text and the customer's words are kept), so a run reads
#: little of the stored weeks.
WINDOW_COLUMNS = [c for c in weekly.CALL_COLUMNS if c not in ("summary", "transcript")]


def localised_labels(
    catalogue: pl.DataFrame, names: pl.DataFrame, language: str | None
) -> pl.DataFrame:
    """The catalogue with `label` as a reader of `language` is shown it (`naming.shown_names`).

    FAQ titles and labels are written in the report language this way; `reasons.label` itself
    stays the default name.
    """
    if language is None or catalogue.height == 0:
        return catalogue
    keep = [c for c in ("reason_id", "label", "name") if c in catalogue.columns]
    shown = shown_names(catalogue.select(keep), names, language)
    return catalogue.with_columns(pl.Series("label", shown["label"].to_list(), dtype=pl.String))


def select_window(
    db: Database, fresh: pl.DataFrame, lookback_weeks: int
) -> tuple[pl.DataFrame, datetime | None]:
    """The calls reasons are fitted on: stored and new, in the `lookback_weeks` to the latest.

    Reads only the window from the database, and only `WINDOW_COLUMNS`. Rows are ordered by
    time, then id.
    """
    latest = db.latest_call_time()
    if fresh.height:
        newest = fresh["started_at"].max()
        assert isinstance(newest, datetime)
        latest = newest if latest is None else max(latest, newest)
    if latest is None:
        return fresh.head(0).select(WINDOW_COLUMNS), None
    start = latest - timedelta(weeks=lookback_weeks)
    stored = db.read_calls(since=start, columns=WINDOW_COLUMNS).filter(pl.col("started_at") > start)
    frames = [
        f.select(WINDOW_COLUMNS)
        for f in (stored, fresh.filter(pl.col("started_at") > start))
        if f.height
    ]
    if not frames:
        return fresh.head(0).select(WINDOW_COLUMNS), start
    window = pl.concat(frames, how="vertical_relaxed").sort("started_at", "call_id")
    return window, start


def weekly_history(
    db: Database, week_table: pl.DataFrame, stats_weeks: Sequence[str]
) -> pl.DataFrame:
    """Calls per week and reason over the whole history, as this run will leave it stored.

    The weeks this run (re)writes come from `week_table`; every other week as stored. Alerts
    compare a week with the reason's own past weeks, which may lie before the fitting window.
    """
    rewritten = sorted(set(stats_weeks))
    stored = db.query(
        "SELECT week, reason_id, calls FROM weekly_reason_stats WHERE NOT list_contains(?, week)",
        [rewritten],
    )
    fresh = week_table.filter(pl.col("week").is_in(rewritten)).select("week", "reason_id", "calls")
    return pl.concat([stored, fresh], how="vertical_relaxed")


def run_weekly(
    db: Database,
    run_id: str,
    ingested: ingest.IngestResult,
    faq_paths: Sequence[str | Path],
    settings: Settings,
    *,
    refit: bool = False,
    embedder: Embedder | None = None,
    call: StageCall | None = None,
    now: datetime | None = None,
    batches: BatchMap | None = None,
) -> dict[str, Any]:
    """Run the weekly job on validated input and write its results; return the run's summary.

    Args:
        db: the open database; the run's `runs` row must be started.
        run_id: this run.
        ingested: the validated input (`ingest.read_inputs`).
        faq_paths: FAQ page files or folders; none: the FAQ units earlier runs stored.
        settings: all settings.
        refit: discover reasons afresh over the window and align them to the catalogue.
            Without it, the run updates the catalogue (a refit anyway when there is none yet,
            or it was built with another embedding model).
        embedder: the embedding model (default: `load_embedder(settings.embedding)`).
        call: runs each stage (default: directly, timed).
        now: the time stamped on catalogue rows and events (default: now, UTC).
        batches: runs the embedding of new texts and the assignment of new calls in batches of
            `settings.scale_out.batch_size` (the weekly flow hands one that runs them on a Dask
            cluster); None: here, in one piece. The result is the same either way.

    Returns:
        The summary written to the `runs` row, with `mode` ("update" or "refit") and
        `new_reasons` (ids this run created).
    """
    t: StageCall = call if call is not None else Timer()
    now = now or datetime.now(UTC).replace(tzinfo=None)
    # Calls stored already are dropped first: only new calls are redacted and prepared.
    known = db.known_call_ids(ingested.calls["call_id"].to_list())
    unseen = ingested.calls.filter(~pl.col("call_id").is_in(list(known)))
    redacted = t(
        "redact",
        redact.redact_calls,
        unseen,
        workers=settings.redaction.workers,
        parallel_from=settings.redaction.parallel_from,
    )
    fresh = t("reason_text", weekly.prepare_calls, redacted, run_id)
    window, _ = t("window", select_window, db, fresh, settings.stats.lookback_weeks)
    embedder = embedder or load_embedder(settings.embedding)
    texts = window["reason_text"].to_list()
    langs = window["detected_language"].to_list()
    cached = db.cached_embeddings(embedder.model_id, window["text_hash"].to_list())
    size = settings.scale_out.batch_size
    embedded: Embedded = t(
        "embed", embed_with_cache, embedder, texts, cached, batches=batches, batch_size=size
    )
    vectors = embedded.vectors
    catalogue = db.catalogue()
    space_row = db.catalogue_space()
    current = db.call_assignments(window["call_id"].to_list())
    mask = weekly.fit_mask(window, settings.cluster)
    mode = "update"
    if refit or space_row is None or space_row["embedding_model_id"] != embedder.model_id:
        mode = "refit"
    reason_model: dict[str, Any] | None = None
    seeds: seeding.RefitSeeds | None = None
    if mode == "refit":
        weekly.require_calls_to_discover(window, ingested)
        discovery = t(
            "discover",
            cluster.discover_reasons,
            texts,
            vectors,
            settings.cluster,
            embedding_model=embedder,
            languages=langs,
            fit_mask=mask,
        )
        seeds = t("seeds", seeding.refit_seeds, window, current, catalogue, settings.seeded)
        model_id = weekly.reason_model_id(embedder.model_id, window, settings.cluster, seeds)
        space = cat.CatalogueSpace(
            model_id,
            embedder.model_id,
            0.0,
            cluster.fit_space(vectors, langs, settings.cluster, mask),
        )
        prepared = space.space.transform(vectors, langs)
        constrained = seeding.seeded_discovery(
            discovery, vectors, prepared, seeds, settings, langs, call=t
        )
        discovery = constrained.discovery
        change = t(
            "align",
            cat.refit_catalogue,
            window,
            vectors,
            discovery,
            current,
            catalogue,
            space,
            settings.catalogue,
            run_id=run_id,
            now=now,
            pinned=constrained.pinned,
            fixed=seeds.group >= 0 if seeds.count else None,
        )
        stored_stats = db.query(  # the window's weeks as stored: which of them it rewrites
            "SELECT week, reason_id, calls FROM weekly_reason_stats WHERE list_contains(?, week)",
            [window["week"].unique().to_list()],
        )
        stats_weeks = sorted(weekly.rewritable_weeks(stored_stats, window))
    else:
        assert space_row is not None
        space = cat.CatalogueSpace.from_row(space_row)
        model_id = space.reason_model_id

        def discover(rows: np.ndarray) -> cluster.ReasonDiscovery:
            return cluster.discover_reasons(
                [texts[i] for i in rows],
                vectors[rows],
                settings.cluster,
                embedding_model=embedder,
                languages=[langs[i] for i in rows],
                fit_mask=mask[rows],
            )

        change = t(
            "assign",
            cat.update_catalogue,
            window,
            vectors,
            current,
            catalogue,
            space,
            settings.catalogue,
            discover=discover if settings.catalogue.update_clustering == "discover" else None,
            run_id=run_id,
            now=now,
            assign=None if batches is None else assign_in_batches(cat.assign_calls, batches, size),
            name_rule=NameRule.from_settings(settings.cluster),
            coded=seeding.coded_assignments(window, catalogue, settings.seeded),
        )
        assigned = set(current["call_id"].to_list())
        touched = window.filter(~pl.col("call_id").is_in(list(assigned)))["week"]
        missing = set(window["week"].unique().to_list()) - db.stats_weeks()
        stats_weeks = sorted(set(touched.unique().to_list()) | missing)
    call_reasons = change.call_reasons
    coded: dict[int, str] = {}
    if seeds is not None and seeds.count:
        coded = seeding.code_names(call_reasons, window, seeds, change.catalogue)
        change = dataclasses.replace(
            change, catalogue=seeding.name_by_codes(change.catalogue, coded)
        )
    elif mode == "update":  # names a code gave at a refit stay, in every language
        coded = seeding.coded_reasons(change.catalogue, window)
    phrases = CachedPhrases(db, embedder)
    names = t(
        "names",
        weekly.reason_names,
        window,
        vectors,
        call_reasons,
        change.catalogue,
        settings.cluster,
        phrases if settings.cluster.label_phrases else None,
        rename=mode == "refit",
        keep=db.language_names() if mode == "update" else None,
        fixed=coded,
    )
    change = dataclasses.replace(
        change, catalogue=weekly.renamed_catalogue(change.catalogue, names)
    )
    if mode == "refit":  # the saved model holds the reasons the refit decided, as named
        model_dir = model_path(settings.storage.model_dir, model_id)
        manifest = t(
            "save_model",
            save_reason_model,
            discovery.topic_model,
            model_dir,
            docs=[x if x.strip() else "(empty)" for x in texts],
            vectors=vectors,
            labels=weekly.window_labels(window, call_reasons),
            catalogue=change.catalogue,
            embedding_model_id=embedder.model_id,
            settings=settings.cluster,
            window=window,
        )
        reason_model = weekly.reason_model_row(
            model_id, run_id, embedder.model_id, window, manifest, model_dir
        )
    week_table = t(
        "stats",
        stats.weekly_reason_stats,
        call_reasons.join(window.select("call_id", "reason_text"), on="call_id", how="left"),
        change.catalogue.select("reason_id", "label"),
        settings.stats,
    )
    week_alerts = t(
        "alerts",
        alerts.detect_alerts,
        weekly_history(db, week_table, stats_weeks),
        change.catalogue.select(
            "reason_id", "label", pl.col("first_week").alias("first_seen_week"), "centre"
        ),
        settings.alerts,
    )
    week_table = alerts.flag_emerging(week_table, week_alerts)
    sources = [str(p) for p in faq_paths]
    if sources:
        units = db.sync_faq_units(
            t("read_faq", faq.read_faq_units, sources, redact=settings.faq.redact)
        )
    else:  # no pages named (`run --input new_week.csv`): the pages earlier runs read
        units = db.faq_units()
    unit_prompt = settings.faq.unit_prompt
    faq_cached = db.cached_embeddings(embedder.model_id, faq_cache_keys(units, unit_prompt))
    faq_embedded: Embedded = t("embed_faq", embed_faq, embedder, units, faq_cached, unit_prompt)
    doc_vectors = faq_embedded.vectors
    faq_reasons = localised_labels(
        change.catalogue.filter(pl.col("status") == "active"), names, settings.report.language
    )
    # Every window call goes in, unexplained ones and those of ignored reasons too: whether a
    # unit answers a call is calibrated over the calls (`faq.answerability`), so leaving some
    # out would move every other call's decision when a person ignores a reason. Only active
    # reasons get a row.
    gaps = t(
        "faq_gaps",
        faq.faq_recommendations,
        faq_reasons,
        window,
        call_reasons,
        vectors,
        units,
        doc_vectors,
        settings.faq,
        max(window["week"].n_unique(), 1),
        settings.report.language,
    )
    results, summary = weekly.collect_results(
        run_id=run_id,
        ingested=ingested,
        window=window,
        fresh=fresh,
        embedder_id=embedder.model_id,
        embedded=stored_embeddings(embedded, faq_embedded, *phrases.parts),
        model_id=model_id,
        reason_model=reason_model,
        change=change,
        stats_weeks=stats_weeks,
        week_table=week_table,
        documents=faq.page_documents(units),
        gaps=gaps,
        timings=t.seconds,
        alerts=week_alerts,
        names=names,
    )
    if mode == "update":  # the window's other calls stay as stored
        results = dataclasses.replace(
            results, call_reasons=cat.changed_assignments(results.call_reasons, current)
        )
    summary["mode"] = mode
    if seeds is not None:
        summary["seeds"] = seeds.summary()
    start_write = time.perf_counter()
    db.write_results(run_id, results, summary)
    summary["timings"]["write"] = round(time.perf_counter() - start_write, 3)
    return summary


def split_by_week(ingested: ingest.IngestResult) -> Iterator[tuple[str, ingest.IngestResult]]:
    """Split validated input into one part per ISO week (UTC), oldest first.

    The first part also carries the files read, the quarantined rows and the duplicates, so the
    parts' `runs` rows add up to exactly what was read. Each part is cut when it is asked for,
    so a backfill holds its input and one week's part, not a second copy of every week.
    """
    weeks = ingested.calls.with_columns(
        pl.col("started_at").dt.convert_time_zone("UTC").alias("_utc")
    ).with_columns(stats.iso_week("_utc").alias("_week"))
    for i, week in enumerate(sorted(weeks["_week"].unique().to_list())):
        calls = weeks.filter(pl.col("_week") == week).drop("_utc", "_week")
        first = i == 0
        quarantine = ingested.quarantine if first else ingested.quarantine.head(0)
        extra = (ingested.rows_read - ingested.calls.height) if first else 0
        yield (
            week,
            ingest.IngestResult(
                calls=calls,
                quarantine=quarantine,
                files=ingested.files if first else ingested.files.head(0),
                rows_read=calls.height + extra,
                duplicates=ingested.duplicates if first else 0,
            ),
        )


def backfill(
    db: Database,
    ingested: ingest.IngestResult,
    faq_paths: Sequence[str | Path],
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    new_run_id: Callable[[str], str],
    call: Callable[[], StageCall] = Timer,
) -> list[dict[str, Any]]:
    """Run historic input week by week, oldest first: one weekly run per ISO week.

    Builds the catalogue and the weekly history the way the scheduled job would have: the
    first week discovers the reasons, every later week updates them. Each week's run has its
    own `runs` row; a failing week is recorded as failed and stops the backfill (the weeks
    before it stay written).
    """
    embedder = embedder or load_embedder(settings.embedding)
    summaries = []
    for week, part in split_by_week(ingested):
        run_id = new_run_id(week)
        db.start_run(run_id, part.files.to_dicts(), settings.model_dump_json())
        try:
            summaries.append(
                run_weekly(db, run_id, part, faq_paths, settings, embedder=embedder, call=call())
            )
        except BaseException:
            db.fail_run(run_id, traceback.format_exc())
            raise
    return summaries
