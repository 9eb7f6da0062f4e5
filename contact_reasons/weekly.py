"""Stages of the weekly run that sit between the named modules: pure frames in, frames out.

The Prefect flow in `flows/weekly.py` only wires these together with `ingest`, `redact`,
`embed`, `cluster`, `stats`, `faq` and `storage`; everything here runs and tests without Prefect.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from contact_reasons.catalogue import CatalogueChange, with_generated_names
from contact_reasons.cluster_settings import ClusterSettings
from contact_reasons.embed import Embedded, text_hash
from contact_reasons.errors import InputError
from contact_reasons.ingest import IngestResult
from contact_reasons.language import add_detected_language
from contact_reasons.naming import DEFAULT_LANGUAGE, NameRule, language_names
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
    "wrapup_code",
]


def prepare_calls(redacted: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """Turn redacted, validated calls into rows of the `calls` table.

    Adds the reason-bearing text (summary preferred, else the customer's turns), its source,
    the detected language, the ISO week, the text hash (the embedding cache key) and the run id.
    Timestamps become naive UTC, as stored. A frame without `wrapup_code` gets it null.
    """
    if "wrapup_code" not in redacted.columns:
        redacted = redacted.with_columns(pl.lit(None, dtype=pl.String).alias("wrapup_code"))
    with_text = add_detected_language(add_reason_text(redacted))
    return with_text.with_columns(
        pl.col("started_at").dt.convert_time_zone("UTC").dt.replace_time_zone(None),
        iso_week("started_at"),
        pl.col("reason_text").map_elements(text_hash, return_dtype=pl.String).alias("text_hash"),
        pl.lit(run_id).alias("first_run_id"),
    ).select(CALL_COLUMNS)


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


def reason_model_id(
    embedding_model_id: str, calls: pl.DataFrame, settings: Any, seeds: Any = None
) -> str:
    """A content id for a fitted reason model: same calls, model, settings and seeds, same id.

    The seeds (`catalogue_seeds.RefitSeeds`) count only when there are some: a refit of the
    same window after a person curated reasons saves a new model with the new reasons, where
    the same id would keep the folder of the model saved before. Without seeds the id is the
    one it always was.
    """
    digest = hashlib.sha256()
    digest.update(embedding_model_id.encode())
    digest.update(json.dumps(settings.model_dump(mode="json"), sort_keys=True).encode())
    for call_id, h in zip(calls["call_id"], calls["text_hash"], strict=True):
        digest.update(f"{call_id}\t{h}\n".encode())
    if seeds is not None and seeds.count:
        groups = [
            [name, rid, bool(curated)]
            for name, rid, curated in zip(seeds.names, seeds.reason_ids, seeds.curated, strict=True)
        ]
        digest.update(json.dumps(groups, ensure_ascii=False).encode())
        digest.update(np.asarray(seeds.group, dtype=np.int64).tobytes())
    return f"rm-{digest.hexdigest()[:16]}"


def window_labels(window: pl.DataFrame, call_reasons: pl.DataFrame) -> np.ndarray:
    """Each window call's reason id in `call_reasons` (-1 where it has none), in window order."""
    reason_of = dict(
        zip(call_reasons["call_id"].to_list(), call_reasons["reason_id"].to_list(), strict=True)
    )
    return np.asarray(
        [
            UNEXPLAINED_ID if reason_of.get(c) is None else int(reason_of[c])
            for c in window["call_id"].to_list()
        ],
        dtype=np.int64,
    )


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


#: Quarantined rows a run's summary and a refused first run name with their reasons (the
#: rest are counted; all are in `quarantine`).
QUARANTINE_SHOWN = 5


def require_calls_to_discover(window: pl.DataFrame, ingested: IngestResult) -> None:
    """Say why, when the window holds too few calls to discover reasons in (a first run).

    Raises:
        InputError: fewer than `cluster.MIN_TEXTS` calls; the message gives the rows read and
            where they went, the files not read and the first rows quarantined, with reasons.
    """
    from contact_reasons.cluster import MIN_TEXTS

    if window.height >= MIN_TEXTS:
        return
    acc = ingested.accounting()
    lines = [
        f"{'no' if window.height == 0 else f'only {window.height}'} valid calls to discover "
        f"reasons in (at least {MIN_TEXTS} needed): read {acc['read']} rows, "
        f"{acc['quarantined']} quarantined, {acc['duplicates']} duplicates, "
        f"{acc['files_rejected']} files not read"
    ]
    shown = QUARANTINE_SHOWN
    quarantined = ingested.quarantine.filter(pl.col("kind") != "duplicate")
    files = quarantined.filter(pl.col("kind") == "file")["reason"].to_list()
    rows = quarantined.filter(pl.col("kind") != "file")["reason"].to_list()
    lines += [f"  file not read: {reason}" for reason in files[:shown]]
    read = ingested.files
    if "rows_read" in read.columns and read.height:  # an empty export, or a header only
        empty = read.filter((pl.col("rows_read") == 0) & pl.col("error").is_null())["path"]
        lines += [f"  no rows in: {path}" for path in empty.to_list()[:shown]]
    lines += [f"  quarantined: {reason}" for reason in rows[:shown]]
    more = max(len(files) - shown, 0) + max(len(rows) - shown, 0)
    if more:
        lines.append(f"  ... and {more} more in the quarantine")
    raise InputError("\n".join(lines))


def _row_accounting(run_id: str, ingested: IngestResult, fresh: pl.DataFrame) -> dict[str, Any]:
    accounting = ingested.accounting()
    return {
        "run_id": run_id,
        "rows_read": accounting["read"],
        "rows_stored": accounting["stored"],
        "rows_new": fresh.height,
        "rows_quarantined": accounting["quarantined"],
        "rows_duplicate": accounting["duplicates"],
        "files_rejected": accounting["files_rejected"],
        "files_not_read": ingested.quarantine.filter(pl.col("kind") == "file")["reason"].to_list(),
        # The first rows set aside, with why (file, row, column, value redacted), so the run's
        # line says it; every one is in the `quarantine` table.
        "quarantined_first": ingested.quarantine.filter(pl.col("kind") == "invalid")["reason"]
        .head(QUARANTINE_SHOWN)
        .to_list(),
    }


def reason_model_row(
    model_id: str,
    run_id: str,
    embedder_id: str,
    window: pl.DataFrame,
    manifest: dict[str, Any],
    model_dir: Path,
) -> dict[str, Any]:
    """The `reason_models` row of a model fitted on `window`."""
    return {
        "reason_model_id": model_id,
        "created_at": manifest["created_at"],
        "run_id": run_id,
        "embedding_model_id": embedder_id,
        "n_calls": window.height,
        "window_start": window["started_at"].min(),
        "window_end": window["started_at"].max(),
        "path": str(model_dir),
        "manifest": manifest["json"],
    }


def reason_names(
    window: pl.DataFrame,
    vectors: np.ndarray,
    call_reasons: pl.DataFrame,
    catalogue: pl.DataFrame,
    settings: ClusterSettings,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    rename: bool = False,
    keep: Mapping[tuple[int, str], str] | None = None,
    fixed: Collection[int] = (),
) -> pl.DataFrame:
    """Each reason's name per language and the evidence of its names (`reason_names` rows).

    With `rename` (a refit), a reason's default name is chosen afresh where that covers more of
    its calls (`renamed_catalogue` then writes it to the catalogue). Without it (an update),
    names in `keep` (stored per-language names, `Database.language_names`) stay, and only
    reasons without a name in a language are named: as the default name, a language's name
    changes on a refit, not from week to week.

    Named from the window's calls with their current reasons (`naming.language_names`); the
    default name measured is the generated one (a human name is a person's choice). Reasons in
    `fixed` keep their generated name (a wrap-up code's, `catalogue_seeds.code_names`).
    """
    labels = window_labels(window, call_reasons)
    active = catalogue.filter(pl.col("status") == "active")
    defaults = {
        int(r): str(g or lab)
        for r, g, lab in active.select("reason_id", "generated_name", "label").iter_rows()
    }
    return language_names(
        window["reason_text"].to_list(),
        window["detected_language"].to_list(),
        labels,
        vectors,
        defaults,
        embed=embed,
        rule=NameRule.from_settings(settings),
        rename=rename,
        keep=keep,
        fixed=fixed,
    )


def renamed_catalogue(catalogue: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """The catalogue with each reason's generated name as `reason_names` holds its default.

    A human name stays the label (`label` is the human name, else the generated one).
    """
    default = names.filter(pl.col("language") == DEFAULT_LANGUAGE)
    fresh = dict(zip(default["reason_id"].to_list(), default["name"].to_list(), strict=True))
    return with_generated_names(catalogue, fresh)


def collect_results(
    *,
    run_id: str,
    ingested: IngestResult,
    window: pl.DataFrame,
    fresh: pl.DataFrame,
    embedder_id: str,
    embedded: Embedded,
    model_id: str,
    reason_model: dict[str, Any] | None,
    change: CatalogueChange,
    stats_weeks: list[str],
    week_table: pl.DataFrame,
    documents: pl.DataFrame,
    gaps: pl.DataFrame,
    timings: dict[str, float],
    alerts: pl.DataFrame | None = None,
    names: pl.DataFrame | None = None,
) -> tuple[RunResults, dict[str, Any]]:
    """Assemble what a completed run writes, and the run's summary (its `runs` row).

    `fresh` is every new call of the input, whatever its date: all of them are stored.
    """
    call_reasons = change.call_reasons
    results = RunResults(
        calls=fresh.select(CALL_COLUMNS),
        quarantine=ingested.quarantine.with_columns(pl.lit(run_id).alias("first_run_id")),
        embeddings=embedding_rows(embedder_id, embedded.new_hashes, embedded.new_vectors),
        reason_model=reason_model,
        reasons=change.catalogue,
        call_reasons=call_reasons,
        weekly_reason_stats=week_table,
        faq_documents=documents,
        faq_recommendations=gaps,
        alerts=alerts,
        events=change.events,
        space=None if change.space is None else change.space.row(_created(reason_model)),
        stats_weeks=stats_weeks,
        reason_names=names,
    )
    unexplained = int((call_reasons["reason_id"] == UNEXPLAINED_ID).sum())
    found = call_reasons.filter(pl.col("reason_id") != UNEXPLAINED_ID)["reason_id"].n_unique()
    summary = {
        **_row_accounting(run_id, ingested, fresh),
        "calls_clustered": window.height,
        "reasons_found": found,
        "new_reasons": list(change.new_reason_ids),
        "unexplained_share": unexplained / window.height if window.height else 0.0,
        "weeks": sorted(window["week"].unique().to_list()),
        "faq_pages": documents.height,
        "faq_gaps": gaps.filter(pl.col("recommendation") != "covered").height
        if "recommendation" in gaps.columns
        else gaps.height,
        "alerts": 0 if alerts is None else alerts.height,
        "embedding_model_id": embedder_id,
        "reason_model_id": model_id,
        "timings": dict(timings),
    }
    return results, summary


def _created(reason_model: dict[str, Any] | None) -> Any:
    from datetime import UTC, datetime

    if reason_model is not None:
        return reason_model["created_at"]
    return datetime.now(UTC).replace(tzinfo=None)


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


def rewritable_weeks(stored: pl.DataFrame, window: pl.DataFrame) -> set[str]:
    """The window's weeks whose statistics a refit writes afresh.

    Those with no statistics stored, and those the window holds at least as many calls of as
    the stored statistics count. The window starts `stats.lookback_weeks` before the newest
    call, mid-week when a refit runs mid-week: its cut first week keeps the statistics of all
    its calls, as a week whose calls were purged keeps its own (`privacy`).

    Args:
        stored: `weekly_reason_stats` rows (`week`, `calls`).
        window: the run's calls (`week`).
    """
    held = window.group_by("week").agg(pl.len().cast(pl.Int64).alias("held"))
    counted = stored.group_by("week").agg(pl.col("calls").sum().cast(pl.Int64).alias("counted"))
    weeks = held.join(counted, on="week", how="left").filter(
        pl.col("counted").is_null() | (pl.col("held") >= pl.col("counted"))
    )
    return set(weeks["week"].to_list())
