"""Crashes and concurrency: a killed run leaves the last complete state; two runs never mix."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path

import pytest

from contact_reasons.errors import RunLockedError
from contact_reasons.storage import Database
from tests.conftest import FAQ, hold_database
from tests.test_end_to_end import STABLE_TABLES, snapshot


def _killed_mid_write(path: str) -> None:  # child process: dies inside the result transaction
    db = Database(path)
    db.start_run("run-killed", [], "{}")
    db._con.execute("BEGIN TRANSACTION")
    for table in ("weekly_reason_stats", "faq_recommendations", "reasons", "call_reasons"):
        db._con.execute(f'DELETE FROM "{table}"')
    db._con.execute("DELETE FROM calls WHERE call_id IN (SELECT call_id FROM calls LIMIT 50)")
    os._exit(9)  # as a SIGKILL would: no rollback, no close


def test_kill_mid_write_keeps_last_complete_state_and_rerun_completes(weekly_run, tmp_path: Path):
    from flows.weekly import weekly_contact_reasons

    src, _, overrides, inputs = weekly_run
    db_path = tmp_path / "killed.duckdb"
    shutil.copy(src, db_path)
    before = snapshot(db_path)
    child = multiprocessing.get_context("spawn").Process(
        target=_killed_mid_write, args=(str(db_path),)
    )
    child.start()
    child.join(120)
    assert child.exitcode == 9
    after_kill = snapshot(db_path)
    for table in STABLE_TABLES:
        assert before[table].equals(after_kill[table]), f"{table} changed by a killed run"
    with Database(db_path, read_only=True) as db:
        runs = db.table("runs")
    assert runs.filter(runs["run_id"] == "run-killed")["status"].to_list() == ["running"]

    summary = weekly_contact_reasons(
        inputs=inputs, faq_paths=[str(FAQ)], db_path=str(db_path), overrides=overrides
    )
    assert summary["rows_new"] == 0
    rerun = snapshot(db_path)
    for table in STABLE_TABLES:
        assert before[table].equals(rerun[table]), f"{table} differs after the rerun"


def test_second_concurrent_run_stops_with_a_clear_message(weekly_run, tmp_path: Path):
    from flows.weekly import weekly_contact_reasons

    src, _, overrides, inputs = weekly_run
    db_path = tmp_path / "busy.duckdb"
    shutil.copy(src, db_path)
    before = snapshot(db_path)
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=hold_database, args=(str(db_path), ready, release))
    child.start()
    try:
        assert ready.wait(60)
        with pytest.raises(RunLockedError, match="in use by another run"):
            weekly_contact_reasons(
                inputs=inputs,
                faq_paths=[str(FAQ)],
                db_path=str(db_path),
                overrides=overrides,
            )
    finally:
        release.set()
        child.join(60)
    after = snapshot(db_path)
    for table in STABLE_TABLES:
        assert before[table].equals(after[table]), table
