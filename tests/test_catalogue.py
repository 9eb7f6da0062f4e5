"""The reason catalogue: history kept, updates not refits, curation that sticks (fake embedder)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from pathlib import Path

import polars as pl
import pytest

from contact_reasons import cli, curation, ingest, pipeline
from contact_reasons.config import Settings
from contact_reasons.embed import HashingEmbedder
from contact_reasons.errors import InputError
from contact_reasons.storage import Database
from tests.conftest import FAQ, SAMPLE

WEEKS = sorted((SAMPLE / "calls").glob("calls_*.csv"))
CURATED = ("reasons", "call_reasons", "weekly_reason_stats", "reason_events")


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    models = tmp_path_factory.mktemp("models")
    return Settings().with_overrides({"storage": {"model_dir": str(models)}})


def week_calls(index: int, n: int = 120) -> ingest.IngestResult:
    """The first `n` calls of one sample week, as read and validated."""
    read = ingest.read_inputs([WEEKS[index]])
    calls = read.calls.head(n)
    return dataclasses.replace(read, calls=calls, rows_read=calls.height, duplicates=0)


def run(db_path: Path, ingested, settings, *, refit=False, run_id="run-x", faq=(FAQ,)) -> dict:
    with Database(db_path) as db:
        db.start_run(run_id, ingested.files.to_dicts(), "{}")
        return pipeline.run_weekly(
            db, run_id, ingested, list(faq), settings, refit=refit, embedder=HashingEmbedder()
        )


def tables(db_path: Path, names=CURATED) -> dict[str, pl.DataFrame]:
    with Database(db_path, read_only=True) as db:
        return {t: db.table(t) for t in names}


def cli_main(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory, settings):
    """W36 (first run: discovery) then W37 (an update), 120 calls each."""
    db_path = tmp_path_factory.mktemp("cat") / "cr.duckdb"
    first = run(db_path, week_calls(0), settings, run_id="run-w36")
    after_first = tables(db_path)
    second = run(db_path, week_calls(1), settings, run_id="run-w37")
    return db_path, first, after_first, second


def test_one_run_stores_calls_of_every_date_240_of_240(tmp_path, settings):
    read = ingest.read_inputs([WEEKS[-1]])
    recent = read.calls.head(120)
    old = read.calls.slice(120, 120).with_columns(
        pl.col("started_at").dt.offset_by("-40w"),
        ("old-" + pl.col("call_id")).alias("call_id"),
    )
    assert old["started_at"].dt.year().unique().to_list() == [2026]
    assert old["started_at"].dt.month().unique().to_list() == [2]
    calls = pl.concat([old, recent])
    ingested = dataclasses.replace(read, calls=calls, rows_read=240, duplicates=0)
    summary = run(tmp_path / "cr.duckdb", ingested, settings)
    assert summary["rows_read"] == 240
    assert summary["rows_stored"] == 240
    assert summary["rows_new"] == 240
    with Database(tmp_path / "cr.duckdb", read_only=True) as db:
        assert db.table("calls").height == 240
        runs = db.table("runs")
        assert runs["rows_new"].to_list() == [240]
        # the fitting window is a read: the February calls are kept, not fitted on
        assert db.read_calls(since=recent["started_at"].min()).height == 120
        assigned = db.table("call_reasons")["call_id"].to_list()
    assert not any(c.startswith("old-") for c in assigned)


def test_a_file_not_read_is_counted_in_the_summary_and_printed(tmp_path, settings):
    # Its rows are not counted as read, so read = stored + quarantined + duplicates held
    # and the run's one line said nothing about the file it left out.
    wrong = tmp_path / "export.csv"
    wrong.write_text("id,date,text\nF1,2026-11-10,faktura\n", encoding="utf-8")
    read = ingest.read_inputs([WEEKS[0], wrong])
    read = dataclasses.replace(read, calls=read.calls.head(120))
    summary = run(tmp_path / "cr.duckdb", read, settings)
    assert summary["files_rejected"] == 1
    line = cli._run_summary(summary)
    assert "1 file not read (below)" in line
    assert line.endswith(
        f"\n  not read: {wrong}: missing required column 'call_id' (found: id, date, text)"
    )
    assert "not read" not in cli._run_summary(summary | {"files_rejected": 0, "files_not_read": []})


def test_the_runs_line_names_the_first_quarantined_rows_and_where_the_rest_are(tmp_path, settings):
    """A run that set rows aside says which and why, not only how many."""
    bad = tmp_path / "bad.csv"
    rows = "".join(f"B{i},not a date,Faktura for høj\n" for i in range(7))
    bad.write_text(f"call_id,started_at,summary\n{rows}", encoding="utf-8")
    read = ingest.read_inputs([WEEKS[0], bad])
    summary = run(tmp_path / "cr.duckdb", read, settings)
    assert summary["rows_quarantined"] == 7
    line = cli._run_summary(summary)
    shown = [x for x in line.splitlines() if x.startswith("  quarantined: ")]
    assert len(shown) == 5
    assert shown[0].startswith(f"  quarantined: {bad} row 1: ")
    assert "'started_at'" in shown[0]
    assert "'not a date'" in shown[0]
    assert line.endswith("\n  ... and 2 more: the `quarantine` table has every row")
    clean = summary | {"rows_quarantined": 0, "quarantined_first": []}
    assert "quarantined:" not in cli._run_summary(clean)


def test_a_first_run_without_enough_valid_calls_says_why(tmp_path, settings):
    # The only file has no call_id column (a header of another export): nothing to cluster.
    # The error names the file and the column, not "need at least 10 texts ... got 0".
    wrong = tmp_path / "export.csv"
    wrong.write_text("id,date,text\nF1,2026-11-10,faktura\n", encoding="utf-8")
    bad_dates = tmp_path / "dates.csv"
    bad_dates.write_text(
        "call_id,started_at,summary\n" + "".join(f"c{i},10/11/2026,faktura\n" for i in range(3))
    )
    read = ingest.read_inputs([wrong, bad_dates])
    with pytest.raises(InputError) as raised:
        run(tmp_path / "cr.duckdb", read, settings)
    message = str(raised.value)
    assert "no valid calls" in message or "0 valid calls" in message
    assert f"{wrong}: missing required column 'call_id'" in message
    assert f"{bad_dates} row 1: column 'started_at' = '10/11/2026'" in message
    assert "read 3 rows, 3 quarantined" in message


@pytest.mark.parametrize("content", ["", "call_id,started_at,summary\n"])
def test_a_first_run_on_an_empty_export_names_the_file(tmp_path, settings, content):
    # An empty export (0 bytes, or a header only) said "no valid calls ... read 0 rows,
    # 0 quarantined, 0 duplicates, 0 files not read" without naming the file that had no rows.
    empty = tmp_path / "calls_2026-W48.csv"
    empty.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        run(tmp_path / "cr.duckdb", ingest.read_inputs([empty]), settings)
    assert f"  no rows in: {empty}" in str(raised.value)


def test_first_run_discovers_then_an_update_keeps_ids_and_past_weeks(two_weeks):
    db_path, first, before, second = two_weeks
    assert first["mode"] == "refit"
    assert second["mode"] == "update"
    after = tables(db_path)
    old = before["call_reasons"].select("call_id", "reason_id")
    now = after["call_reasons"].join(old, on="call_id", suffix="_before")
    assert now.height == 120
    explained = now.filter(pl.col("reason_id_before") != -1)
    assert explained.height > 100
    assert (explained["reason_id"] == explained["reason_id_before"]).all()
    # a call left unexplained may only have joined a reason the update created
    late = now.filter((pl.col("reason_id_before") == -1) & (pl.col("reason_id") != -1))
    assert set(late["reason_id"].to_list()) <= set(second["new_reasons"])
    assert after["call_reasons"].height == 240
    w36 = before["weekly_reason_stats"].filter(pl.col("week") == "2026-W36")
    assert w36.equals(after["weekly_reason_stats"].filter(pl.col("week") == "2026-W36"))
    assert "2026-W37" in after["weekly_reason_stats"]["week"].to_list()
    # ids are never reused: every reason of the first run is still there, same id and name
    kept = before["reasons"].select("reason_id", "generated_name")
    assert kept.join(after["reasons"], on=["reason_id", "generated_name"]).height == kept.height
    new = after["reasons"].filter(pl.col("reason_id").is_in(second["new_reasons"]))
    assert (new["reason_id"] > before["reasons"]["reason_id"].max()).all()


def test_a_refit_keeps_the_statistics_of_a_week_its_window_holds_only_part_of(tmp_path, settings):
    # The monthly refit runs mid-week, so its window (`stats.lookback_weeks` back from the
    # newest call) starts mid-week: the refit rewrote that first week's statistics from the
    # calls after the cut only, and the week lost its Monday-to-Wednesday calls in every
    # report, the trend's first point and the alerts' history.
    read = ingest.read_inputs([WEEKS[0]])
    spread = read.calls.sort("started_at").gather_every(4)  # W36, Monday to Sunday
    first = dataclasses.replace(read, calls=spread, rows_read=spread.height, duplicates=0)
    later_calls = spread.with_columns(
        pl.col("started_at").dt.offset_by("11w3d"), ("later-" + pl.col("call_id")).alias("call_id")
    )
    later = dataclasses.replace(first, calls=later_calls)
    db_path = tmp_path / "cr.duckdb"
    run(db_path, first, settings, run_id="run-w36")
    w36 = tables(db_path)["weekly_reason_stats"].filter(pl.col("week") == "2026-W36")
    run(db_path, later, settings, refit=True, run_id="run-refit")
    after = tables(db_path)["weekly_reason_stats"].filter(pl.col("week") == "2026-W36")
    assert after["calls"].sum() == w36["calls"].sum() == spread.height
    assert after.equals(w36)


def test_rewritable_weeks_are_new_or_held_whole_by_the_window():
    from contact_reasons.weekly import rewritable_weeks

    stored = pl.DataFrame(
        {"week": ["W1", "W1", "W2", "W3"], "reason_id": [1, 2, 1, 1], "calls": [3, 2, 4, 2]}
    )
    # W1: cut (4 of its 5 calls) or purged; W2: whole; W3: whole and a late call; W4: new
    weeks = ["W1"] * 4 + ["W2"] * 4 + ["W3"] * 3 + ["W4"]
    window = pl.DataFrame({"call_id": [str(i) for i in range(len(weeks))], "week": weeks})
    assert rewritable_weeks(stored, window) == {"W2", "W3", "W4"}


def test_rerun_of_the_same_week_changes_nothing(tmp_path, settings, two_weeks):
    db_path, *_ = two_weeks
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db_path.read_bytes())
    before = tables(copy, (*CURATED, "faq_recommendations"))
    summary = run(copy, week_calls(1), settings, run_id="run-again")
    assert summary["rows_new"] == 0
    assert summary["new_reasons"] == []
    after = tables(copy, (*CURATED, "faq_recommendations"))
    for name, frame in before.items():
        assert frame.equals(after[name]), name


def test_a_run_without_faq_sources_reads_the_pages_stored_before(tmp_path, settings, two_weeks):
    # `contact-reasons run --input new_week.csv` (no --faq) after runs that read the FAQ: the
    # pages are in `faq_units`, but the run compared the calls with no page at all, and every
    # reason became a NEW PAGE ("FAQ answers 0% of these calls"), covered ones included.
    db_path, *_ = two_weeks
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db_path.read_bytes())
    before = tables(copy, ("faq_units", "faq_documents", "faq_recommendations"))
    assert before["faq_units"].height > 0
    run(copy, week_calls(1), settings, run_id="run-no-faq", faq=())
    after = tables(copy, ("faq_units", "faq_documents", "faq_recommendations"))
    for name, frame in before.items():
        assert frame.equals(after[name]), name


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "curate.duckdb"
    dst.write_bytes(src.read_bytes())
    return dst


def test_reasons_lists_the_catalogue_as_json(two_weeks, tmp_path):
    db = str(_copy(two_weeks[0], tmp_path))
    code, out, _ = cli_main("reasons", "--db", db, "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert rows
    assert {"reason_id", "name", "generated_name", "status", "calls"} <= set(rows[0])
    assert {r["status"] for r in rows} <= {"active", "inactive"}
    assert sum(r["calls"] for r in rows) == 240 - sum(
        1
        for r in tables(Path(db), ("call_reasons",))["call_reasons"].iter_rows(named=True)
        if r["reason_id"] == -1
    )
    code, out, _ = cli_main("reasons", "--db", db, "--format", "csv")
    assert out.startswith("reason_id,name,generated_name")
    code, out, _ = cli_main("reasons", "--db", db)
    assert "named by a person" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rename", "9999", "X"], "no reason with id 9999"),
        (["merge", "{a}", "{a}"], "into itself"),
        (["merge", "{a}", "9999"], "no reason with id 9999"),
        (["ignore", "9999"], "no reason with id 9999"),
        (["merge", "{a}"], "at least one to merge"),
        (["restore", "{a}"], "already active"),
        (["undo"], "no decision to undo"),
    ],
)
def test_curation_errors_exit_2_and_change_nothing(two_weeks, tmp_path, args, message):
    db_path = _copy(two_weeks[0], tmp_path)
    largest = tables(db_path)["reasons"].sort("calls", descending=True)["reason_id"][0]
    before = tables(db_path)
    args = [a.format(a=largest) for a in args]
    code, _, err = cli_main("reasons", *args, "--db", str(db_path))
    assert code == 2
    assert message in err
    after = tables(db_path)
    for name, frame in before.items():
        assert frame.equals(after[name]), name


@pytest.mark.parametrize(
    "args", [["rename", "1", "X"], ["merge", "1", "2"], ["ignore", "1"], ["undo"], ["split", "1"]]
)
def test_curation_on_a_missing_database_creates_nothing(tmp_path, args):
    db_path = tmp_path / "no" / "such" / "cr.duckdb"
    code, _, err = cli_main("reasons", *args, "--db", str(db_path))
    assert code == 2
    assert f"{db_path}: no database here" in err
    assert not (tmp_path / "no").exists()


def test_merge_twice_is_refused(two_weeks, tmp_path):
    db_path = _copy(two_weeks[0], tmp_path)
    a, b, c = tables(db_path)["reasons"].sort("calls", descending=True)["reason_id"][:3]
    assert cli_main("reasons", "merge", str(a), str(b), "--db", str(db_path))[0] == 0
    before = tables(db_path)
    code, _, err = cli_main("reasons", "merge", str(c), str(b), "--db", str(db_path))
    assert code == 2
    assert f"reason {b} is already merged into {a}" in err
    assert all(before[t].equals(tables(db_path)[t]) for t in CURATED)


def test_restoring_a_merged_reason_says_where_its_calls_stay(two_weeks, tmp_path):
    # "restore: done" alone read as if the reason had its calls back; they stay with the
    # reason it was merged into.
    db_path = _copy(two_weeks[0], tmp_path)
    a, b = tables(db_path)["reasons"].sort("calls", descending=True)["reason_id"][:2]
    assert cli_main("reasons", "merge", str(a), str(b), "--db", str(db_path))[0] == 0
    code, out, _ = cli_main("reasons", "restore", str(b), "--db", str(db_path))
    assert code == 0
    assert f"its calls so far stay with reason {a}" in out
    row = tables(db_path)["reasons"].filter(pl.col("reason_id") == b).row(0, named=True)
    assert row["status"] == "active"
    code, out, _ = cli_main("reasons", "ignore", str(b), "--db", str(db_path))
    assert "stay with" not in out


def test_renaming_a_merged_reason_is_refused_and_names_its_target(two_weeks, tmp_path):
    # Its calls are shown under the reason it joined: a name there would be seen nowhere.
    db_path = _copy(two_weeks[0], tmp_path)
    a, b = tables(db_path)["reasons"].sort("calls", descending=True)["reason_id"][:2]
    assert cli_main("reasons", "merge", str(a), str(b), "--db", str(db_path))[0] == 0
    before = tables(db_path)
    code, _, err = cli_main("reasons", "rename", str(b), "Ny navn", "--db", str(db_path))
    assert code == 2
    assert f"reason {b} is merged into {a}" in err
    assert f"rename {a}, or restore {b} first" in err
    assert all(before[t].equals(tables(db_path)[t]) for t in CURATED)
    assert cli_main("reasons", "rename", str(a), "Ny navn", "--db", str(db_path))[0] == 0


def test_faq_gaps_leave_out_reasons_curated_out_of_them_before_the_next_run(two_weeks, tmp_path):
    # `reasons ignore` / `not-faq` / `merge` say "out of the FAQ gaps", and the weekly report
    # drops an ignored reason at once; `contact-reasons faq` and the HTML report kept listing
    # them (as NEW PAGE) until the next weekly run rewrote faq_recommendations.
    from contact_reasons import report

    db_path = _copy(two_weeks[0], tmp_path)
    db = str(db_path)
    gaps = json.loads(cli_main("faq", "--db", db, "--format", "json", "--top", "500")[1])
    gaps = [g for g in gaps if g["recommendation"] != "covered"]
    ignored, not_faq, keep, merged = (g["reason_id"] for g in gaps[:4])
    assert cli_main("reasons", "ignore", str(ignored), "--db", db)[0] == 0
    assert cli_main("reasons", "not-faq", str(not_faq), "--db", db)[0] == 0
    assert cli_main("reasons", "merge", str(keep), str(merged), "--db", db)[0] == 0
    out = set()
    for fmt in ("json", "csv"):
        text = cli_main("faq", "--db", db, "--format", fmt, "--top", "500")[1]
        rows = json.loads(text) if fmt == "json" else pl.read_csv(io.StringIO(text)).to_dicts()
        out |= {r["reason_id"] for r in rows}
    assert keep in out
    assert not {ignored, not_faq, merged} & out
    with Database(db_path, read_only=True) as opened:  # what the HTML and xlsx reports show
        shown = report.faq_gap_table(opened)["label"].to_list()
        labels = dict(zip(*opened.query("SELECT reason_id, label FROM reasons"), strict=True))
    picked = [labels[i] for i in (keep, ignored, not_faq, merged)]
    assert len(set(picked)) == 4
    assert labels[keep] in shown
    assert not set(picked[1:]) & set(shown)


def test_rename_merge_history_undo(two_weeks, tmp_path):
    db_path = _copy(two_weeks[0], tmp_path)
    db = str(db_path)
    reasons = tables(db_path)["reasons"].sort("calls", descending=True)
    a, b = (int(x) for x in reasons["reason_id"][:2])
    calls_b = set(
        tables(db_path)["call_reasons"].filter(pl.col("reason_id") == b)["call_id"].to_list()
    )
    assert (
        cli_main("reasons", "rename", str(a), "Faktura for høj", "--db", db, "--by", "ops")[0] == 0
    )
    assert cli_main("reasons", "merge", str(a), str(b), "--db", db, "--by", "ops")[0] == 0
    listing = {
        r["reason_id"]: r
        for r in json.loads(cli_main("reasons", "--db", db, "--format", "json")[1])
    }
    assert listing[a]["name"] == "Faktura for høj"
    assert listing[b]["status"] == "merged"
    assert listing[b]["merged_into"] == a
    moved = tables(db_path)["call_reasons"].filter(pl.col("call_id").is_in(list(calls_b)))
    assert set(moved["reason_id"].to_list()) == {a}
    code, out, _ = cli_main("reasons", "history", "--db", db, "--format", "json")
    events = json.loads(out)
    assert [e["action"] for e in events[-2:]] == ["rename", "merge"]
    assert events[-1]["who"] == "ops"
    assert json.loads(events[-1]["before"])["reasons"][str(b)]["status"] == "active"
    # undo reverts the merge (the last decision), then the rename
    assert cli_main("reasons", "undo", "--db", db)[0] == 0
    after = tables(db_path)
    back = after["call_reasons"].filter(pl.col("call_id").is_in(list(calls_b)))
    assert set(back["reason_id"].to_list()) == {b}
    row_b = after["reasons"].filter(pl.col("reason_id") == b).row(0, named=True)
    assert row_b["status"] == "active"
    assert row_b["merged_into"] is None
    assert cli_main("reasons", "undo", "--db", db)[0] == 0
    row_a = tables(db_path)["reasons"].filter(pl.col("reason_id") == a).row(0, named=True)
    assert row_a["name"] is None
    assert row_a["label"] == row_a["generated_name"]
    actions = tables(db_path)["reason_events"]["action"].to_list()
    assert actions[-2:] == ["undo", "undo"]
    assert cli_main("reasons", "undo", "--db", db)[2].count("no decision to undo") == 1


def test_a_human_name_is_redacted_before_it_is_stored(two_weeks, tmp_path):
    # A name typed by a person is shown in every report and kept in the event log.
    db_path = _copy(two_weeks[0], tmp_path)
    db = str(db_path)
    a = int(tables(db_path)["reasons"].sort("calls", descending=True)["reason_id"][0])
    code, out, _ = cli_main(
        "reasons", "rename", str(a), "Ring til Bjarne Solberg på 21345678", "--db", db
    )
    assert code == 0
    assert "stored as 'Ring til [NAME] på [PHONE]' (personal data redacted)" in out
    after = tables(db_path)
    dump = json.dumps([after[t].to_dicts() for t in CURATED], ensure_ascii=False, default=str)
    assert "Solberg" not in dump
    assert "21345678" not in dump
    listing = json.loads(cli_main("reasons", "--db", db, "--format", "json")[1])
    assert {r["reason_id"]: r["name"] for r in listing}[a] == "Ring til [NAME] på [PHONE]"
    # a name without personal data is kept as typed, and the line says no more
    code, out, _ = cli_main("reasons", "rename", str(a), "Skift til Telia", "--db", db)
    assert code == 0
    assert "stored as" not in out
    listing = json.loads(cli_main("reasons", "--db", db, "--format", "json")[1])
    assert {r["reason_id"]: r["name"] for r in listing}[a] == "Skift til Telia"


def test_who_decided_is_redacted_before_it_is_stored(two_weeks, tmp_path, monkeypatch):
    # `--by` is typed by a person and kept in the event log: a name, e-mail or phone number in
    # it is personal data; a staff id or team name is kept as typed.
    assert curation.who("ops") == "ops"
    assert curation.who("  mh42 ") == "mh42"
    assert curation.who("Bjarne Solberg") == "[NAME]"
    assert curation.who("kari.nordmann@example.no") == "[EMAIL]"
    monkeypatch.setattr(curation.getpass, "getuser", lambda: "bjarne@example.no")
    assert curation.who(None) == "[EMAIL]"  # the OS user too
    db_path = _copy(two_weeks[0], tmp_path)
    db = str(db_path)
    a = int(tables(db_path)["reasons"].sort("calls", descending=True)["reason_id"][0])
    code, out, _ = cli_main(
        "reasons", "ignore", str(a), "--db", db, "--by", "Bjarne Solberg 21345678"
    )
    assert code == 0
    assert "--by stored as '[NAME] [PHONE]' (personal data redacted)" in out
    after = tables(db_path)
    dump = json.dumps([after[t].to_dicts() for t in CURATED], ensure_ascii=False, default=str)
    assert "Solberg" not in dump
    assert "21345678" not in dump
    assert after["reason_events"]["who"].to_list()[-1] == "[NAME] [PHONE]"
    code, out, _ = cli_main("reasons", "restore", str(a), "--db", db, "--by", "ops")
    assert code == 0
    assert "stored as" not in out
    assert tables(db_path)["reason_events"]["who"].to_list()[-1] == "ops"


def test_decisions_survive_an_update_and_a_refit(two_weeks, tmp_path, settings):
    db_path = _copy(two_weeks[0], tmp_path)
    db = str(db_path)
    reasons = tables(db_path)["reasons"].sort("calls", descending=True)
    a, b, c, d = (int(x) for x in reasons["reason_id"][:4])
    cli_main("reasons", "rename", str(a), "Menneskenavn", "--db", db)
    cli_main("reasons", "merge", str(a), str(b), "--db", db)
    cli_main("reasons", "ignore", str(c), "--db", db)
    cli_main("reasons", "not-faq", str(d), "--db", db)
    for refit, week in ((False, 2), (True, 2)):
        run(db_path, week_calls(week), settings, refit=refit, run_id=f"run-{week}-{refit}")
        cat = {r["reason_id"]: r for r in tables(db_path)["reasons"].iter_rows(named=True)}
        assert cat[a]["name"] == "Menneskenavn"
        assert cat[a]["label"] == "Menneskenavn"
        assert cat[b]["status"] == "merged"
        assert cat[b]["merged_into"] == a
        assert cat[c]["status"] == "ignored"
        assert cat[d]["status"] == "not_faq"
        assignments = tables(db_path)["call_reasons"]
        assert b not in assignments["reason_id"].to_list()
        with Database(db_path, read_only=True) as conn:
            gaps = conn.table("faq_recommendations")["reason_id"].to_list()
        assert c not in gaps
        assert d not in gaps
    code, out, _ = cli_main("report", "--db", db, "--week", "2026-W36", "--format", "json")
    shown = json.loads(out)["reasons"]
    assert c not in [r["reason_id"] for r in shown]
    assert d in [r["reason_id"] for r in shown], "not answerable by an FAQ page: still an ops row"
    assert any(r["label"] == "Menneskenavn" for r in shown)


def test_split_makes_new_reasons_and_undo_folds_them_back(two_weeks, tmp_path):
    db_path = _copy(two_weeks[0], tmp_path)
    db = str(db_path)
    largest = tables(db_path)["reasons"].sort("calls", descending=True).row(0, named=True)
    rid = int(largest["reason_id"])
    calls = set(
        tables(db_path)["call_reasons"].filter(pl.col("reason_id") == rid)["call_id"].to_list()
    )
    code, out, err = cli_main("reasons", "split", str(rid), "--db", db)
    assert code == 0, err
    cat = tables(db_path)["reasons"]
    parent = cat.filter(pl.col("reason_id") == rid).row(0, named=True)
    children = parent["split_into"]
    assert parent["status"] == "inactive"
    assert len(children) >= 2
    assert min(children) > cat.filter(~pl.col("reason_id").is_in(children))["reason_id"].max()
    moved = tables(db_path)["call_reasons"].filter(pl.col("call_id").is_in(list(calls)))
    assert set(moved["reason_id"].to_list()) <= set(children)
    assert cli_main("reasons", "undo", "--db", db)[0] == 0
    cat = tables(db_path)["reasons"]
    assert cat.filter(pl.col("reason_id") == rid)["status"].to_list() == ["active"]
    assert set(cat.filter(pl.col("reason_id").is_in(children))["status"]) == {"merged"}
    back = tables(db_path)["call_reasons"].filter(pl.col("call_id").is_in(list(calls)))
    assert set(back["reason_id"].to_list()) == {rid}


def test_reasons_made_by_a_split_have_the_weeks_of_their_calls(two_weeks, tmp_path):
    # `reasons` listed them with weeks "-..-" (first_week and last_week empty) until a run.
    db_path = _copy(two_weeks[0], tmp_path)
    rid = int(tables(db_path)["reasons"].sort("calls", descending=True)["reason_id"][0])
    assert cli_main("reasons", "split", str(rid), "--db", str(db_path))[0] == 0
    with Database(db_path, read_only=True) as db:
        weeks = db.query(
            "SELECT r.reason_id, min(c.week) AS first, max(c.week) AS last FROM call_reasons r "
            "JOIN calls c USING (call_id) GROUP BY r.reason_id"
        )
    expected = {r["reason_id"]: (r["first"], r["last"]) for r in weeks.iter_rows(named=True)}
    cat = tables(db_path)["reasons"]
    children = cat.filter(pl.col("reason_id") == rid)["split_into"][0].to_list()
    for row in cat.filter(pl.col("reason_id").is_in(children)).iter_rows(named=True):
        assert (row["first_week"], row["last_week"]) == expected[row["reason_id"]]
    listing = cli_main("reasons", "--db", str(db_path))[1]
    assert "-..-" not in listing


def test_backfill_runs_week_by_week_and_accounts_for_every_row(tmp_path, settings):
    parts = [week_calls(i, 60) for i in range(3)]
    ingested = dataclasses.replace(
        parts[0],
        calls=pl.concat([p.calls for p in parts[::-1]]),
        rows_read=180,
    )
    with Database(tmp_path / "cr.duckdb") as db:
        summaries = pipeline.backfill(
            db,
            ingested,
            [FAQ],
            settings,
            embedder=HashingEmbedder(),
            new_run_id=lambda week: f"backfill-{week}",
        )
        runs = db.table("runs").sort("run_id")
        stats_weeks = sorted(db.stats_weeks())
    assert [s["mode"] for s in summaries] == ["refit", "update", "update"]
    assert [s["weeks"][-1] for s in summaries] == ["2026-W36", "2026-W37", "2026-W38"]
    assert runs["run_id"].to_list() == [f"backfill-2026-W3{i}" for i in (6, 7, 8)]
    assert runs["rows_read"].sum() == 180
    assert runs["rows_new"].sum() == 180
    assert stats_weeks == ["2026-W36", "2026-W37", "2026-W38"]


def test_monthly_refit_and_backfill_deployments():
    import yaml

    config = yaml.safe_load((SAMPLE.parents[1] / "prefect.yaml").read_text())
    deployments = {d["name"]: d for d in config["deployments"]}
    monthly = deployments["monthly-refit"]
    assert monthly["entrypoint"] == deployments["weekly"]["entrypoint"]
    assert monthly["schedules"] == [{"cron": "0 5 1 * *", "timezone": "Europe/Copenhagen"}]
    assert monthly["parameters"]["refit"] is True
    assert deployments["backfill"]["entrypoint"] == "flows/backfill.py:backfill_contact_reasons"
    assert "schedules" not in deployments["backfill"]


def test_reasons_help_says_merge_goes_into_the_first(capsys):
    with pytest.raises(SystemExit):
        cli.main(["reasons", "merge", "--help"])
    assert "INTO THE FIRST" in capsys.readouterr().out


def test_ignoring_a_reason_changes_no_other_reasons_faq_gap(two_weeks, tmp_path, settings):
    # Answerability is calibrated over the window's calls: the calls of an ignored reason
    # still count there, so ignoring one reason leaves every other reason's FAQ row as it was.
    db_path = _copy(two_weeks[0], tmp_path)
    db = str(db_path)

    def gaps() -> pl.DataFrame:
        with Database(db_path, read_only=True) as conn:
            table = conn.table("faq_recommendations")
        return table.select("reason_id", "calls", "recommendation", "coverage", "touched").sort(
            "reason_id"
        )

    run(db_path, week_calls(1), settings, run_id="run-again")  # the same week: no new call
    before = gaps()
    ignored = int(before.sort("calls")["reason_id"][-1])  # the largest: the most calls move
    cli_main("reasons", "ignore", str(ignored), "--db", db)
    run(db_path, week_calls(1), settings, run_id="run-after-ignore")
    after = gaps()
    assert ignored not in after["reason_id"].to_list()
    assert after.equals(before.filter(pl.col("reason_id") != ignored))


def test_the_catalogue_table_marks_a_name_it_cuts():
    # `reasons` printed "Mangler tilbud fra håndverker før godkjennin" for a 51-character name,
    # cut at 44 characters without a mark: it read as the reason's whole name.
    name = "Mangler tilbud fra håndverker før godkjenning av jobb"
    frame = pl.DataFrame(
        {
            "reason_id": [24, 7, 9],
            "name": [name, "Faktura ikke i e-boks", name],
            "renamed": [False, True, True],
            "status": ["active", "active", "active"],
            "merged_into": [None, None, None],
            "calls": [76, 117, 5],
            "first_week": ["2026-W36", "2026-W36", "2026-W36"],
            "last_week": ["2026-W47", "2026-W47", "2026-W47"],
            "keywords": [["tilbud"], ["faktura"], ["tilbud"]],
        }
    )
    lines = curation.render_reasons(frame, "table").splitlines()
    assert "Mangler tilbud fra håndverker før godkjenni… active" in lines[2]
    assert "Faktura ikke i e-boks *" in lines[3]
    assert "Mangler tilbud fra håndverker før godkjen… * active" in lines[4]
