"""Less to lose: private files, re-redaction of stored text, retention (issue 13)."""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from contact_reasons import privacy
from contact_reasons.cluster_settings import ClusterSettings
from contact_reasons.config import Settings
from contact_reasons.embed import text_hash
from contact_reasons.errors import ConfigError, InputError
from contact_reasons.reason_model import save_reason_model
from contact_reasons.storage import TABLES, Database
from tests.conftest import run_cli

LEAKY = "Ja, jeg hedder Jens Hansen, født 13. december 1942, og bor på Nørregade 12, 2. tv."
CLEAN = "Kunden vil opsige sit abonnement"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _call(db: Database, call_id: str, started: str, text: str, run_id: str = "r1") -> None:
    db._con.execute(
        "INSERT INTO calls (call_id, started_at, week, summary, transcript, reason_text, "
        "text_source, customer_text, source_file, source_row, text_hash, first_run_id) "
        "VALUES (?, ?, '2026-W36', ?, ?, ?, 'summary', ?, 'f.csv', 1, ?, ?)",
        [call_id, started, text, text, text, text, text_hash(text), run_id],
    )
    db._con.execute(
        "INSERT INTO embeddings VALUES ('m', ?, [1.0, 0.0]) ON CONFLICT DO NOTHING",
        [text_hash(text)],
    )
    db._con.execute("INSERT INTO call_reasons VALUES (?, 0, 0.9, 'rm')", [call_id])


def _stored(path: Path) -> None:
    with Database(path) as db, db.transaction():
        db._con.execute(
            "INSERT INTO runs (run_id, started_at, status, inputs) VALUES "
            "('r1', '2026-01-05', 'completed', '[]'), ('r2', '2026-06-01', 'completed', '[]')"
        )
        _call(db, "old-leaky", "2026-01-05 10:00", LEAKY)
        _call(db, "new-leaky", "2026-06-02 10:00", LEAKY + " Tak.", run_id="r2")
        _call(db, "new-clean", "2026-06-03 10:00", CLEAN, run_id="r2")
        db._con.execute(
            "INSERT INTO quarantine VALUES ('f.csv', 7, 'invalid', 'started_at', 'x', "
            "'not a time', ?, 'r1'), ('f.csv', 9, 'invalid', 'started_at', 'y', 'not a time', "
            "'{}', 'r2')",
            [json.dumps({"summary": LEAKY}, ensure_ascii=False)],
        )
        db._con.execute(
            "INSERT INTO faq_documents VALUES ('kontakt.md', 'kontakt.md', 'Kontakt', "
            "'Ring til os på 70 20 30 40, Havnegade 40, 6950 Ringkøbing.', 'da', 'x')"
        )
        db._con.execute(
            "INSERT INTO reasons (reason_id, reason_model_id, label, keywords, language, calls, "
            "example_call_ids) VALUES (0, 'rm', 'opsige Jens Hansen', ['jens hansen', 'Hansen',"
            " 'opsige'], 'da', 3, ['new-leaky'])"
        )
        db._con.execute(
            "INSERT INTO weekly_reason_stats (week, reason_id, label, calls, share, "
            "baseline_calls, change, change_pct, p_value, is_emerging, example_call_ids) "
            "VALUES ('2026-W02', 0, 'opsige', 1, 1.0, NULL, NULL, NULL, NULL, false, "
            "['old-leaky'])"
        )
        db._con.execute(
            "INSERT INTO faq_recommendations (rank, reason_id, label, recommendation, calls, "
            "calls_per_week, estimated_calls_saved, best_doc_id, best_doc_title, similarity, "
            "margin, suggested_title, customer_phrasings) VALUES (1, 0, 'opsige', 'new_page', "
            "3, 1.0, 0.3, NULL, NULL, NULL, NULL, 'Opsigelse for Jens Hansen', [?, 'opsige'])",
            [LEAKY],
        )


# --- private files -----------------------------------------------------------------------------


