"""The daily ingest flow: validate, redact and embed new calls so the weekly run starts warm."""

from __future__ import annotations

import traceback
import uuid
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from contact_reasons import weekly
from contact_reasons.config import flow_settings
from contact_reasons.embed import load_embedder
from contact_reasons.pipeline import Timer
from contact_reasons.storage import Database
from flows.weekly import embed_calls, prepare_calls, read_inputs, redact_calls


@flow(name="daily-ingest")
def daily_ingest(
    inputs: list[str],
    db_path: str | None = None,
    config_path: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store new calls (redacted) and their embeddings; quarantine bad rows."""
    settings, db_file = flow_settings(config_path, overrides, db_path)
    run_id = f"ingest-{uuid.uuid4().hex[:12]}"
    timer = Timer()
    with Database(db_file, lock_timeout=settings.storage.lock_timeout_seconds) as db:
        ingested = timer(
            "read",
            read_inputs,
            [Path(p) for p in inputs],
            settings=settings,  # ingest settings and the wrap-up column
        )
        db.start_run(run_id, ingested.files.to_dicts(), settings.model_dump_json())
        try:
            redacted = timer(
                "redact",
                redact_calls,
                ingested.calls,
                workers=settings.redaction.workers,
                parallel_from=settings.redaction.parallel_from,
            )
            prepared = timer("reason_text", prepare_calls, redacted, run_id)
            known = db.known_call_ids(prepared["call_id"].to_list())
            fresh = prepared.filter(~prepared["call_id"].is_in(list(known)))
            embedder = load_embedder(settings.embedding)
            texts = fresh["reason_text"].to_list()
            cached = db.cached_embeddings(embedder.model_id, fresh["text_hash"].to_list())
            embedded = timer("embed", embed_calls, embedder, texts, cached)
            calls, quarantine, embeddings, summary = weekly.collect_ingest(
                run_id=run_id,
                ingested=ingested,
                fresh=fresh,
                embedder_id=embedder.model_id,
                embedded=embedded,
                timings=timer.seconds,
            )
            db.write_ingest(run_id, calls, quarantine, embeddings, summary)
        except BaseException:
            db.fail_run(run_id, traceback.format_exc())
            raise
    get_run_logger().info("ingest %s: %s", run_id, summary)
    return summary
