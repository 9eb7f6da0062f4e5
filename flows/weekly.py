"""The weekly contact-reasons flow: wiring only; every task body is one call into the library."""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from contact_reasons import alerts, cluster, faq, ingest, privacy, redact, report, stats, weekly
from contact_reasons.config import Settings, load_settings
from contact_reasons.embed import Embedded, Embedder, embed_with_cache, load_embedder
from contact_reasons.reason_model import model_path, save_reason_model
from contact_reasons.storage import Database

T = TypeVar("T")

# Frames and models are large and unhashable: no task result caching.
read_inputs = task(name="read-and-validate", cache_policy=NO_CACHE)(ingest.read_inputs)
redact_calls = task(name="redact", cache_policy=NO_CACHE)(redact.redact_calls)
prepare_calls = task(name="reason-text", cache_policy=NO_CACHE)(weekly.prepare_calls)
select_window = task(name="select-window", cache_policy=NO_CACHE)(weekly.select_window)
embed_calls = task(name="embed", cache_policy=NO_CACHE, retries=1)(embed_with_cache)
discover_reasons = task(name="discover-reasons", cache_policy=NO_CACHE)(cluster.discover_reasons)
assign_reasons = task(name="name-and-assign", cache_policy=NO_CACHE)(weekly.assign_reasons)
weekly_stats = task(name="weekly-stats", cache_policy=NO_CACHE)(stats.weekly_reason_stats)
detect_alerts = task(name="alerts", cache_policy=NO_CACHE)(alerts.detect_alerts)
read_faq = task(name="read-faq", cache_policy=NO_CACHE)(faq.read_faq_units)
faq_gaps = task(name="faq-gaps", cache_policy=NO_CACHE)(faq.faq_recommendations)
save_model = task(name="save-reason-model", cache_policy=NO_CACHE)(save_reason_model)
apply_retention = task(name="retention", cache_policy=NO_CACHE)(privacy.apply_retention)


@task(name="embed-faq", cache_policy=NO_CACHE)
def embed_faq(embedder: Embedder, documents: pl.DataFrame) -> np.ndarray:
    return embedder.embed(faq.faq_passages(documents), kind="passage")


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 3)


@flow(name="weekly-contact-reasons", log_prints=False)
def weekly_contact_reasons(
    inputs: list[str],
    faq_paths: list[str] | None = None,
    db_path: str | None = None,
    config_path: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Read calls, find this period's contact reasons and FAQ gaps, and store them."""
    logger = get_run_logger()
    settings: Settings = load_settings(Path(config_path) if config_path else None)
    if overrides:
        settings = settings.with_overrides(overrides)
    db_file = Path(db_path) if db_path else settings.storage.db_path
    run_id = f"run-{uuid.uuid4().hex[:12]}"
    timer = _Timer()
    with Database(db_file, lock_timeout=settings.storage.lock_timeout_seconds) as db:
        ingested = timer("read", read_inputs, [Path(p) for p in inputs], settings=settings.ingest)
        db.start_run(run_id, ingested.files.to_dicts(), settings.model_dump_json())
        try:
            summary = _run(db, run_id, ingested, faq_paths or [], settings, timer)
        except BaseException:
            db.fail_run(run_id, traceback.format_exc())
            raise
        purged = apply_retention(db, settings.storage.retention_months, datetime.now(UTC))
        if purged is not None:
            summary["purged"] = purged
    logger.info("run %s: %s", run_id, summary)
    create_markdown_artifact(
        key="weekly-top-reasons",
        markdown=report.markdown_summary(summary),
        description=f"contact-reasons {run_id}",
    )
    with Database(db_file, read_only=True) as db:
        top = report.top_reasons_artifact(db)
        create_table_artifact(key="top-reasons", table=top, description="the latest week")
        create_markdown_artifact(key="alerts", markdown=report.alerts_markdown(db))
    return summary


def _run(
    db: Database,
    run_id: str,
    ingested: ingest.IngestResult,
    faq_paths: list[str],
    settings: Settings,
    timer: _Timer,
) -> dict[str, Any]:
    redacted = timer("redact", redact_calls, ingested.calls)
    prepared = timer("reason_text", prepare_calls, redacted, run_id)
    stored = db.read_calls()
    window = timer("window", select_window, stored, prepared, settings.stats.lookback_weeks)
    fresh = weekly.new_calls(window, stored)
    embedder = load_embedder(settings.embedding)
    texts = window["reason_text"].to_list()
    cached = db.cached_embeddings(embedder.model_id, window["text_hash"].to_list())
    embedded: Embedded = timer("embed", embed_calls, embedder, texts, cached)
    discovery = timer(
        "discover",
        discover_reasons,
        texts,
        embedded.vectors,
        settings.cluster,
        embedding_model=embedder,
        languages=window["detected_language"].to_list(),
        fit_mask=weekly.fit_mask(window, settings.cluster),
    )
    model_id = weekly.reason_model_id(embedder.model_id, window, settings.cluster)
    call_reasons, reasons = timer(
        "assign", assign_reasons, window, embedded.vectors, discovery, model_id
    )
    week_table = timer(
        "stats",
        weekly_stats,
        call_reasons,
        reasons,
        settings.stats,
    )
    week_alerts = timer("alerts", detect_alerts, week_table, reasons, settings.alerts)
    week_table = alerts.flag_emerging(week_table, week_alerts)
    documents = db.sync_faq_units(timer("read_faq", read_faq, faq_paths))  # FAQ units
    doc_vectors = timer("embed_faq", embed_faq, embedder, documents)
    n_weeks = max(window["week"].n_unique(), 1)
    gaps = timer(
        "faq_gaps",
        faq_gaps,
        reasons,
        window,
        call_reasons,
        embedded.vectors,
        documents,
        doc_vectors,
        settings.faq,
        n_weeks,
    )
    model_dir = model_path(settings.storage.model_dir, model_id)
    manifest = timer(
        "save_model",
        save_model,
        discovery,
        model_dir,
        embedding_model_id=embedder.model_id,
        settings=settings.cluster,
        window=window,
    )
    results, summary = weekly.collect_results(
        run_id=run_id,
        ingested=ingested,
        window=window,
        fresh=fresh,
        embedder_id=embedder.model_id,
        embedded=embedded,
        model_id=model_id,
        manifest=manifest,
        model_dir=model_dir,
        reasons=reasons,
        call_reasons=call_reasons,
        week_table=week_table,
        documents=faq.page_documents(documents),
        gaps=gaps,
        timings=timer.seconds,
        alerts=week_alerts,
    )
    start_write = time.perf_counter()
    db.write_results(run_id, results, summary)
    summary["timings"]["write"] = round(time.perf_counter() - start_write, 3)
    create_markdown_artifact(
        key="faq-recommendations", markdown=report.markdown_faq_gaps(gaps), description=run_id
    )
    return summary