def test_database_file_and_wal_are_readable_by_the_owner_only(tmp_path: Path):
    path = tmp_path / "cr.duckdb"
    with Database(path) as db:
        assert _mode(path) == 0o600
        with db.transaction():
            db._con.execute(
                "INSERT INTO runs (run_id, started_at, status, inputs) "
                "VALUES ('r0', '2026-01-01', 'completed', '[]')"
            )
        wal = path.with_name(path.name + ".wal")
        assert wal.exists()  # DuckDB keeps the write in its log until a checkpoint
        assert _mode(wal) == 0o600
    assert _mode(path) == 0o600


def test_reason_model_folder_is_readable_by_the_owner_only(tmp_path: Path):
    root = tmp_path / "models" / "reasons"
    catalogue = pl.DataFrame({"reason_id": [0], "label": ["opsige"], "keywords": [["opsige"]]})
    window = pl.DataFrame(
        {"call_id": ["a"], "text_hash": ["h"], "started_at": [datetime(2026, 1, 5)]}
    )
    save_reason_model(
        None,
        root / "rm-1",
        docs=["opsige"],
        vectors=np.ones((1, 4), dtype=np.float32),
        labels=np.zeros(1, dtype=np.int64),
        catalogue=catalogue,
        embedding_model_id="m",
        settings=ClusterSettings(),
        window=window,
    )
    assert _mode(root) == 0o700
    assert _mode(root / "rm-1") == 0o700


# --- re-redaction ------------------------------------------------------------------------------


def test_redact_frame_returns_only_changed_rows_with_new_hashes():
    frame = pl.DataFrame(
        {
            "__rowid": [0, 1],
            "reason_text": [LEAKY, CLEAN],
            "keywords": [["jens hansen", "Hansen"], ["opsige"]],
        }
    )
    out = privacy.redact_frame(frame, ["reason_text", "keywords"])
    assert out["__rowid"].to_list() == [0]
    text = out["reason_text"][0]
    for secret in ("Jens Hansen", "1942", "Nørregade"):
        assert secret not in text
    assert out["text_hash"][0] == text_hash(text)
    assert "Hansen" not in str(out["keywords"][0].to_list())


def test_redact_database_rewrites_stored_text_and_drops_stale_vectors(tmp_path: Path):
    path = tmp_path / "cr.duckdb"
    _stored(path)
    with Database(path) as db:
        counts = privacy.redact_database(db)
        calls = db.table("calls")
        dump = json.dumps(
            {t: db.table(t).to_dicts() for t in ("calls", "quarantine", "reasons")},
            ensure_ascii=False,
            default=str,
        ) + json.dumps(db.table("faq_recommendations").to_dicts(), ensure_ascii=False)
        embeddings = set(db.table("embeddings")["text_hash"].to_list())
        runs = db.table("runs")
    assert counts["calls"] == 2
    assert counts["quarantine"] == 1
    assert counts["reasons"] == 1
    assert counts["faq_recommendations"] == 1
    assert counts["embeddings"] == 2  # the two leaky texts' vectors
    assert "faq_documents" not in counts  # the company's own published pages stay as written
    assert "faq_units" not in counts  # read again from their source, redacted by `faq.redact`
    for secret in ("Jens Hansen", "13. december 1942", "Nørregade 12"):
        assert secret not in dump
    for placeholder in ("[NAME]", "[DATE_OF_BIRTH]", "[ADDRESS]"):
        assert placeholder in dump
    for row in calls.iter_rows(named=True):
        assert row["text_hash"] == text_hash(row["reason_text"])
    assert embeddings == {text_hash(CLEAN)}
    (redact_run,) = runs.filter(pl.col("status") == "redact").iter_rows(named=True)
    assert json.loads(redact_run["inputs"])["changed"]["calls"] == 2
    with Database(path) as db:  # a second pass changes nothing
        again = privacy.redact_database(db)
    assert {k: v for k, v in again.items() if v} == {}


def test_redact_database_rewrites_the_code_columns_of_stored_calls(tmp_path: Path):
    path = tmp_path / "cr.duckdb"
    _stored(path)
    with Database(path) as db, db.transaction():
        db._con.execute(
            "UPDATE calls SET queue = 'callback 21 34 56 78', channel = 'kari.nordmann@example.no',"
            " customer_type = 'Jens Hansen', language = 'da' WHERE call_id = 'new-clean'"
        )
    with Database(path) as db:
        privacy.redact_database(db)
        row = db.query("SELECT * FROM calls WHERE call_id = 'new-clean'").row(0, named=True)
    assert row["queue"] == "callback [PHONE]"
    assert row["channel"] == "[EMAIL]"
    assert row["customer_type"] == "[NAME]"
    assert row["language"] == "da"


