"""FAQ gaps against the sample's truth: the right kind of gap for each reason, before and after.

Runs on a COPY of a database built by `make demo` (calls, cached embeddings, reasons): the calls'
vectors come from the embedding cache, only the FAQ units are embedded. "Before" is the
`faq_recommendations` table the database already holds (the centroid-to-page margin of the earlier
faq.py); "after" is `faq.faq_recommendations` on FAQ units read from `data/sample/faq`.

Scores, as issue 15 defines them (truth: none -> new_page, partial -> improve_page, full ->
covered or findability; a reason missing from the table counts as covered):
- per true reason, the kind most of its calls receive (unexplained calls have no kind);
- precision and recall per kind over the found reasons with at least 20 calls, each mapped to the
  true reason of most of its calls.

    python benchmarks/faq_gaps.py --db /work/demo.duckdb [--json out.json] [--unit-prompt passage]
                                  [--redact]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl

from contact_reasons import faq
from contact_reasons.config import Settings
from contact_reasons.embed import load_embedder
from contact_reasons.storage import Database

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "data" / "sample" / "truth"
KINDS = ("new_page", "improve_page", "covered")
TRUE_KIND = {"none": "new_page", "partial": "improve_page", "full": "covered"}


def _kind(value: str | None) -> str:
    return "covered" if value in (None, "covered", "findability") else str(value)


def evaluate(gaps: pl.DataFrame, call_reasons: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Score one recommendation table against the truth."""
    kinds = dict(zip(gaps["reason_id"], gaps["recommendation"], strict=True))
    calls = call_reasons.join(truth, on="call_id").with_columns(
        pl.col("reason_id")
        .map_elements(lambda r: _kind(kinds.get(r)), return_dtype=pl.String)
        .alias("kind"),
        pl.col("coverage").replace_strict(TRUE_KIND).alias("true_kind"),
    )
    explained = calls.filter(pl.col("reason_id") != -1)
    per_reason = (
        explained.group_by("reason_key", "true_kind")
        .agg(pl.col("kind").mode().sort().first().alias("kind"), pl.len().alias("calls"))
        .sort("reason_key")
    )
    right = per_reason.filter(pl.col("kind") == pl.col("true_kind"))
    found = (
        explained.group_by("reason_id")
        .agg(
            pl.len().alias("calls"),
            pl.col("true_kind").mode().sort().first(),
            pl.col("kind").first(),
        )
        .filter(pl.col("calls") >= 20)
    )
    scores = {}
    for kind in KINDS:
        predicted = found.filter(pl.col("kind") == kind).height
        actual = found.filter(pl.col("true_kind") == kind).height
        hit = found.filter((pl.col("kind") == kind) & (pl.col("true_kind") == kind)).height
        scores[kind] = {
            "precision": round(hit / predicted, 2) if predicted else None,
            "recall": round(hit / actual, 2) if actual else None,
            "predicted": predicted,
            "actual": actual,
        }
    app = per_reason.filter(pl.col("reason_key") == "new_app_update_problem")
    return {
        "true_reasons_right": right.height,
        "true_reasons": per_reason.height,
        "found_reasons_20": found.height,
        "found_reasons_right": found.filter(pl.col("kind") == pl.col("true_kind")).height,
        "per_kind": scores,
        "app_update_kind": app["kind"][0] if app.height else None,
        "wrong": per_reason.filter(pl.col("kind") != pl.col("true_kind"))
        .select("reason_key", "true_kind", "kind")
        .rows(),
    }


