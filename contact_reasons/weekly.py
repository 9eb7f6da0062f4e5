"""Stages of the weekly run that sit between the named modules: pure frames in, frames out.

The Prefect flow in `flows/weekly.py` only wires these together with `ingest`, `redact`,
`embed`, `cluster`, `stats`, `faq` and `storage`; everything here runs and tests without Prefect.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from contact_reasons.cluster import ReasonDiscovery
from contact_reasons.cluster_settings import ClusterSettings
from contact_reasons.embed import Embedded, text_hash
from contact_reasons.ingest import IngestResult
from contact_reasons.language import add_detected_language
from contact_reasons.stats import UNEXPLAINED_ID, iso_week
from contact_reasons.storage import RunResults
from contact_reasons.transcripts import add_reason_text

#: Columns of the `calls` table, in order.
CALL_COLUMNS = [
    "call_id",
    "started_at",
    "week",
    "summary",
    "transcript",
    "reason_text",
    "text_source",
    "customer_text",
    "language",
    "detected_language",
    "channel",
    "queue",
    "customer_type",
    "answered",
    "duration_seconds",
    "source_file",
    "source_row",
    "text_hash",
    "first_run_id",
]


def prepare_calls(redacted: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """Turn redacted, validated calls into rows of the `calls` table.

    Adds the reason-bearing text (summary preferred, else the customer's turns), its source,
    the detected language, the ISO week, the text hash (the embedding cache key) and the run id.
    Timestamps become naive UTC, as stored.
    """
    with_text = add_detected_language(add_reason_text(redacted))
    return with_text.with_columns(
        pl.col("started_at").dt.convert_time_zone("UTC").dt.replace_time_zone(None),
        iso_week("started_at"),
        pl.col("reason_text").map_elements(text_hash, return_dtype=pl.String).alias("text_hash"),
        pl.lit(run_id).alias("first_run_id"),
    ).select(CALL_COLUMNS)


def select_window(stored: pl.DataFrame, new: pl.DataFrame, lookback_weeks: int) -> pl.DataFrame:
    """Return the calls the reasons are fitted on: stored and new, within the lookback window.

    A call already stored keeps its stored row. The window ends at the latest call and spans
    `lookback_weeks` weeks. Rows are ordered by time, then id, so a run is deterministic.
    """
    fresh = new.join(stored.select("call_id"), on="call_id", how="anti")
    frames = [f.select(CALL_COLUMNS) for f in (stored, fresh) if f.height]
    if not frames:
        return new.head(0).select(CALL_COLUMNS)
    allcalls = pl.concat(frames, how="vertical_relaxed")
    latest = allcalls["started_at"].max()
    assert latest is not None
    start = latest - timedelta(weeks=lookback_weeks)  # type: ignore[operator]
    return allcalls.filter(pl.col("started_at") > start).sort("started_at", "call_id")


def answered_mask(calls: pl.DataFrame) -> np.ndarray:
    """Which calls were answered (unknown, or no `answered` column: taken as answered)."""
    if "answered" not in calls.columns:
        return np.ones(calls.height, dtype=bool)
    return calls["answered"].fill_null(True).to_numpy().astype(bool)


def fit_mask(calls: pl.DataFrame, settings: ClusterSettings) -> np.ndarray:
    """Which calls shape the reasons: all, or (by default) those not marked unanswered."""
    if settings.fit_unanswered:
        return np.ones(calls.height, dtype=bool)
    return answered_mask(calls)


def new_calls(window: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """Return the calls of `window` that are not stored yet."""
    return window.join(stored.select("call_id"), on="call_id", how="anti")


def reason_model_id(embedding_model_id: str, calls: pl.DataFrame, settings: Any) -> str:
    """A content id for a fitted reason model: same calls, model and settings, same id."""
    digest = hashlib.sha256()
    digest.update(embedding_model_id.encode())
    digest.update(json.dumps(settings.model_dump(mode="json"), sort_keys=True).encode())
    for call_id, h in zip(calls["call_id"], calls["text_hash"], strict=True):
        digest.update(f"{call_id}\t{h}\n".encode())
    return f"rm-{digest.hexdigest()[:16]}"


def assign_reasons(
    calls: pl.DataFrame, vectors: np.ndarray, discovery: ReasonDiscovery, model_id: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build the `call_reasons` and `reasons` tables from a discovery over `calls`.

    `call_reasons` also carries each call's `week` and `answered` (not stored) for the weekly
    statistics.

    Each call's similarity is its cosine to its reason's centre (unexplained calls: to the
    nearest centre); the examples of a reason are its most central answered calls (an
    unanswered call's text is only a menu choice), then its other calls.
    """
    labels = np.asarray(discovery.labels, dtype=np.int64)
    ids = sorted(int(r) for r in np.unique(labels) if r != UNEXPLAINED_ID)
    sims = np.zeros(len(labels), dtype=np.float64)
    answered = answered_mask(calls)
    if ids:
        cents = np.stack([vectors[labels == r].mean(axis=0) for r in ids])
        cents /= np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)
        all_sims = vectors @ cents.T
        index = {r: i for i, r in enumerate(ids)}
        for row, label in enumerate(labels):
            sims[row] = all_sims[row, index[label]] if label in index else all_sims[row].max()
    call_reasons = pl.DataFrame(
        {
            "call_id": calls["call_id"],
            "week": calls["week"],
            "reason_id": pl.Series(labels, dtype=pl.Int32),
            "similarity": sims,
            "reason_model_id": [model_id] * len(labels),
            "answered": answered,
        }
    )
    info = discovery.reasons
    rows = []
    languages = calls["detected_language"].to_list()
    call_ids = calls["call_id"].to_list()
    for reason in info.iter_rows(named=True):
        rid = int(reason["reason_id"])
        members = np.flatnonzero(labels == rid)
        if rid == UNEXPLAINED_ID or members.size == 0:
            continue
        order = members[np.lexsort((-sims[members], ~answered[members]))]
        langs = Counter(languages[i] for i in members if languages[i])
        rows.append(
            {
                "reason_id": rid,
                "reason_model_id": model_id,
                "label": str(reason["label"]),
                "keywords": list(reason["keywords"]),
                "language": langs.most_common(1)[0][0] if langs else None,
                "calls": int(members.size),
                "example_call_ids": [call_ids[i] for i in order[:5]],
            }
        )
    reasons = pl.DataFrame(
        rows,
        schema={
            "reason_id": pl.Int32,
            "reason_model_id": pl.String,
            "label": pl.String,
            "keywords": pl.List(pl.String),
            "language": pl.String,
            "calls": pl.Int64,
            "example_call_ids": pl.List(pl.String),
        },
    )
    return call_reasons, reasons.sort("calls", "reason_id", descending=[True, False])