def test_redact_database_leaves_call_ids_in_the_catalogue_and_event_log_alone(tmp_path: Path):
    # Call ids are keys: a UUID starting with 8 digits became "[PHONE]-0227-...", and `undo`
    # of a split after `redact` left that call in the split's reason.
    path = tmp_path / "cr.duckdb"
    _stored(path)
    ids = ["25346993-0227-4ad6-9a3d-9dff535b8c83", "12038512-3456-4ad6-9a3d-9dff535b8c83"]
    before = json.dumps(
        {"reasons": {"0": {"label": "opsige Jens Hansen"}}, "calls": {"0": ids}},
        ensure_ascii=False,
    )
    with Database(path) as db, db.transaction():
        db._con.execute(
            "UPDATE reasons SET examples_by_language = ? WHERE reason_id = 0",
            [json.dumps({"da": ids})],
        )
        db._con.execute(
            "INSERT INTO reason_events VALUES "
            "(1, '2026-06-01', 'ops', 'split', [0, 1], NULL, ?, ?)",
            [before, json.dumps({"reasons": {}, "calls": {"1": ids}})],
        )
    with Database(path) as db:
        privacy.redact_database(db)
        examples = db.query("SELECT examples_by_language FROM reasons WHERE reason_id = 0")
        event = db.query("SELECT before, after FROM reason_events").row(0, named=True)
    assert json.loads(examples["examples_by_language"][0]) == {"da": ids}
    assert json.loads(event["after"])["calls"] == {"1": ids}
    kept = json.loads(event["before"])
    assert kept["calls"] == {"0": ids}
    assert kept["reasons"]["0"]["label"] == "opsige [NAME]"  # the text in it is redacted
    with Database(path) as db:  # a second pass changes nothing
        again = privacy.redact_database(db)
    assert {k: v for k, v in again.items() if v} == {}


def test_cli_redact_prints_what_it_changed(tmp_path: Path):
    path = tmp_path / "cr.duckdb"
    _stored(path)
    out = run_cli("redact", "--db", str(path))
    assert re.search(r"calls\s+2\b", out.stdout), out.stdout
    assert "embeddings" in out.stdout


# --- retention ---------------------------------------------------------------------------------


def test_purge_deletes_old_calls_and_what_hangs_on_them_but_keeps_aggregates(tmp_path: Path):
    path = tmp_path / "cr.duckdb"
    _stored(path)
    with Database(path) as db:
        counts = privacy.purge_database(db, datetime(2026, 3, 1, tzinfo=UTC))
        assert db.table("calls")["call_id"].sort().to_list() == ["new-clean", "new-leaky"]
        assert db.table("call_reasons")["call_id"].sort().to_list() == ["new-clean", "new-leaky"]
        assert db.table("quarantine")["source_row"].to_list() == [9]
        assert db.table("weekly_reason_stats").height == 1  # aggregates stay
        assert db.table("embeddings").height == 2
        runs = db.table("runs").filter(pl.col("status") == "purge")
    assert counts == {
        "call_reasons": 1,
        "call_reason_history": 0,
        "calls": 1,
        "quarantine": 1,
        "embeddings": 1,
        "rewritten weekly_reason_stats": 1,  # the purged call left its examples
    }
    details = json.loads(runs["inputs"][0])
    assert details["deleted"] == {k: v for k, v in counts.items() if " " not in k}
    assert details["rewritten"] == {"weekly_reason_stats": 1}
    assert details["before"].startswith("2026-03-01")


