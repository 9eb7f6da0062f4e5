"""Seeds in the weekly flow (issue 17): curated reasons and wrap-up codes guide a refit."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from contact_reasons import catalogue as cat
from contact_reasons import ingest, redact
from contact_reasons.catalogue_seeds import (
    RefitSeeds,
    code_names,
    coded_reasons,
    constrain_discovery,
    curated_reasons,
    name_by_codes,
    refit_seeds,
)
from contact_reasons.cluster import ReasonDiscovery, ReasonSpace
from contact_reasons.config import CatalogueSettings, SeededSettings, Settings
from contact_reasons.embed import HashingEmbedder
from contact_reasons.storage import Database

NOW = datetime(2026, 12, 1)


def catalogue(rows: list[dict]) -> pl.DataFrame:
    """A catalogue of the given rows (unset fields: an active generated reason)."""
    full = []
    for r in rows:
        rid = r["reason_id"]
        full.append(
            {
                "reason_model_id": "rm",
                "label": r.get("name") or f"gen {rid}",
                "keywords": [],
                "language": "da",
                "calls": 0,
                "example_call_ids": [],
                "generated_name": f"gen {rid}",
                "name": None,
                "status": "active",
                "merged_into": None,
                "split_into": None,
                "first_week": None,
                "last_week": None,
                "centre": None,
                "examples_by_language": None,
                "created_at": NOW,
            }
            | r
        )
    return pl.DataFrame(full, schema=cat.CATALOGUE_SCHEMA)


CURATED_CATALOGUE = [
    {"reason_id": 1, "name": "Faktura"},  # renamed
    {"reason_id": 2},  # plain
    {"reason_id": 3},  # kept by a merge of 4
    {"reason_id": 4, "status": "merged", "merged_into": 3},
    {"reason_id": 5, "status": "inactive", "split_into": [6, 7]},
    {"reason_id": 6},
    {"reason_id": 7, "status": "not_faq"},
    {"reason_id": 8, "name": "Støj", "status": "ignored"},  # renamed, then ignored
    {"reason_id": 9, "name": "Gammel", "status": "inactive"},
]


def test_curated_reasons_are_renamed_merge_targets_and_split_children_not_ignored():
    found = curated_reasons(catalogue(CURATED_CATALOGUE))
    assert found == {1: "Faktura", 3: "gen 3", 6: "gen 6", 7: "gen 7"}
    assert curated_reasons(cat.empty_catalogue()) == {}


def window_of(ids: list[str], codes: list[str | None] | None = None) -> pl.DataFrame:
    frame = pl.DataFrame({"call_id": ids})
    if codes is not None:
        frame = frame.with_columns(pl.Series("wrapup_code", codes, dtype=pl.String))
    return frame


def current_of(pairs: dict[str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"call_id": list(pairs), "reason_id": list(pairs.values())},
        schema={"call_id": pl.String, "reason_id": pl.Int32},
    )


def test_refit_seeds_from_curated_reasons_merges_resolved():
    book = catalogue(CURATED_CATALOGUE)
    ids = ["a", "b", "c", "d", "e", "f", "g"]
    current = current_of({"a": 1, "b": 2, "c": 4, "d": 3, "e": 8, "f": 7, "g": -1})
    seeds = refit_seeds(window_of(ids), current, book, SeededSettings())
    names = [seeds.names[g] if g >= 0 else None for g in seeds.group]
    # a: renamed; c: merged into 3, so a seed of 3 as d; e: ignored, no seed; g: unexplained
    assert names == ["Faktura", None, "gen 3", "gen 3", None, "gen 7", None]
    assert seeds.reason_ids == [1, 3, 7]
    assert seeds.curated == [True, True, True]
    off = refit_seeds(window_of(ids), current, book, SeededSettings(catalogue_seeds=False))
    assert off.count == 0


def test_refit_seeds_from_wrapup_codes():
    book = catalogue([{"reason_id": 1, "name": "Faktura"}, {"reason_id": 2}])
    ids = [f"c{i}" for i in range(14)]
    codes = (
        ["Flytning"] * 5  # a new code: a group of its own
        + ["faktura "] * 2  # a curated reason's name (case and spaces folded): that reason
        + ["Sjælden"] * 2  # under wrapup_min_calls (5): no seed
        + ["GEN 2"] * 5  # another catalogue reason's generated name: pinned to it
    )
    current = current_of({"c0": 1})  # a curated call: a seed of its reason, whatever its code
    on = SeededSettings(wrapup_column="wrapup_code")
    off = refit_seeds(window_of(ids, codes), current, book, SeededSettings())
    assert off.names == ["Faktura"], "codes are seeds only while a wrap-up column is set"
    seeds = refit_seeds(window_of(ids, codes), current, book, on)
    names = [seeds.names[g] if g >= 0 else None for g in seeds.group]
    assert names == ["Faktura"] + ["Flytning"] * 4 + ["Faktura"] * 2 + [None] * 2 + ["GEN 2"] * 5
    assert dict(zip(seeds.names, seeds.reason_ids, strict=True)) == {
        "Faktura": 1,
        "Flytning": None,
        "GEN 2": 2,
    }
    assert seeds.curated == [True, False, False]
    assert seeds.summary() == {
        "seed_calls": 12,
        "curated_reasons": 1,
        "curated_calls": 3,
        "wrapup_codes": 2,
    }
    fewer_settings = SeededSettings(wrapup_column="wrapup_code", wrapup_min_calls=6)
    fewer = refit_seeds(window_of(ids, codes), current, book, fewer_settings)
    assert "Flytning" not in fewer.names


def test_menu_choices_are_weak_labels_only_when_asked_and_a_code_wins():
    """`seeded.menu_labels`: an unanswered call's menu choice acts as its wrap-up code."""
    ids = [f"m{i}" for i in range(12)]
    window = window_of(ids, [None] * 10 + ["Flytning", None]).with_columns(
        pl.Series("text_source", ["menu"] * 6 + ["summary"] * 4 + ["menu"] * 2),
        pl.Series(
            "reason_text",
            ["Anmeld skade"] * 5 + ["Sjælden"] + ["Anmeld skade"] * 4 + ["Anmeld skade"] * 2,
        ),
    )
    book = catalogue([{"reason_id": 1}])
    assert refit_seeds(window, current_of({}), book, SeededSettings()).count == 0
    on = SeededSettings(menu_labels=True)
    seeds = refit_seeds(window, current_of({}), book, on)
    names = [seeds.names[g] if g >= 0 else None for g in seeds.group]
    # menu calls "Anmeld skade" (summaries with the same text are no menu choice; the code of
    # the second last is not read, no column is set), not the rare choice (wrapup_min_calls)
    assert names == ["Anmeld skade"] * 5 + [None] * 5 + ["Anmeld skade"] * 2
    assert seeds.curated == [False]
    both = SeededSettings(menu_labels=True, wrapup_column="wrapup_code", wrapup_min_calls=1)
    coded = refit_seeds(window, current_of({}), book, both)
    assert [coded.names[g] for g in coded.group[10:]] == ["Flytning", "Anmeld skade"]
    assert "Sjælden" in coded.names