def embedding_rows(model_id: str, hashes: list[str], vectors: np.ndarray) -> pl.DataFrame:
    """Rows of the `embeddings` cache table."""
    return pl.DataFrame(
        {
            "model_id": [model_id] * len(hashes),
            "text_hash": hashes,
            "vector": pl.Series([v.tolist() for v in vectors], dtype=pl.List(pl.Float32)),
        },
        schema={"model_id": pl.String, "text_hash": pl.String, "vector": pl.List(pl.Float32)},
    )


def _row_accounting(run_id: str, ingested: IngestResult, fresh: pl.DataFrame) -> dict[str, Any]:
    accounting = ingested.accounting()
    return {
        "run_id": run_id,
        "rows_read": accounting["read"],
        "rows_stored": accounting["stored"],
        "rows_new": fresh.height,
        "rows_quarantined": accounting["quarantined"],
        "rows_duplicate": accounting["duplicates"],
    }


def collect_results(
    *,
    run_id: str,
    ingested: IngestResult,
    window: pl.DataFrame,
    fresh: pl.DataFrame,
    embedder_id: str,
    embedded: Embedded,
    model_id: str,
    manifest: dict[str, Any],
    model_dir: Path,
    reasons: pl.DataFrame,
    call_reasons: pl.DataFrame,
    week_table: pl.DataFrame,
    documents: pl.DataFrame,
    gaps: pl.DataFrame,
    timings: dict[str, float],
    alerts: pl.DataFrame | None = None,
) -> tuple[RunResults, dict[str, Any]]:
    """Assemble what a completed run writes, and the run's summary (its `runs` row)."""
    results = RunResults(
        calls=fresh,
        quarantine=ingested.quarantine.with_columns(pl.lit(run_id).alias("first_run_id")),
        embeddings=embedding_rows(embedder_id, embedded.new_hashes, embedded.new_vectors),
        reason_model={
            "reason_model_id": model_id,
            "created_at": manifest["created_at"],
            "run_id": run_id,
            "embedding_model_id": embedder_id,
            "n_calls": window.height,
            "window_start": window["started_at"].min(),
            "window_end": window["started_at"].max(),
            "path": str(model_dir),
            "manifest": manifest["json"],
        },
        reasons=reasons,
        call_reasons=call_reasons,
        weekly_reason_stats=week_table,
        faq_documents=documents,
        faq_recommendations=gaps,
        alerts=alerts,
    )
    unexplained = int((call_reasons["reason_id"] == UNEXPLAINED_ID).sum())
    summary = {
        **_row_accounting(run_id, ingested, fresh),
        "calls_clustered": window.height,
        "reasons_found": reasons.height,
        "unexplained_share": unexplained / window.height if window.height else 0.0,
        "weeks": sorted(window["week"].unique().to_list()),
        "faq_pages": documents.height,
        "faq_gaps": gaps.height,
        "alerts": 0 if alerts is None else alerts.height,
        "embedding_model_id": embedder_id,
        "reason_model_id": model_id,
        "timings": dict(timings),
    }
    return results, summary


def collect_ingest(
    *,
    run_id: str,
    ingested: IngestResult,
    fresh: pl.DataFrame,
    embedder_id: str,
    embedded: Embedded,
    timings: dict[str, float],
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Assemble what a daily ingest stores: new calls, quarantine, embeddings and a summary."""
    summary = {
        **_row_accounting(run_id, ingested, fresh),
        "embedding_model_id": embedder_id,
        "timings": dict(timings),
    }
    return (
        fresh,
        ingested.quarantine.with_columns(pl.lit(run_id).alias("first_run_id")),
        embedding_rows(embedder_id, embedded.new_hashes, embedded.new_vectors),
        summary,
    )
