"""Scale-out: the weekly run's batches on a real two-worker Dask cluster, through prefect-dask,
give exactly what the run gives in one process; and a CUDA device that is not there is refused."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import datetime

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from contact_reasons import ingest, pipeline
from contact_reasons.config import EmbeddingSettings, Settings
from contact_reasons.embed import HashingEmbedder, SentenceTransformerEmbedder, check_device
from contact_reasons.errors import ConfigError
from contact_reasons.storage import Database
from tests.conftest import FAQ, SAMPLE

WEEKS = sorted((SAMPLE / "calls").glob("calls_*.csv"))
COMPARED = ("calls", "embeddings", "reasons", "call_reasons", "weekly_reason_stats")


def week_calls(index: int, n: int = 120) -> ingest.IngestResult:
    read = ingest.read_inputs([WEEKS[index]])
    calls = read.calls.head(n)
    return dataclasses.replace(read, calls=calls, rows_read=calls.height, duplicates=0)


def contents(db_path) -> dict[str, pl.DataFrame]:
    with Database(db_path, read_only=True) as db:
        out = {}
        for name in COMPARED:
            frame = db.table(name)
            keys = [c for c in ("call_id", "reason_id", "week", "text_hash") if c in frame.columns]
            out[name] = frame.drop("created_at", strict=False).sort(keys)
        return out


def one_run(db_path, part, settings, run_id, batches=None, call=None) -> dict:
    with Database(db_path) as db:
        db.start_run(run_id, part.files.to_dicts(), "{}")
        return pipeline.run_weekly(
            db,
            run_id,
            part,
            [FAQ],
            settings,
            embedder=HashingEmbedder(),
            batches=batches,
            call=call,
            now=datetime(2026, 11, 30),
        )


@pytest.mark.slow  # minutes under load: a discovery, two updates, a two-process cluster
def test_dask_cluster_run_equals_single_process(tmp_path, prefect_harness):
    distributed = pytest.importorskip("distributed")
    from prefect import flow
    from prefect_dask import DaskTaskRunner

    from flows.weekly import _AsTasks, _TaskBatches

    settings = Settings().with_overrides(
        {"storage": {"model_dir": str(tmp_path / "models")}, "scale_out": {"batch_size": 25}}
    )
    first, second = week_calls(0), week_calls(1)
    base = tmp_path / "base.duckdb"
    one_run(base, first, settings, "run-1")  # the first run: discovery, one process
    local, on_dask = tmp_path / "local.duckdb", tmp_path / "dask.duckdb"
    shutil.copyfile(base, local)
    shutil.copyfile(base, on_dask)
    single = one_run(local, second, settings, "run-2")

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):

        @flow(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
        def update_on_dask() -> dict:
            return one_run(on_dask, second, settings, "run-2", _TaskBatches(), _AsTasks())

        spread = update_on_dask()
        # The batches ran on the workers (120 new calls in batches of 25: 5 embedding and 5
        # assignment batches), not in this process.
        done = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert len(done) == 2
    assert sum(done.values()) >= 10
    assert single["mode"] == spread["mode"] == "update"
    a, b = contents(local), contents(on_dask)
    for name in COMPARED:
        assert_frame_equal(a[name], b[name])
    assert a["call_reasons"].height == 240


def test_cuda_device_without_cuda_is_refused_not_ignored(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the refusal is for machines without it")
    with pytest.raises(ConfigError, match=r"embedding.device = 'cuda'.*sees no CUDA device"):
        check_device("cuda")
    embedder = SentenceTransformerEmbedder(EmbeddingSettings(model=str(tmp_path), device="cuda"))
    with pytest.raises(ConfigError, match="set embedding.device = 'cpu'"):
        embedder.embed(["a call"])
    check_device("cpu")  # the CPU is always there


def test_batched_embedding_equals_one_piece():
    from contact_reasons.embed import embed_with_cache
    from contact_reasons.scale_out import serial_map

    texts = [f"call {i} about invoice {i % 7}" for i in range(23)]
    whole = embed_with_cache(HashingEmbedder(), texts, {})
    pieces = embed_with_cache(HashingEmbedder(), texts, {}, batches=serial_map, batch_size=4)
    np.testing.assert_array_equal(whole.vectors, pieces.vectors)
    assert whole.new_hashes == pieces.new_hashes