def discovery_of(labels: list[int]) -> ReasonDiscovery:
    ids = sorted({x for x in labels if x >= 0})
    reasons = pl.DataFrame(
        {
            "reason_id": ids,
            "label": [f"found {i}" for i in ids],
            "keywords": [[f"kw{i}"] for i in ids],
            "size": [labels.count(i) for i in ids],
            "representative_idx": [[labels.index(i)] for i in ids],
        },
        schema={
            "reason_id": pl.Int64,
            "label": pl.String,
            "keywords": pl.List(pl.String),
            "size": pl.Int64,
            "representative_idx": pl.List(pl.Int64),
        },
    )
    return ReasonDiscovery(np.asarray(labels, np.int64), reasons, None)


def unit_rows(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, 8)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_curated_seeds_are_must_link_and_pieces_join():
    #          cluster 0 (R piece)  cluster 1 (R piece)  cluster 2 (other, 1 R call)  -1
    labels = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, -1]
    group = [0, 0, 0, -1, 0, 0, -1, 0, -1, -1, -1, -1, 0]
    seeds = RefitSeeds(np.asarray(group), ["R"], [7], [True])
    done = constrain_discovery(discovery_of(labels), unit_rows(13), seeds)
    out = done.discovery.labels
    r = out[0]
    assert r not in (0, 1, 2)
    assert (out[:7] == r).all(), "both pieces (3 of 4, 2 of 3 calls R's) join R whole"
    assert out[7] == r, "R's stray call is held with it"
    assert out[12] == r, "so is its unexplained call"
    assert (out[8:12] == 2).all(), "the other cluster (1 of 5 R's) stays itself"
    assert done.pinned == {int(r): 7}
    reasons = {row["reason_id"]: row for row in done.discovery.reasons.iter_rows(named=True)}
    assert reasons[int(r)]["label"] == "R"
    assert reasons[int(r)]["size"] == 9
    assert reasons[int(r)]["keywords"] == ["kw0"], "keywords of the largest cluster it took"
    assert reasons[2]["size"] == 4
    assert set(reasons) == {int(r), 2}