def _faq_unit_with_vectors(db: Database) -> list[str]:
    """Store one FAQ unit and its cached vectors under both prompts; return their keys."""
    from contact_reasons import faq
    from contact_reasons.embed import cache_key

    db._con.execute(
        "INSERT INTO faq_units VALUES ('u1', 'opsig.md', 'Opsig', 'Hvordan opsiger jeg?', "
        "'Skriv til os.', 0, 'da', NULL, NULL, 'h', 'p', '2026-01-01', '2026-01-01')"
    )
    (passage,) = faq.faq_passages(db.faq_units())
    keys = [cache_key(passage, "query"), cache_key(passage, "passage")]
    stale = text_hash("a text no call and no page has")
    db.add_embeddings(
        pl.DataFrame(
            {
                "text_hash": [*keys, stale],
                "model_id": ["m"] * 3,
                "vector": [[0.1, 0.2]] * 3,
            }
        ).with_columns(pl.col("vector").cast(pl.List(pl.Float32)))
    )
    return keys


def test_redact_and_purge_keep_the_faq_units_vectors(tmp_path: Path):
    # The FAQ pages are the company's published text, no call's: dropping their vectors only
    # made the next weekly run embed every page again (with retention set: every run).
    path = tmp_path / "cr.duckdb"
    _stored(path)
    with Database(path) as db:
        keys = _faq_unit_with_vectors(db)
        before = db.table("embeddings").height
        counts = privacy.redact_database(db)
        kept = set(db.table("embeddings")["text_hash"].to_list())
        assert set(keys) <= kept
        assert text_hash("a text no call and no page has") not in kept
        assert counts["embeddings"] == before - len(kept)
        privacy.purge_database(db, datetime(2026, 3, 1, tzinfo=UTC))
        assert set(keys) <= set(db.table("embeddings")["text_hash"].to_list())


# What only a purged call said: its own words, a question made direct from them, a name.
GONE_TEXT = "Kunden flytter til Aarhus og vil tage abonnementet med til den nye adresse"
GONE_WORDS = "Jeg flytter til Aarhus. Hvordan jeg tager abonnementet med?"
GONE_QUESTION = "Hvordan tager jeg abonnementet med?"  # faq._as_question of the second sentence
GONE_NAME = "flytter til Aarhus"
KEPT_WORDS = "Jeg vil opsige mit abonnement. Hvad koster det at opsige?"


