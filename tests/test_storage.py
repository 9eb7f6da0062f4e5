import multiprocessing
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from contact_reasons.errors import RunLockedError, StorageError
from contact_reasons.storage import Database, migrations
from tests.conftest import hold_database


def test_migrations_are_numbered_and_applied_once(tmp_path: Path):
    path = tmp_path / "cr.duckdb"
    with Database(path) as db:
        assert db.schema_version() == len(migrations())
        versions = db.table("schema_version")
        assert versions["version"].to_list() == list(range(1, len(migrations()) + 1))
    with Database(path) as db:  # reopening applies nothing again
        assert db.table("schema_version").height == len(migrations())


def test_read_only_open_of_missing_db_is_a_clear_error(tmp_path: Path):
    with pytest.raises(StorageError, match="no database here"):
        Database(tmp_path / "missing.duckdb", read_only=True)


def test_unknown_table_is_refused(tmp_path: Path):
    with Database(tmp_path / "cr.duckdb") as db, pytest.raises(StorageError, match="unknown"):
        db.table("calls; DROP TABLE calls")


def test_transaction_rolls_back_everything(tmp_path: Path):
    with Database(tmp_path / "cr.duckdb") as db:
        db.start_run("r1", [], "{}")

        def write_then_fail() -> None:
            with db.transaction():
                db._con.execute("DELETE FROM runs")
                raise RuntimeError("killed mid-write")

        with pytest.raises(RuntimeError):
            write_then_fail()
        assert db.table("runs")["run_id"].to_list() == ["r1"]


def test_embedding_cache_round_trip(tmp_path: Path):
    with Database(tmp_path / "cr.duckdb") as db:
        frame = pl.DataFrame(
            {"model_id": ["m", "m"], "text_hash": ["a", "b"], "vector": [[1.0, 0.0], [0.0, 1.0]]},
            schema={"model_id": pl.String, "text_hash": pl.String, "vector": pl.List(pl.Float32)},
        )
        with db.transaction():
            db._insert_new("embeddings", frame, key=("model_id", "text_hash"))
            db._insert_new("embeddings", frame, key=("model_id", "text_hash"))  # idempotent
        got = db.cached_embeddings("m", ["b", "zzz"])
        assert list(got) == ["b"]
        np.testing.assert_allclose(got["b"], [0.0, 1.0])
        assert db.cached_embeddings("other", ["a"]) == {}
        assert db.table("embeddings").height == 2


def test_second_process_is_stopped_with_a_clear_message(tmp_path: Path):
    path = tmp_path / "cr.duckdb"
    Database(path).close()
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=hold_database, args=(str(path), ready, release))
    child.start()
    try:
        assert ready.wait(60)
        started = datetime.now()
        with pytest.raises(RunLockedError, match="in use by another run"):
            Database(path, lock_timeout=1.0)
        assert (datetime.now() - started).total_seconds() >= 1.0
    finally:
        release.set()
        child.join(30)
    with Database(path) as db:  # released: usable again, intact
        assert db.schema_version() == len(migrations())


def test_the_bi_view_ranks_reasons_and_leaves_the_unexplained_calls_unranked(tmp_path):
    # The unexplained calls (reason -1) were ranked among the reasons: the demo's W47 showed
    # "(unexplained)" as the week's second contact reason.
    with Database(tmp_path / "v.duckdb") as db:
        db._con.execute(
            "INSERT INTO weekly_reason_stats (week, reason_id, label, calls, share, "
            "baseline_calls, change, change_pct, p_value, is_emerging, example_call_ids) VALUES "
            "('2026-W47', 1, 'Faktura', 50, 0.42, NULL, NULL, NULL, NULL, false, []), "
            "('2026-W47', -1, '(unexplained)', 40, 0.33, NULL, NULL, NULL, NULL, false, []), "
            "('2026-W47', 2, 'Flytning', 30, 0.25, NULL, NULL, NULL, NULL, false, [])"
        )
        top = db.query(
            "SELECT reason_id, rank, calls FROM v_weekly_top_reasons ORDER BY calls DESC"
        )
    assert dict(zip(top["reason_id"], top["rank"], strict=True)) == {1: 1, -1: None, 2: 2}
    assert top["calls"].sum() == 120  # the week's rows still add up to its calls