def test_wrapup_codes_vote_by_majority_and_keep_their_seeds():
    # cluster 0: 3 of code A, 1 of B -> A; cluster 1: no code -> itself; cluster 2: 1 A, 1 B
    # (a tie goes to the lower group, A)
    labels = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    group = [0, 0, 0, 1, -1, -1, -1, -1, 0, 1, -1]
    seeds = RefitSeeds(np.asarray(group), ["A", "B"], [None, None], [False, False])
    out = constrain_discovery(discovery_of(labels), unit_rows(11), seeds).discovery.labels
    a, b = out[0], out[3]
    assert a != b
    assert list(out[[0, 1, 2, 4]]) == [a] * 4, "the cluster's unlabelled call joins A"
    assert list(out[5:8]) == [1, 1, 1]
    assert list(out[[8, 10]]) == [a, a]
    assert out[9] == b


def test_no_seeds_leaves_the_discovery_as_it_is():
    labels = [0, 0, 1, 1, -1]
    found = discovery_of(labels)
    seeds = RefitSeeds(np.full(5, -1), [], [], [])
    done = constrain_discovery(found, unit_rows(5), seeds)
    assert done.discovery is found
    assert done.pinned == {}


def test_refit_keeps_a_pinned_id_and_seeds_skip_the_hysteresis():
    rng = np.random.default_rng(1)
    centres = np.eye(4, 16, dtype=np.float32) * 3
    x = np.concatenate([c + rng.normal(scale=0.3, size=(10, 16)) for c in centres])
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    ids = [f"c{i}" for i in range(40)]
    window = pl.DataFrame(
        {"call_id": ids, "week": ["2026-W40"] * 40, "detected_language": ["da"] * 40}
    ).with_columns(pl.lit(True).alias("answered"))
    space = cat.CatalogueSpace(
        "rm-2", "hashing", 0.0, ReasonSpace({}, np.zeros(16, np.float32), None)
    )
    truth = np.repeat(np.arange(4), 10)
    # stored: reasons 11..14; the discovery finds the same four groups
    current = current_of({c: 11 + int(t) for c, t in zip(ids, truth, strict=True)})
    book = catalogue([{"reason_id": 11 + i} for i in range(4)])
    found = discovery_of(truth.tolist())
    plain = cat.refit_catalogue(
        window, x, found, current, book, space, CatalogueSettings(), run_id="r", now=NOW
    )
    assert plain.call_reasons["reason_id"].to_list() == (truth + 11).tolist()
    # pinned: discovered 0 must keep reason 12, although its calls were 11's
    pinned = cat.refit_catalogue(
        window,
        x,
        found,
        current,
        book,
        space,
        CatalogueSettings(align_keep_spread=-1),
        run_id="r",
        now=NOW,
        pinned={0: 12},
    )
    got = pinned.call_reasons["reason_id"].to_numpy()
    assert (got[:10] == 12).all()
    assert 11 not in got.tolist(), "11's calls all went to the pinned reason"
    status = dict(pinned.catalogue.select("reason_id", "status").iter_rows())
    assert status[11] == "inactive"
    # a call the discovery moved against its neighbours: the hysteresis takes it back, unless
    # it is a seed (fixed)
    moved = truth.copy()
    moved[0] = 1
    again = discovery_of(moved.tolist())
    held = cat.refit_catalogue(
        window, x, again, current, book, space, CatalogueSettings(), run_id="r", now=NOW
    )
    assert held.call_reasons["reason_id"][0] == 11
    fixed = np.zeros(40, dtype=bool)
    fixed[0] = True
    seeded = cat.refit_catalogue(
        window,
        x,
        again,
        current,
        book,
        space,
        CatalogueSettings(),
        run_id="r",
        now=NOW,
        fixed=fixed,
    )
    assert seeded.call_reasons["reason_id"][0] == 12