def _purgeable(path: Path) -> None:
    """A stored run whose derived tables hold the words and ids of a call about to be purged."""
    with Database(path) as db, db.transaction():
        db._con.execute(
            "INSERT INTO runs (run_id, started_at, status, inputs) VALUES "
            "('r1', '2026-01-05', 'completed', '[]'), ('r2', '2026-06-01', 'completed', '[]')"
        )
        _call(db, "old-1", "2026-01-05 10:00", GONE_TEXT)
        _call(db, "new-1", "2026-06-02 10:00", CLEAN, run_id="r2")
        db._con.execute("UPDATE calls SET customer_text = ? WHERE call_id = 'old-1'", [GONE_WORDS])
        db._con.execute("UPDATE calls SET customer_text = ? WHERE call_id = 'new-1'", [KEPT_WORDS])
        db._con.execute(
            "INSERT INTO call_reason_history VALUES ('old-1', 1, 0.5, 'rm', '2026-01-06', 'r1'),"
            " ('new-1', 1, 0.5, 'rm', '2026-06-03', 'r2')"
        )
        db._con.execute(
            "INSERT INTO reasons (reason_id, reason_model_id, label, keywords, language, calls, "
            "example_call_ids, generated_name, status, examples_by_language) VALUES "
            "(0, 'rm', ?, ['flytning', 'ny adresse'], 'da', 1, ['old-1', 'new-1'], ?, "
            "'active', ?), "
            "(1, 'rm', 'Opsigelse', ['opsige'], 'da', 1, ['new-1'], 'opsige sit abonnement', "
            "'active', NULL)",
            [GONE_NAME, GONE_NAME, json.dumps({"da": ["old-1", "new-1"]})],
        )
        db._con.execute("UPDATE reasons SET name = 'Opsigelse' WHERE reason_id = 1")
        db._con.execute(
            "INSERT INTO reason_names VALUES (0, 'da', ?, 1, 1.0, false), "
            "(0, 'all', 'ny adresse', 2, 0.5, false), (1, 'da', 'opsige sit abonnement', 1, 1.0,"
            " false)",
            [GONE_NAME],
        )
        db._con.execute(
            "INSERT INTO weekly_reason_stats (week, reason_id, label, calls, share, "
            "baseline_calls, change, change_pct, p_value, is_emerging, example_call_ids) "
            "VALUES ('2026-W02', 0, ?, 1, 1.0, NULL, NULL, NULL, NULL, false, ['old-1']), "
            "('2026-W23', 1, 'opsige sit abonnement', 1, 1.0, NULL, NULL, NULL, NULL, false, "
            "['new-1'])",
            [GONE_NAME],
        )
        db._con.execute(
            "INSERT INTO alerts VALUES ('2026-W02', 0, ?, 'new', 12, 0, 0, '2026-W02', 0.001, "
            "0.01, '12 calls against 0.0 expected')",
            [GONE_NAME],
        )
        db._con.execute(
            "INSERT INTO faq_recommendations (rank, reason_id, label, recommendation, calls, "
            "calls_per_week, estimated_calls_saved, suggested_title, customer_phrasings, "
            "unanswered_questions, example_call_ids, language, key_terms) VALUES "
            "(1, 0, ?, 'new_page', 2, 1.0, 0.3, ?, [?, ?, ?], [?, 'Hvad koster det at opsige?'],"
            " ['old-1', 'new-1'], 'da', ['flytning'])",
            [
                GONE_NAME,
                GONE_QUESTION,
                GONE_WORDS,
                KEPT_WORDS,
                GONE_TEXT[:40] + "...",
                GONE_QUESTION,
            ],
        )
        created = json.dumps({"generated_name": GONE_NAME, "calls": 1}, ensure_ascii=False)
        split_before = json.dumps(
            {"reasons": {"0": {"name": None, "label": GONE_NAME}}, "calls": {"0": ["old-1"]}},
            ensure_ascii=False,
        )
        split_after = json.dumps({"reasons": {}, "calls": {"1": ["old-1", "new-1"]}})
        db._con.execute(
            "INSERT INTO reason_events VALUES (1, '2026-01-06', 'r1', 'created', [0], 'r1', "
            "NULL, ?), (2, '2026-06-03', 'ops', 'split', [0, 1], NULL, ?, ?)",
            [created, split_before, split_after],
        )
        manifest = json.dumps(
            {"reasons": [{"reason_id": 0, "label": GONE_NAME, "keywords": ["flytning"]}]},
            ensure_ascii=False,
            indent=2,
        )
        folder = path.parent / "models" / "rm"
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(manifest, encoding="utf-8")
        db._con.execute(
            "INSERT INTO reason_models VALUES ('rm', '2026-01-06', 'r1', 'm', 2, NULL, NULL, ?, ?)",
            [str(folder), manifest],
        )