def titles_on_topic(gaps: pl.DataFrame, window: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """How many gaps' suggested titles come from calls about the gap's reason.

    A title is a caller's own question; the calls of the gap's found reason whose own words
    (`customer_text`) hold it are its sources. It is on topic when most of its sources have the
    true reason most of the found reason's calls have. Gaps whose title has no source (a title
    made from a phrasing or the label) are not counted.
    """
    gaps = gaps.filter(pl.col("recommendation") != "covered").sort("rank")
    calls = window.select("call_id", "reason_id", "customer_text").join(
        truth.select("call_id", "reason_key"), on="call_id"
    )
    majority = {
        int(rid): Counter(keys).most_common(1)[0][0]
        for rid, keys in calls.group_by("reason_id").agg(pl.col("reason_key")).iter_rows()
    }
    members: dict[int, list[tuple[str, str]]] = {}
    for rid, text, key in calls.select("reason_id", "customer_text", "reason_key").iter_rows():
        members.setdefault(int(rid), []).append((" ".join((text or "").split()).lower(), key))

    def on_topic(rid: int, probe: str) -> bool | None:
        sources = [key for text, key in members.get(rid, []) if probe and probe in text]
        return Counter(sources).most_common(1)[0][0] == majority[rid] if sources else None

    judged: list[bool] = []
    phrasings: list[bool] = []
    top_phrasings: list[bool] = []
    for rank, (rid, title, said) in enumerate(
        gaps.select("reason_id", "suggested_title", "customer_phrasings").iter_rows()
    ):
        verdict = on_topic(int(rid), (title or "").rstrip("?").lower()[:30])
        if verdict is not None:
            judged.append(verdict)
        for phrase in (said or [])[:3]:
            verdict = on_topic(int(rid), " ".join(phrase.split()).lower()[:40])
            if verdict is not None:
                phrasings.append(verdict)
                if rank < 10:
                    top_phrasings.append(verdict)
    return {
        "gaps": gaps.height,
        "distinct_titles": gaps["suggested_title"].str.to_lowercase().n_unique(),
        "judged": len(judged),
        "on_topic": sum(judged),
        "top_ten_on_topic": sum(judged[:10]),
        "phrasings_judged": len(phrasings),
        "phrasings_on_topic": sum(phrasings),
        "top_ten_phrasings_judged": len(top_phrasings),
        "top_ten_phrasings_on_topic": sum(top_phrasings),
    }


def run(
    db_path: Path, faq_dir: Path, unit_prompt: str | None = None, redact: bool | None = None
) -> dict:
    """Compute the new recommendations on a copy of `db_path` and score before and after.

    `unit_prompt` overrides `faq.unit_prompt` (the prompt FAQ units are embedded with), `redact`
    `faq.redact` (FAQ units redacted when read).
    """
    settings = Settings()
    if unit_prompt is not None:
        settings = settings.with_overrides({"faq": {"unit_prompt": unit_prompt}})
    if redact is not None:
        settings = settings.with_overrides({"faq": {"redact": redact}})
    truth = pl.read_csv(TRUTH / "call_reasons.csv").join(
        pl.read_csv(TRUTH / "faq_coverage.csv"), on="reason_key"
    )
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "demo.duckdb"
        shutil.copy(db_path, copy)
        with Database(copy, read_only=True) as db:
            before = db.table("faq_recommendations")
        with Database(copy) as db:  # migrates the copy; the original is never opened to write
            calls = db.read_calls()
            call_reasons = db.table("call_reasons")
            reasons = db.table("reasons")
            embedder = load_embedder(settings.embedding)
            cached = db.cached_embeddings(embedder.model_id, calls["text_hash"].to_list())
            units = db.sync_faq_units(faq.read_faq_units([faq_dir], redact=settings.faq.redact))
    missing = [h for h in calls["text_hash"] if h not in cached]
    if missing:
        raise SystemExit(f"{len(missing)} calls have no cached embedding for {embedder.model_id}")
    window = calls.join(call_reasons.select("call_id", "reason_id"), on="call_id")
    vectors = np.stack([cached[h] for h in window["text_hash"]])
    unit_vectors = embedder.embed(faq.faq_passages(units), kind=settings.faq.unit_prompt)
    weeks = window["week"].n_unique()
    after = faq.faq_recommendations(
        reasons,
        window,
        window.select("call_id", "reason_id"),
        vectors,
        units,
        unit_vectors,
        settings.faq,
        weeks,
    )
    decided = faq.answerability(
        vectors, units, unit_vectors, settings.faq, window["detected_language"].to_list()
    )
    cross = _cross_language(window, decided, units, truth)
    meter = (
        window.select("call_id", "reason_id")
        .join(truth.select("call_id", "reason_key"), on="call_id")
        .filter(pl.col("reason_key") == "meter_reading")["reason_id"]
        .mode()
        .to_list()
    )
    meter_rows = after.filter(pl.col("reason_id").is_in(meter)).select(
        "reason_id",
        "label",
        "recommendation",
        "best_url",
        "page_date",
        "page_date_source",
        "calls_per_week_before",
        "calls_per_week_after",
    )
    ceilings = _ceilings(window, call_reasons, vectors, units, unit_vectors, truth, settings, weeks)
    gaps = after.filter(pl.col("recommendation") != "covered").head(10)
    return {
        "units": units.height,
        "pages": units["url"].n_unique(),
        "embedding_model": embedder.model_id,
        "unit_prompt": settings.faq.unit_prompt,
        "redact": settings.faq.redact,
        "calls_answered_share": round(float(decided["answered"].mean() or 0.0), 3),  # type: ignore[arg-type]
        "kinds_after": dict(Counter(after["recommendation"].to_list())),
        "before": evaluate(before, call_reasons, truth),
        "after": evaluate(after, call_reasons, truth),
        "titles_before": titles_on_topic(before, window, truth),
        "titles_after": titles_on_topic(after, window, truth),
        "ceilings": ceilings,
        "top_ten_titles": gaps.select(
            "rank", "recommendation", "label", "language", "suggested_title"
        ).rows(),
        "meter_reading": meter_rows.to_dicts(),
        "cross_language": cross,
    }


def _ceilings(
    window: pl.DataFrame,
    call_reasons: pl.DataFrame,
    vectors: np.ndarray,
    units: pl.DataFrame,
    unit_vectors: np.ndarray,
    truth: pl.DataFrame,
    settings: Settings,
    weeks: int,
) -> dict:
    """What limits the per-true-reason score: the clusters, and the FAQ decision itself.

    - `found_reasons_oracle`: every found reason gets the true kind of most of its calls (a
      perfect FAQ decision on today's clusters); calls of a true reason spread over found reasons
      that mostly hold other reasons take those reasons' kinds.
    - `true_reasons_as_clusters`: the FAQ decision made on the true reasons themselves (perfect
      clusters), so only the answerability signal limits it.
    """
    kinds = call_reasons.join(truth, on="call_id").filter(pl.col("reason_id") != -1)
    oracle = kinds.group_by("reason_id").agg(
        pl.col("coverage").replace_strict(TRUE_KIND).mode().sort().first().alias("recommendation")
    )
    keys = sorted(truth["reason_key"].unique().to_list())
    true_ids = window.select("call_id").join(
        truth.select("call_id", "reason_key"), on="call_id", how="left", maintain_order="left"
    )
    as_clusters = true_ids.select(
        "call_id",
        pl.col("reason_key")
        .replace_strict({k: i for i, k in enumerate(keys)}, default=-1, return_dtype=pl.Int32)
        .alias("reason_id"),
    )
    reasons = pl.DataFrame(
        {"reason_id": list(range(len(keys))), "label": keys},
        schema={"reason_id": pl.Int32, "label": pl.String},
    )
    decided = faq.faq_recommendations(
        reasons, window, as_clusters, vectors, units, unit_vectors, settings.faq, weeks
    )
    pure = evaluate(decided, as_clusters, truth)
    return {
        "found_reasons_oracle": evaluate(oracle, call_reasons, truth)["true_reasons_right"],
        "true_reasons_as_clusters": pure["true_reasons_right"],
        "true_reasons_as_clusters_wrong": pure["wrong"],
    }


def _cross_language(
    window: pl.DataFrame, decided: pl.DataFrame, units: pl.DataFrame, truth: pl.DataFrame
) -> dict:
    """For reasons a page fully answers: the share of calls it answers, by the calls' language."""
    group = {"nn": "nb", "no": "nb"}
    pages = truth.filter(pl.col("coverage") == "full").select("call_id", "faq_path")
    frame = pl.concat([window.select("call_id", "detected_language"), decided], how="horizontal")
    frame = frame.join(pages, on="call_id").with_columns(
        pl.col("detected_language").replace(group).alias("call_language"),
        pl.col("unit_index")
        .map_elements(lambda i: units["url"][i], return_dtype=pl.String)
        .alias("unit_url"),
    )
    page_language = {
        url: lang for url, lang in zip(units["url"], units["language"], strict=True) if lang
    }
    frame = frame.with_columns(
        pl.col("faq_path")
        .map_elements(
            lambda p: next((v for k, v in page_language.items() if k.endswith(p)), None),
            return_dtype=pl.String,
        )
        .replace(group)
        .alias("page_language"),
        (pl.col("answered") & pl.col("unit_url").str.ends_with(pl.col("faq_path"))).alias("right"),
    )
    same = frame.filter(pl.col("call_language") == pl.col("page_language"))
    other = frame.filter(pl.col("call_language") != pl.col("page_language"))
    return {
        "same_language_calls": same.height,
        "same_language_answered_by_the_right_page": round(float(same["right"].mean() or 0), 3),  # type: ignore[arg-type]
        "other_language_calls": other.height,
        "other_language_answered_by_the_right_page": round(float(other["right"].mean() or 0), 3),  # type: ignore[arg-type]
    }


def main() -> None:
    """Print the figures (and write them as JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/work/demo.duckdb"))
    parser.add_argument("--faq", type=Path, default=ROOT / "data" / "sample" / "faq")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--unit-prompt",
        choices=("query", "passage"),
        default=None,
        help="the prompt FAQ units are embedded with (default: the settings' faq.unit_prompt)",
    )
    parser.add_argument(
        "--redact",
        action="store_true",
        default=None,
        help="redact the FAQ units when read (faq.redact; default: the settings')",
    )
    args = parser.parse_args()
    result = run(args.db, args.faq, args.unit_prompt, args.redact)
    text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