def test_code_names_name_the_reason_most_seeds_ended_in_unless_a_person_named_it():
    window = window_of(["a", "b", "c", "d", "e"])
    seeds = RefitSeeds(
        np.asarray([0, 0, 0, 1, 2]), ["Flytning", "Faktura", "X"], [None] * 3, [False, False, True]
    )
    reasons = current_of({"a": 5, "b": 5, "c": 6, "d": 9, "e": 5})
    book = catalogue([{"reason_id": 5}, {"reason_id": 6}, {"reason_id": 9, "name": "Person"}])
    coded = code_names(reasons, window, seeds, book)
    assert coded == {5: "Flytning"}
    named = name_by_codes(book, coded)
    rows = {r["reason_id"]: r for r in named.iter_rows(named=True)}
    assert rows[5]["generated_name"] == rows[5]["label"] == "Flytning"
    assert rows[9]["label"] == "Person"


def test_coded_reasons_are_those_a_code_names_without_a_person_name():
    book = catalogue(
        [
            {"reason_id": 1, "generated_name": "Flytning"},
            {"reason_id": 2, "generated_name": "Faktura", "name": "Regning"},
            {"reason_id": 3},
        ]
    )
    window = window_of(["a", "b"], ["flytning", None])
    assert coded_reasons(book, window) == {1: "Flytning"}
    assert coded_reasons(book, window_of(["a"])) == {}


def test_seeded_settings_validate():
    assert SeededSettings().catalogue_seeds is True
    assert SeededSettings().wrapup_column is None
    with pytest.raises(ValueError, match="wrapup_min_calls"):
        SeededSettings(wrapup_min_calls=0)
    settings = Settings().with_overrides({"seeded": {"wrapup_column": "wrapup_code"}})
    assert settings.seeded.wrapup_column == "wrapup_code"


def test_ingest_reads_the_wrapup_column_and_redaction_covers_it(tmp_path: Path):
    path = tmp_path / "calls.csv"
    path.write_text(
        "call_id,started_at,summary,Wrap-up Code,note\n"
        "1,2026-09-01T10:00:00,Kunden spørger til regning,Faktura ,x\n"
        "2,2026-09-01T11:00:00,Kunden flytter,,y\n"
        "3,2026-09-01T12:00:00,Ring tilbage,Ring til 22 33 44 55,z\n",
        encoding="utf-8",
    )
    plain = ingest.read_inputs([path])
    assert plain.calls["wrapup_code"].to_list() == [None, None, None]
    assert plain.files["extra_columns"][0].to_list() == ["wrap_up_code", "note"]
    read = ingest.read_inputs([path], wrapup_column="Wrap-up Code")
    assert read.calls["wrapup_code"].to_list() == ["Faktura", None, "Ring til 22 33 44 55"]
    assert read.files["extra_columns"][0].to_list() == ["note"]
    full = Settings().with_overrides({"seeded": {"wrapup_column": "wrap_up_code"}})
    assert ingest.read_inputs([path], settings=full).calls["wrapup_code"][0] == "Faktura"
    redacted = redact.redact_calls(read.calls, workers=1)
    assert redacted["wrapup_code"][0] == "Faktura"
    assert "22 33 44 55" not in (redacted["wrapup_code"][2] or "")


# -- through the weekly run (`pipeline.run_weekly`, fake embedder) -----------------------------