def test_purge_leaves_nothing_a_purged_call_said_or_its_id(tmp_path: Path):
    # The FAQ phrasings, questions, titles, reason names, examples and event log of a purged
    # call: only what other calls also said, and no id of it, stays.
    path = tmp_path / "cr.duckdb"
    _purgeable(path)
    with Database(path) as db:
        counts = privacy.purge_database(db, datetime(2026, 3, 1, tzinfo=UTC))
        tables = {t: db.table(t) for t in TABLES if t not in ("runs", "schema_version")}
    dump = json.dumps({t: f.to_dicts() for t, f in tables.items()}, ensure_ascii=False, default=str)
    for gone in ("Aarhus", "aarhus", "flytter", "tager abonnementet", "old-1"):
        assert gone not in dump, gone
    assert counts["calls"] == 1
    assert counts["call_reason_history"] == 1
    assert counts["reason_names"] == 1
    rec = tables["faq_recommendations"].row(0, named=True)
    assert rec["customer_phrasings"] == [KEPT_WORDS]  # said by a call still stored: kept
    assert rec["unanswered_questions"] == ["Hvad koster det at opsige?"]
    assert rec["suggested_title"] == "Jeg vil opsige mit abonnement?"  # from the phrasing left
    assert rec["example_call_ids"] == ["new-1"]
    assert rec["key_terms"] == ["flytning"]  # a word counted over calls, not a phrasing
    reasons = {r["reason_id"]: r for r in tables["reasons"].iter_rows(named=True)}
    assert reasons[0]["generated_name"] == "Ny adresse / flytning"  # its keyword name
    assert reasons[0]["label"] == "Ny adresse / flytning"
    assert reasons[0]["example_call_ids"] == ["new-1"]
    assert json.loads(reasons[0]["examples_by_language"]) == {"da": ["new-1"]}
    assert reasons[1]["label"] == "Opsigelse"  # untouched: nothing of the purged call in it
    assert rec["label"] == "Ny adresse / flytning"
    assert tables["weekly_reason_stats"].sort("week")["label"].to_list() == [
        "Ny adresse / flytning",
        "opsige sit abonnement",  # also said by a call still stored
    ]
    assert tables["alerts"]["label"].to_list() == ["Ny adresse / flytning"]
    names = tables["reason_names"].sort("reason_id", "language")
    assert names.select("reason_id", "language").rows() == [(0, "all"), (1, "da")]
    events = tables["reason_events"].sort("event_id")
    assert json.loads(events["after"][0])["generated_name"] == "Ny adresse / flytning"
    assert json.loads(events["before"][1])["reasons"]["0"]["label"] == "Ny adresse / flytning"
    assert json.loads(events["after"][1])["calls"] == {"1": ["new-1"]}
    manifest = json.loads(tables["reason_models"]["manifest"][0])
    assert manifest["reasons"][0]["label"] == "Flytning"  # the keyword name it holds
    on_disk = (tmp_path / "models" / "rm" / "manifest.json").read_text(encoding="utf-8")
    assert on_disk == tables["reason_models"]["manifest"][0]  # the model's folder too
    assert tables["call_reason_history"]["call_id"].to_list() == ["new-1"]
    with Database(path) as db:  # a second purge finds nothing more to rewrite
        again = privacy.purge_database(db, datetime(2026, 3, 1, tzinfo=UTC))
    assert {k: v for k, v in again.items() if v} == {}


def test_verbatim_finds_whole_words_cut_phrasings_and_questions_made_direct():
    said = privacy.Verbatim(["Jeg flytter til Aarhus.\nHvordan jeg tager abonnementet med?"])
    assert said.says("jeg flytter til aarhus")
    assert said.says("Jeg flytter til Aarhus. Hvordan jeg...")  # a phrasing cut short
    assert said.says("Hvordan tager jeg abonnementet med?")  # faq made it direct
    assert not said.says("flytter til Aarhu")  # whole words only
    assert not said.says("Hvordan flytter jeg?")
    assert not said.says("...")


def test_cli_purge_names_a_bad_date_and_exits_2(tmp_path: Path):
    path = tmp_path / "cr.duckdb"
    _stored(path)
    out = run_cli("purge", "--before", "31/02/2026", "--db", str(path), check=False)
    assert out.returncode == 2
    assert "'31/02/2026' is not a date" in out.stderr
    ok = run_cli("purge", "--before", "2026-03-01", "--db", str(path))
    assert "calls" in ok.stdout


def test_retention_cutoff_counts_calendar_months():
    now = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    assert privacy.retention_cutoff(now, 1) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert privacy.retention_cutoff(now, 15) == datetime(2024, 12, 31, 12, 0, tzinfo=UTC)


def test_retention_setting_is_validated():
    assert Settings().storage.retention_months is None
    assert Settings().with_overrides({"storage": {"retention_months": 6}}).storage.retention_months
    with pytest.raises(ConfigError, match="retention_months"):
        Settings().with_overrides({"storage": {"retention_months": 0}})


def test_parse_day_names_the_value():
    with pytest.raises(InputError, match="'2026-13-01'"):
        privacy.parse_day("2026-13-01")


def test_apply_retention_does_nothing_unless_set_and_purges_by_months(tmp_path: Path):
    path = tmp_path / "cr.duckdb"
    _stored(path)
    now = datetime(2026, 6, 15, tzinfo=UTC)
    with Database(path) as db:
        assert privacy.apply_retention(db, None, now) is None
        assert db.table("calls").height == 3
        counts = privacy.apply_retention(db, 3, now)  # keeps calls from 2026-03-15 on
        assert counts is not None
        assert counts["calls"] == 1
        assert db.table("calls")["call_id"].sort().to_list() == ["new-clean", "new-leaky"]
