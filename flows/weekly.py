"""The weekly contact-reasons flow: wiring only; the run itself is `pipeline.run_weekly`.

Each stage of the run executes as a Prefect task (named below), so it shows in the Prefect UI
with its own timing; the orchestration lives in the library and runs without Prefect too.
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from contact_reasons import ingest, pipeline, privacy, redact, report, weekly
from contact_reasons.config import ScaleOutSettings, flow_settings
from contact_reasons.embed import embed_with_cache
from contact_reasons.storage import Database

T = TypeVar("T")

# Frames and models are large and unhashable: no task result caching.
read_inputs = task(name="read-and-validate", cache_policy=NO_CACHE)(ingest.read_inputs)
redact_calls = task(name="redact", cache_policy=NO_CACHE)(redact.redact_calls)
prepare_calls = task(name="reason-text", cache_policy=NO_CACHE)(weekly.prepare_calls)
embed_calls = task(name="embed", cache_policy=NO_CACHE, retries=1)(embed_with_cache)
apply_retention = task(name="retention", cache_policy=NO_CACHE)(privacy.apply_retention)

#: Stage name in `pipeline.run_weekly` -> the Prefect task name it runs under.
TASK_NAMES = {
    "redact": "redact",
    "reason_text": "reason-text",
    "window": "select-window",
    "embed": "embed",
    "discover": "discover-reasons",
    "align": "align-to-catalogue",
    "assign": "update-catalogue",
    "save_model": "save-reason-model",
    "stats": "weekly-stats",
    "alerts": "alerts",
    "read_faq": "read-faq",
    "embed_faq": "embed-faq",
    "faq_gaps": "faq-gaps",
    "names": "name-reasons",
}


class _AsTasks(pipeline.Timer):
    """Runs each stage of the pipeline as a Prefect task, timed."""

    def __call__(self, name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if isinstance(fn, Task):
            already: Callable[..., T] = fn
            return super().__call__(name, already, *args, **kwargs)
        retries = 1 if name == "embed" else 0
        as_task: Callable[..., T] = task(
            name=TASK_NAMES.get(name, name), cache_policy=NO_CACHE, retries=retries
        )(fn)
        return super().__call__(name, as_task, *args, **kwargs)


class _TaskBatches:
    """Submits each batch as a Prefect task to the flow's task runner (Dask, with prefect-dask).

    Only the batch functions run there; the database stays with the flow.
    """

    def __call__(
        self, name: str, fn: Callable[..., T], batches: Sequence[Any], *shared: Any
    ) -> list[T]:
        as_task = task(name=name.replace("_", "-"), cache_policy=NO_CACHE, retries=1)(fn)
        futures = [as_task.submit(batch, *shared) for batch in batches]
        return [f.result() for f in futures]


def dask_task_runner(scale_out: ScaleOutSettings) -> Any:
    """prefect-dask's task runner for the settings: an existing scheduler, or a local cluster."""
    from prefect_dask import DaskTaskRunner

    if scale_out.address:
        return DaskTaskRunner(address=scale_out.address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": scale_out.workers,
            "threads_per_worker": scale_out.threads_per_worker,
            "processes": True,
        }
    )


@flow(name="weekly-contact-reasons", log_prints=False)
def weekly_contact_reasons(
    inputs: list[str],
    faq_paths: list[str] | None = None,
    db_path: str | None = None,
    config_path: str | None = None,
    overrides: dict[str, Any] | None = None,
    refit: bool = False,
) -> dict[str, Any]:
    """Read calls, update the reason catalogue and FAQ gaps (or refit them), and store them."""
    logger = get_run_logger()
    settings, db_file = flow_settings(config_path, overrides, db_path)
    run_id = f"run-{uuid.uuid4().hex[:12]}"
    timer = _AsTasks()
    with Database(db_file, lock_timeout=settings.storage.lock_timeout_seconds) as db:
        ingested = timer(
            "read",
            read_inputs,
            [Path(p) for p in inputs],
            settings=settings,  # ingest settings and the wrap-up column
        )
        db.start_run(run_id, ingested.files.to_dicts(), settings.model_dump_json())
        try:
            summary = pipeline.run_weekly(
                db,
                run_id,
                ingested,
                faq_paths or [],
                settings,
                refit=refit,
                call=timer,
                batches=_TaskBatches() if settings.scale_out.engine == "dask" else None,
            )
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
    language = settings.report.language
    with Database(db_file, read_only=True) as db:
        top = report.top_reasons_artifact(db, language=language)
        create_table_artifact(key="top-reasons", table=top, description="the latest week")
        create_markdown_artifact(
            key="alerts", markdown=report.alerts_markdown(db, language=language)
        )
        create_markdown_artifact(
            key="faq-recommendations",
            markdown=report.markdown_faq_gaps(report.faq_gaps(db, language)),
            description=run_id,
        )
    return summary


@flow(name="weekly-contact-reasons-dask", log_prints=False)
def weekly_contact_reasons_dask(
    inputs: list[str],
    faq_paths: list[str] | None = None,
    db_path: str | None = None,
    config_path: str | None = None,
    overrides: dict[str, Any] | None = None,
    refit: bool = False,
) -> dict[str, Any]:
    """The weekly flow with its embedding and assignment batches on a Dask cluster.

    Runs `weekly_contact_reasons` as a subflow on prefect-dask's `DaskTaskRunner`, pointed at
    `scale_out.address` (or a local cluster of `scale_out.workers` processes).
    """
    settings, _ = flow_settings(config_path, overrides, db_path)
    dask_overrides = {
        **(overrides or {}),
        "scale_out": settings.scale_out.model_dump() | {"engine": "dask"},
    }
    inner = weekly_contact_reasons.with_options(task_runner=dask_task_runner(settings.scale_out))
    result: dict[str, Any] = inner(
        inputs=inputs,
        faq_paths=faq_paths,
        db_path=db_path,
        config_path=config_path,
        overrides=dask_overrides,
        refit=refit,
    )
    return result