@pytest.fixture(scope="module")
def run_settings(tmp_path_factory) -> Settings:
    models = tmp_path_factory.mktemp("models")
    return Settings().with_overrides({"storage": {"model_dir": str(models)}})


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory, run_settings) -> Path:
    """W36 (first run) then W37 (an update), 120 calls each."""
    from tests.test_catalogue import run, week_calls

    db_path = tmp_path_factory.mktemp("seeds") / "cr.duckdb"
    run(db_path, week_calls(0), run_settings, run_id="run-w36")
    run(db_path, week_calls(1), run_settings, run_id="run-w37")
    return db_path


@pytest.mark.slow
@pytest.mark.parametrize("seeds", [True, False])
def test_a_refit_keeps_the_reasons_a_person_split_whole(two_weeks, tmp_path, run_settings, seeds):
    """A person splits the largest reason; `run --refit` keeps both parts with their calls.

    Without seeds the refit's fresh discovery finds the reason as one again, and the alignment
    hands it to one child: the other child loses every call and goes inactive (measured: 0 of
    24 calls kept), undoing the person's decision.
    """
    import shutil

    from tests.test_catalogue import cli_main, run, tables, week_calls

    db_path = tmp_path / "cr.duckdb"
    shutil.copy(two_weeks, db_path)
    largest = int(tables(db_path)["reasons"].sort("calls", descending=True)["reason_id"][0])
    code, _, err = cli_main("reasons", "split", str(largest), "--db", str(db_path))
    assert code == 0, err
    book = tables(db_path)["reasons"]
    children = book.filter(pl.col("reason_id") == largest)["split_into"][0].to_list()
    assert len(children) >= 2
    before = tables(db_path)["call_reasons"].select("call_id", "reason_id")
    settings = run_settings.with_overrides({"seeded": {"catalogue_seeds": seeds}})
    summary = run(db_path, week_calls(2), settings, refit=True, run_id="run-refit")
    after = tables(db_path)["call_reasons"].select("call_id", "reason_id")
    status = dict(tables(db_path)["reasons"].select("reason_id", "status").iter_rows())
    moved = before.join(after, on="call_id", suffix="_after")
    lost = {
        c: int(moved.filter((pl.col("reason_id") == c) & (pl.col("reason_id_after") != c)).height)
        for c in children
    }
    whole = all(n == 0 for n in lost.values()) and all(status[c] == "active" for c in children)
    if seeds:
        assert summary["seeds"]["curated_reasons"] == len(children)
        assert whole, f"calls each child lost: {lost}; status {[status[c] for c in children]}"
    else:
        assert summary["seeds"]["seed_calls"] == 0
        assert not whole, "the unseeded refit undoes the split (why the seeds are on)"


@pytest.mark.slow
def test_ignored_reasons_are_no_seeds_and_stay_ignored(two_weeks, tmp_path, run_settings):
    import shutil

    from tests.test_catalogue import cli_main, run, tables, week_calls

    db_path = tmp_path / "cr.duckdb"
    shutil.copy(two_weeks, db_path)
    top = tables(db_path)["reasons"].sort("calls", descending=True)["reason_id"].to_list()
    cli_main("reasons", "rename", str(top[0]), "Navngivet", "--db", str(db_path))
    cli_main("reasons", "rename", str(top[1]), "Ignoreret", "--db", str(db_path))
    cli_main("reasons", "ignore", str(top[1]), "--db", str(db_path))
    summary = run(db_path, week_calls(2), run_settings, refit=True, run_id="run-refit")
    assert summary["seeds"]["curated_reasons"] == 1
    rows = {r["reason_id"]: r for r in tables(db_path)["reasons"].iter_rows(named=True)}
    assert rows[top[0]]["label"] == "Navngivet"
    assert rows[top[0]]["status"] == "active"
    assert rows[top[1]]["status"] == "ignored"


