"""A tiny weekly-run database for report tests, built from inline frames (no embedding model)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from contact_reasons.alerts import detect_alerts, flag_emerging
from contact_reasons.catalogue import CATALOGUE_SCHEMA
from contact_reasons.config import AlertSettings, StatsSettings
from contact_reasons.faq import empty_recommendations
from contact_reasons.stats import weekly_reason_stats
from contact_reasons.storage import Database, RunResults

LABELS = {
    1: "Faktura højere end forventet",
    2: "Ny app-opdatering virker ikke",
    3: "Måleraflæsning",
    4: "Adresseændring <script>alert(1)</script> & co",
}
#: Calls per reason over twelve weeks: 1 steady and largest, 2 new, 3 falls, 4 steady.
COUNTS = {
    1: [30, 34, 28, 31, 33, 29, 32, 30, 31, 28, 33, 32],
    2: [0, 0, 0, 0, 0, 0, 0, 0, 2, 12, 25, 31],
    3: [20, 21, 19, 22, 20, 21, 8, 7, 8, 7, 8, 7],
    4: [9, 11, 10, 8, 10, 9, 11, 10, 9, 10, 8, 10],
}
WEEKS = [f"2026-W{w:02d}" for w in range(36, 48)]
TOP_LABEL = LABELS[1]


def _monday(week: str) -> datetime:
    year, w = week.split("-W")
    return datetime.combine(date.fromisocalendar(int(year), int(w), 1), datetime.min.time())


def build(path: Path) -> Path:
    """Write a completed run with calls, stats, alerts and FAQ gaps to a new database."""
    rows = []
    for rid, counts in COUNTS.items():
        for week, n in zip(WEEKS, counts, strict=True):
            for i in range(n):
                rows.append(
                    {
                        "call_id": f"{week}-{rid}-{i}",
                        "started_at": _monday(week) + timedelta(hours=9, minutes=i),
                        "week": week,
                        "reason_id": rid,
                        "similarity": 1.0 - i / 100,
                        "reason_text": f"Kunden ringer om {LABELS[rid].lower()} (nr. {i})",
                    }
                )
    frame = pl.DataFrame(rows)
    calls = frame.select(
        "call_id",
        "started_at",
        "week",
        pl.col("reason_text").alias("summary"),
        pl.lit(None, pl.String).alias("transcript"),
        "reason_text",
        pl.lit("summary").alias("text_source"),
        pl.lit(None, pl.String).alias("customer_text"),
        pl.lit("da").alias("language"),
        pl.lit("da").alias("detected_language"),
        pl.lit("phone").alias("channel"),
        pl.lit("kundeservice").alias("queue"),
        pl.lit("private").alias("customer_type"),
        pl.lit(True).alias("answered"),
        pl.lit(120.0).alias("duration_seconds"),
        pl.lit("inline.csv").alias("source_file"),
        pl.int_range(pl.len()).alias("source_row"),
        pl.col("call_id").alias("text_hash"),
        pl.lit("run-test").alias("first_run_id"),
        pl.lit(None, pl.String).alias("wrapup_code"),
    )
    reasons = pl.DataFrame(
        {
            "reason_id": list(LABELS),
            "reason_model_id": ["m"] * len(LABELS),
            "label": list(LABELS.values()),
            "keywords": [["x"]] * len(LABELS),
            "language": ["da"] * len(LABELS),
            "calls": [sum(c) for c in COUNTS.values()],
            "example_call_ids": [[]] * len(LABELS),
        },
        schema_overrides={"reason_id": pl.Int32, "calls": pl.Int64},
    )
    # The catalogue's own columns: every reason active, named by its generated name.
    reasons = pl.concat(
        [pl.DataFrame(schema=CATALOGUE_SCHEMA), reasons], how="diagonal_relaxed"
    ).with_columns(pl.lit("active").alias("status"), pl.col("label").alias("generated_name"))
    call_reasons = frame.select(
        "call_id",
        pl.col("reason_id").cast(pl.Int32),
        "similarity",
        pl.lit("m").alias("reason_model_id"),
    )
    stats = weekly_reason_stats(
        frame.select("call_id", "week", "reason_id", "similarity").with_columns(
            pl.col("reason_id").cast(pl.Int32)
        ),
        reasons,
        StatsSettings(),
    )
    alerts = detect_alerts(stats, reasons, AlertSettings())
    gaps = pl.DataFrame(
        {
            "rank": [1],
            "reason_id": [3],
            "label": [LABELS[3]],
            "recommendation": ["new_page"],
            "calls": [151],
            "calls_per_week": [12.6],
            "estimated_calls_saved": [3.8],
            "best_doc_id": [None],
            "best_doc_title": [None],
            "similarity": [None],
            "margin": [None],
            "suggested_title": ["Hvordan indsender jeg min måleraflæsning?"],
            "customer_phrasings": [["hvor skal jeg taste målertallet ind"]],
        },
        schema_overrides={
            "rank": pl.Int32,
            "reason_id": pl.Int32,
            "best_doc_id": pl.String,
            "best_doc_title": pl.String,
            "similarity": pl.Float64,
            "margin": pl.Float64,
        },
    )
    # The table's other columns (coverage, best unit, trend, ...) stay empty here.
    gaps = pl.concat([empty_recommendations(), gaps], how="diagonal_relaxed")
    results = RunResults(
        calls=calls,
        quarantine=pl.DataFrame(),
        embeddings=pl.DataFrame(),
        reason_model={
            "reason_model_id": "m",
            "created_at": datetime(2026, 11, 23),
            "run_id": "run-test",
            "embedding_model_id": "none",
            "n_calls": calls.height,
            "window_start": calls["started_at"].min(),
            "window_end": calls["started_at"].max(),
            "path": None,
            "manifest": "{}",
        },
        reasons=reasons,
        call_reasons=call_reasons,
        weekly_reason_stats=flag_emerging(stats, alerts),
        faq_documents=pl.DataFrame(),
        faq_recommendations=gaps,
        alerts=alerts,
        stats_weeks=stats["week"].unique().to_list(),
    )
    with Database(path) as db:
        db.start_run("run-test", [], "{}")
        db.write_results("run-test", results, {"timings": {}})
    return path
