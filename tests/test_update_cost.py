"""A weekly update pays for what is new: it embeds the new calls and nothing stored again."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

from contact_reasons import faq, ingest, pipeline, redact, weekly
from contact_reasons.config import Settings
from contact_reasons.embed import HashingEmbedder, cache_key
from contact_reasons.storage import Database
from tests.conftest import FAQ, SAMPLE, RecordingEmbedder

WEEKS = sorted((SAMPLE / "calls").glob("calls_*.csv"))


def week_calls(index: int, n: int = 120) -> ingest.IngestResult:
    read = ingest.read_inputs([WEEKS[index]])
    calls = read.calls.head(n)
    return dataclasses.replace(read, calls=calls, rows_read=calls.height, duplicates=0)


def reason_texts(part: ingest.IngestResult) -> list[str]:
    return weekly.prepare_calls(redact.redact_calls(part.calls), "x")["reason_text"].to_list()


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cost")
    settings = Settings().with_overrides({"storage": {"model_dir": str(folder / "models")}})
    embedder = RecordingEmbedder()
    asked = []
    with Database(folder / "cr.duckdb") as db:
        for i, run_id in enumerate(("run-1", "run-2")):
            part = week_calls(i)
            db.start_run(run_id, part.files.to_dicts(), "{}")
            embedder.asked.clear()
            summary = pipeline.run_weekly(db, run_id, part, [FAQ], settings, embedder=embedder)
            asked.append((summary, list(embedder.asked), part))
    return asked


def test_update_embeds_only_the_new_calls(two_runs):
    (first, asked_first, stored), (second, asked_second, part) = two_runs
    assert first["mode"] == "refit"
    assert second["mode"] == "update"
    units = set(faq.faq_passages(faq.read_faq_units([FAQ])))
    assert units <= {t for _, t in asked_first}
    # FAQ units come from the cache on the second run; no stored call is embedded again.
    assert [t for _, t in asked_second if t in units] == []
    queries = {t for kind, t in asked_second if kind == "query"}
    new_texts = set(reason_texts(part))
    stored_texts = set(reason_texts(stored)) - new_texts
    assert queries & new_texts  # the new week's calls were embedded
    assert not queries & stored_texts  # ... and none of the stored week's


def test_cluster_pool_finds_tight_groups_without_umap():
    from contact_reasons.catalogue import cluster_pool

    rng = np.random.default_rng(0)
    dim = 32
    centres = np.eye(dim, dtype=np.float32)[:2]
    groups = [c + 0.15 * rng.standard_normal((20, dim)).astype(np.float32) for c in centres]
    noise = rng.standard_normal((12, dim)).astype(np.float32)
    vectors = np.vstack([*groups, noise])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = ["faktura ikke modtaget"] * 20 + ["nyt kort spærret"] * 20 + ["hej"] * 12
    found = cluster_pool(texts, vectors, min_calls=15, cohesion=0.6)
    assert found.reasons.height == 2
    a, b = found.labels[:20], found.labels[20:40]
    assert len(set(a)) == 1
    assert len(set(b)) == 1
    assert a[0] != b[0]
    assert a[0] != -1
    assert (found.labels[40:] == -1).all()
    assert sorted(found.reasons["size"].to_list()) == [20, 20]
    # Each is named with a phrase of its own calls.
    for label, rid in zip(found.reasons["label"], found.reasons["reason_id"], strict=True):
        own = texts[int(np.flatnonzero(found.labels == rid)[0])]
        assert label.lower() in own
    # Groups smaller than min_calls stay unexplained.
    assert (cluster_pool(texts, vectors, min_calls=25, cohesion=0.6).labels == -1).all()


class StagedEmbedder(HashingEmbedder):
    """Records each text it embeds with the stage of the run that asked."""

    def __init__(self) -> None:
        super().__init__()
        self.stage = ""
        self.asked: list[tuple[str, str]] = []

    def embed(self, texts, kind="query"):
        self.asked.extend((self.stage, t) for t in texts)
        return super().embed(texts, kind)


class StageTimer(pipeline.Timer):
    """Tells the embedder which stage runs."""

    def __init__(self, embedder: StagedEmbedder) -> None:
        super().__init__()
        self.embedder = embedder

    def __call__(self, name, fn, *args, **kwargs):
        self.embedder.stage = name
        return super().__call__(name, fn, *args, **kwargs)


def test_update_embeds_no_name_phrase_embedded_before(tmp_path):
    settings = Settings().with_overrides({"storage": {"model_dir": str(tmp_path / "models")}})
    embedder = StagedEmbedder()
    named: list[set[str]] = []
    with Database(tmp_path / "cr.duckdb") as db:
        for i, run_id in enumerate(("run-1", "run-2", "run-3")):
            part = week_calls(i)
            db.start_run(run_id, part.files.to_dicts(), "{}")
            embedder.asked.clear()
            pipeline.run_weekly(
                db, run_id, part, [FAQ], settings, embedder=embedder, call=StageTimer(embedder)
            )
            named.append({t for stage, t in embedder.asked if stage == "names"})
        stored = set(db.table("embeddings")["text_hash"].to_list())
    assert named[0]  # the first run embeds its name candidates ...
    assert {cache_key(p, "query") for p in named[0] | named[1]} <= stored  # ... and keeps them
    # later runs embed only candidates no earlier run embedded
    assert not named[1] & named[0]
    assert not named[2] & (named[0] | named[1])


def test_update_keeps_each_reasons_name_in_each_language(tmp_path):
    settings = Settings().with_overrides({"storage": {"model_dir": str(tmp_path / "models")}})
    embedder = HashingEmbedder()
    names = []
    with Database(tmp_path / "cr.duckdb") as db:
        for i, run_id in enumerate(("run-1", "run-2")):
            part = week_calls(i, 200)
            db.start_run(run_id, part.files.to_dicts(), "{}")
            summary = pipeline.run_weekly(db, run_id, part, [FAQ], settings, embedder=embedder)
            names.append(db.language_names())
    assert summary["mode"] == "update"
    first, second = names
    both = set(first) & set(second)
    assert both  # reasons named in a language both times ...
    assert {k: second[k] for k in both} == {k: first[k] for k in both}  # ... keep the name


def test_a_rerun_redacts_and_prepares_only_calls_not_stored(tmp_path, monkeypatch):
    settings = Settings().with_overrides({"storage": {"model_dir": str(tmp_path / "models")}})
    redacted: list[list[str]] = []
    plain = redact.redact_calls

    def recording(calls, *args, **kwargs):
        redacted.append(calls["call_id"].to_list())
        return plain(calls, *args, **kwargs)

    monkeypatch.setattr(redact, "redact_calls", recording)
    first, second = week_calls(0, 60), week_calls(0, 90)  # the second repeats the first 60
    with Database(tmp_path / "cr.duckdb") as db:
        for run_id, part in (("run-1", first), ("run-2", second)):
            db.start_run(run_id, part.files.to_dicts(), "{}")
            summary = pipeline.run_weekly(
                db, run_id, part, [FAQ], settings, embedder=HashingEmbedder()
            )
        stored = db.query("SELECT count(*) AS n FROM calls")["n"][0]
    assert redacted[1] == second.calls["call_id"].to_list()[60:]
    assert summary["rows_new"] == 30
    assert stored == 90


def test_an_update_writes_only_the_assignments_it_changes(tmp_path, monkeypatch):
    """Calls that keep their reason are not written again: the write follows the week."""
    settings = Settings().with_overrides({"storage": {"model_dir": str(tmp_path / "models")}})
    written = []
    plain = Database.write_results

    def recording(self, run_id, results, summary):
        written.append(results.call_reasons)
        return plain(self, run_id, results, summary)

    monkeypatch.setattr(Database, "write_results", recording)
    first, second = week_calls(0), week_calls(1)
    with Database(tmp_path / "cr.duckdb") as db:
        db.start_run("run-1", first.files.to_dicts(), "{}")
        pipeline.run_weekly(db, "run-1", first, [FAQ], settings, embedder=HashingEmbedder())
        before = db.call_assignments()
        db.start_run("run-2", second.files.to_dicts(), "{}")
        summary = pipeline.run_weekly(
            db, "run-2", second, [FAQ], settings, embedder=HashingEmbedder()
        )
        after = db.call_assignments()
    assert summary["mode"] == "update"
    new_ids = set(second.calls["call_id"].to_list())
    kept = before.join(after, on="call_id", suffix="_after").filter(
        (pl.col("reason_id") == pl.col("reason_id_after"))
        & (pl.col("similarity") == pl.col("similarity_after"))
        & (pl.col("reason_model_id") == pl.col("reason_model_id_after"))
    )
    assert kept.height > 0
    rewritten = set(written[1]["call_id"].to_list())
    assert new_ids <= rewritten
    assert not rewritten & set(kept["call_id"].to_list())
    assert set(after["call_id"].to_list()) == set(before["call_id"].to_list()) | new_ids