@pytest.mark.slow
def test_wrapup_codes_seed_the_first_run_and_name_their_reason(tmp_path, run_settings):
    """A calls file with a wrap-up column, end to end: stored redacted, one reason per code,
    named by the code in the catalogue, `reason_names` and the report."""
    from tests.test_catalogue import WEEKS, cli_main, run, tables

    truth = pl.read_csv(WEEKS[0].parents[1] / "truth" / "call_reasons.csv")
    calls = pl.read_csv(WEEKS[0], infer_schema=False)
    keys = calls.join(truth.select("call_id", "reason_key"), on="call_id", how="left")
    code = (
        pl.when(pl.col("reason_key") == "book_appointment")
        .then(pl.lit("Tidsbestilling"))
        .when(pl.col("reason_key") == "password_reset")
        .then(pl.lit("Nulstil kode, ring 22 33 44 55"))
        .otherwise(None)
    )
    path, later = tmp_path / "calls_with_codes.csv", tmp_path / "later.csv"
    coded_calls = keys.with_columns(code.alias("wrapup_code")).drop("reason_key")
    coded_calls.head(160).write_csv(path)
    # Later calls an agent coded "Tidsbestilling" although they read like something else: a
    # weekly update puts them in the code's reason, not at the nearest centre.
    later_keys = keys.slice(160, 100)
    relabelled = pl.int_range(pl.len()).is_in(list(range(0, 100, 20))) & (
        pl.col("reason_key") != "book_appointment"
    )
    forced = later_keys.filter(relabelled)["call_id"].to_list()
    assert len(forced) >= 3
    coded_calls.slice(160, 100).with_columns(
        pl.when(pl.col("call_id").is_in(forced))
        .then(pl.lit("Tidsbestilling"))
        .otherwise(pl.col("wrapup_code"))
        .alias("wrapup_code")
    ).write_csv(later)
    settings = run_settings.with_overrides({"seeded": {"wrapup_column": "wrapup_code"}})
    ingested = ingest.read_inputs([path], settings=settings)
    coded = ingested.calls.filter(pl.col("wrapup_code").is_not_null())
    assert coded.height >= 10
    db_path = tmp_path / "cr.duckdb"
    summary = run(db_path, ingested, settings, run_id="run-first")
    assert summary["seeds"]["wrapup_codes"] == 2
    stored = tables(db_path, ("calls",))["calls"]
    codes = set(stored["wrapup_code"].drop_nulls().to_list())
    assert "Tidsbestilling" in codes
    assert not any("22 33 44 55" in c for c in codes), codes
    (phone_code,) = codes - {"Tidsbestilling"}
    reasons = tables(db_path)["reasons"]
    assignments = tables(db_path)["call_reasons"]
    with_codes = stored.select("call_id", "wrapup_code").join(assignments, on="call_id")
    for name in ("Tidsbestilling", phone_code):
        held = with_codes.filter(pl.col("wrapup_code") == name)["reason_id"].unique().to_list()
        assert len(held) == 1, f"{name}: calls in reasons {held}"
        row = reasons.filter(pl.col("reason_id") == held[0]).row(0, named=True)
        assert row["label"] == row["generated_name"] == name
        assert row["name"] is None, "a code is no person's name"
    with Database(db_path, read_only=True) as db:
        names = db.table("reason_names")
    assert "Tidsbestilling" in names.filter(pl.col("language") == "all")["name"].to_list()
    _, out, _ = cli_main("report", "--db", str(db_path), "--week", "2026-W36")
    assert "Tidsbestilling" in out
    # a weekly update keeps the code as the name, in every language
    held = with_codes.filter(pl.col("wrapup_code") == "Tidsbestilling")["reason_id"][0]
    update = run(db_path, ingest.read_inputs([later], settings=settings), settings, run_id="u")
    assert update["mode"] == "update"
    later_reasons = tables(db_path)["call_reasons"].filter(pl.col("call_id").is_in(forced))
    assert later_reasons["reason_id"].to_list() == [held] * len(forced)
    row = tables(db_path)["reasons"].filter(pl.col("reason_id") == held).row(0, named=True)
    assert row["label"] == "Tidsbestilling"
    with Database(db_path, read_only=True) as db:
        names = db.table("reason_names").filter(pl.col("reason_id") == held)
    assert names["language"].to_list() == ["all"]
    assert names["name"].to_list() == ["Tidsbestilling"]


