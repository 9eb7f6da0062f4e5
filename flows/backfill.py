"""The backfill flow: historic exports run week by week; wiring only (`pipeline.backfill`)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from contact_reasons import pipeline
from contact_reasons.config import flow_settings
from contact_reasons.storage import Database
from flows.weekly import _AsTasks, read_inputs


@flow(name="backfill-contact-reasons", log_prints=False)
def backfill_contact_reasons(
    inputs: list[str],
    faq_paths: list[str] | None = None,
    db_path: str | None = None,
    config_path: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run historic call exports one ISO week at a time, oldest first, as the weekly job would."""
    settings, db_file = flow_settings(config_path, overrides, db_path)
    ingested = read_inputs(
        [Path(p) for p in inputs],
        settings=settings,  # ingest settings and the wrap-up column
    )
    tag = uuid.uuid4().hex[:8]
    with Database(db_file, lock_timeout=settings.storage.lock_timeout_seconds) as db:
        summaries = pipeline.backfill(
            db,
            ingested,
            faq_paths or [],
            settings,
            new_run_id=lambda week: f"backfill-{tag}-{week}",
            call=_AsTasks,
        )
    get_run_logger().info("backfill: %d weekly runs", len(summaries))
    return summaries