def test_learned_discovery_finds_the_codes_reasons_and_keeps_the_clusters_keywords():
    from contact_reasons.catalogue_seeds import learned_discovery
    from contact_reasons.cluster_settings import ClusterSettings

    rng = np.random.default_rng(3)
    centres = np.eye(3, 16, dtype=np.float32) * 4
    x = np.concatenate([c + rng.normal(scale=0.4, size=(60, 16)) for c in centres])
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    truth = np.repeat(np.arange(3), 60)
    group = np.full(180, -1)
    group[[0, 1, 2, 3, 4]] = 0  # five calls of the first reason carry code A
    group[[60, 61, 62, 63, 64]] = 1  # five of the second carry B
    seeds = RefitSeeds(group, ["A", "B"], [None, None], [False, False])
    found = discovery_of(truth.tolist())
    learned = learned_discovery(found, x, x, seeds, ClusterSettings(), SeededSettings())
    labels = learned.labels
    assert len(set(labels[:60].tolist())) == 1
    assert len(set(labels[60:120].tolist())) == 1
    assert labels[0] != labels[60]
    assert not set(labels[120:].tolist()) & {labels[0], labels[60]}, "the third is new"
    rows = {r["reason_id"]: r for r in learned.reasons.iter_rows(named=True)}
    assert rows[labels[0]]["label"] == "A"
    assert rows[labels[60]]["label"] == "B"
    assert rows[labels[0]]["keywords"] == ["kw0"]
    assert rows[labels[120]]["keywords"] == ["kw2"]
    curated_only = RefitSeeds(group, ["A", "B"], [1, 2], [True, True])
    same = learned_discovery(found, x, x, curated_only, ClusterSettings(), SeededSettings())
    assert same is found, "curated reasons are no seeds of the learned metric"
    # Seeded discovery has no sample: a window over `seeded.wrapup_max_calls` keeps the
    # unseeded discovery (the codes then act as must-link groups), whatever the unseeded
    # discovery's own sample size is.
    small_fit = ClusterSettings(fit_max_texts=100)
    learned_again = learned_discovery(found, x, x, seeds, small_fit, SeededSettings())
    assert learned_again is not found, "cluster.fit_max_texts is not the limit"
    assert {r["label"] for r in learned_again.reasons.iter_rows(named=True)} >= {"A", "B"}
    over = learned_discovery(found, x, x, seeds, small_fit, SeededSettings(wrapup_max_calls=150))
    assert over is found


def test_coded_assignments_follow_names_merges_and_statuses():
    from contact_reasons.catalogue_seeds import coded_assignments

    cat_ = catalogue(CURATED_CATALOGUE)
    window = pl.DataFrame(
        {
            "wrapup_code": [
                "faktura",  # a person's name, folded: reason 1
                "gen 4",  # a merged reason's name: the reason it joined, 3
                "Gammel",  # an inactive reason: left to the centres
                "Støj",  # an ignored reason: a person's ignore stands, the call goes there
                "ukendt",  # no reason has this name
                None,
                "gen 5",  # a split reason: left to the centres
            ]
        }
    )
    on = SeededSettings(wrapup_column="wrapup_code")
    assert coded_assignments(window, cat_, on) == {0: 1, 1: 3, 3: 8}
    assert coded_assignments(window, cat_, SeededSettings()) == {}


# -- the saved reason model is the refit's (`reason_model.refit_topics`) -----------------------


def _saved_model_against_catalogue(db_path: Path, summary: dict, settings: Settings) -> dict:
    """Load the run's saved model; check it against what the refit wrote; return its manifest."""
    from contact_reasons.reason_model import load_reason_model, read_manifest
    from tests.test_catalogue import tables

    folder = Path(settings.storage.model_dir) / summary["reason_model_id"]
    manifest = read_manifest(folder)
    model = load_reason_model(folder, HashingEmbedder())
    written = tables(db_path, ("reasons", "call_reasons", "calls"))
    assigned = written["call_reasons"]
    sizes = dict(assigned.filter(pl.col("reason_id") != -1)["reason_id"].value_counts().iter_rows())
    book = {r["reason_id"]: r for r in written["reasons"].iter_rows(named=True)}
    listed = {r["reason_id"]: r for r in manifest["reasons"]}
    assert set(listed) == set(sizes), "the manifest lists the reasons the refit gave calls"
    info = {int(r["Topic"]): r for r in model.get_topic_info().to_dict("records")}
    unexplained = int((assigned["reason_id"] == -1).sum())
    assert manifest["unexplained_calls"] == unexplained
    topics = {r["topic"] for r in listed.values()}
    assert set(info) == topics | ({-1} if unexplained else set())
    for rid, row in listed.items():
        assert row["calls"] == sizes[rid] == info[row["topic"]]["Count"]
        assert row["label"] == book[rid]["label"] == info[row["topic"]]["CustomName"]
        if book[rid]["keywords"]:
            assert row["keywords"] == book[rid]["keywords"]
            assert [w for w, _ in model.get_topic(row["topic"])] == book[rid]["keywords"]
    texts = assigned.join(written["calls"].select("call_id", "reason_text"), on="call_id")
    predicted, _ = model.transform(texts["reason_text"].to_list())
    reason_of_topic = {r["topic"]: rid for rid, r in listed.items()}
    same = np.mean(
        [
            reason_of_topic.get(int(p), -1) == int(r)
            for p, r in zip(predicted, texts["reason_id"], strict=True)
        ]
    )
    assert same >= 0.9, f"the loaded model puts {same:.0%} of the calls in the refit's reason"
    return manifest


@pytest.mark.slow
def test_the_saved_model_holds_the_reasons_a_seeded_first_run_wrote(tmp_path, run_settings):
    """Wrap-up codes seed the first run: the saved BERTopic model and its manifest are the
    catalogue's reasons (ids, names, keywords, sizes, and its `transform`).

    Before, the model was the unseeded discovery's (8 topics) and the manifest listed the seeded
    discovery's own ids and labels (9 reasons, 2 labels twice), neither of them the catalogue's.
    """
    from tests.test_catalogue import WEEKS, run

    truth = pl.read_csv(WEEKS[0].parents[1] / "truth" / "call_reasons.csv")
    calls = pl.read_csv(WEEKS[0], infer_schema=False)
    code = (
        pl.when(pl.col("reason_key") == "book_appointment")
        .then(pl.lit("Tidsbestilling"))
        .when(pl.col("reason_key") == "password_reset")
        .then(pl.lit("Nulstil kode"))
        .otherwise(None)
    )
    path = tmp_path / "calls_with_codes.csv"
    calls.join(truth.select("call_id", "reason_key"), on="call_id", how="left").with_columns(
        code.alias("wrapup_code")
    ).drop("reason_key").head(160).write_csv(path)
    settings = run_settings.with_overrides({"seeded": {"wrapup_column": "wrapup_code"}})
    db_path = tmp_path / "cr.duckdb"
    summary = run(db_path, ingest.read_inputs([path], settings=settings), settings, run_id="r1")
    assert summary["seeds"]["wrapup_codes"] == 2
    manifest = _saved_model_against_catalogue(db_path, summary, settings)
    labels = [r["label"] for r in manifest["reasons"]]
    assert {"Tidsbestilling", "Nulstil kode"} <= set(labels)


@pytest.mark.slow
def test_a_refit_of_the_same_calls_after_a_split_saves_the_split(tmp_path, run_settings):
    """`run --refit` on the very calls of the first run, after a person split a reason: a new
    saved model, listing the split's parts (the seeds are part of the model's content id).

    Before, the model id hashed only the calls and the settings: the refit found the first
    run's folder, kept it, and its manifest listed the reason as one.
    """
    from tests.test_catalogue import cli_main, run, tables, week_calls

    db_path = tmp_path / "cr.duckdb"
    first = run(db_path, week_calls(0), run_settings, run_id="r1")
    largest = int(tables(db_path)["reasons"].sort("calls", descending=True)["reason_id"][0])
    code, _, err = cli_main("reasons", "split", str(largest), "--db", str(db_path))
    assert code == 0, err
    book = tables(db_path)["reasons"]
    children = set(book.filter(pl.col("reason_id") == largest)["split_into"][0].to_list())
    refit = run(db_path, week_calls(0), run_settings, refit=True, run_id="r2")
    assert refit["seeds"]["curated_reasons"] == len(children)
    assert refit["reason_model_id"] != first["reason_model_id"]
    manifest = _saved_model_against_catalogue(db_path, refit, run_settings)
    listed = {r["reason_id"] for r in manifest["reasons"]}
    assert children <= listed
    assert largest not in listed
