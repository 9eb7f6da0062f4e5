"""Peak memory and time of reading one big call export: streamed in batches, or read whole.

Builds one big file from the sample calls (`data/sample/calls`, 6,000 calls, summaries and
transcripts) repeated with fresh call ids up to `--rows` rows, with a bad timestamp every
997th row and a repeated call id every 1,009th (so validation, redaction of quarantined
values and duplicates all run). Then reads it with `ingest.read_inputs` in a fresh process per
setting, one setting after the other: `ingest.batch_rows = 0` (the file read whole into memory
first, as before streaming) and the given batch sizes. Each process reports its wall time,
its peak RSS (`ru_maxrss`), the RSS after its imports, and the size of the calls frame it
returns (what any reading must hold at the end). The frames' row hashes must be equal across
settings, or the run fails.

Usage::

    python benchmarks/ingest_memory.py --rows 500000 [--format csv] [--batch-rows 0 50000 5000]
        [--revision 8b996ab] [--json out.json] [--output docs/benchmarks.md]

`--revision REV` adds a read with `contact_reasons/ingest.py` as it was at git revision REV
(8b996ab: the last before streaming), to show that `batch_rows = 0` still is that reading.

Files are built once under `.cache/ingest_bench/` and reused. `--output` replaces this
benchmark's own section of the file (between its markers).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AT_START_MB = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
"""Peak RSS when this script starts (what it inherited from its parent, at least)."""
CACHE = ROOT / ".cache" / "ingest_bench"
SAMPLE = ROOT / "data" / "sample" / "calls"
BEGIN = "<!-- ingest-memory:begin -->"
END = "<!-- ingest-memory:end -->"
ROWS = "<!-- ingest-memory:rows "
NAMES = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSONL"}
BAD_EVERY = 997
DUPLICATE_EVERY = 1009


def peak_rss_mb() -> float:
    """This process's peak resident memory, MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def build(rows: int, file_format: str) -> Path:
    """The big file (built once): sample calls repeated with fresh ids, some rows spoiled."""
    import polars as pl

    path = CACHE / f"calls_{rows}.{file_format}"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    sample = pl.concat(
        [pl.read_csv(p, infer_schema=False) for p in sorted(SAMPLE.glob("*.csv"))],
        how="vertical",
    )
    copies = -(-rows // sample.height)
    frame = (
        pl.concat([sample] * copies)
        .head(rows)
        .with_row_index("n")
        .with_columns(
            call_id=pl.when(pl.col("n") % DUPLICATE_EVERY == DUPLICATE_EVERY - 1)
            .then(pl.lit("b-") + (pl.col("n") - 1).cast(pl.String))
            .otherwise(pl.lit("b-") + pl.col("n").cast(pl.String)),
            started_at=pl.when(pl.col("n") % BAD_EVERY == BAD_EVERY - 1)
            .then(pl.lit("31/02/2026"))
            .otherwise(pl.col("started_at")),
        )
        .drop("n")
    )
    partial = path.with_suffix(".partial")
    if file_format == "csv":
        frame.write_csv(partial)
    elif file_format == "parquet":
        frame.write_parquet(partial)
    else:
        frame.write_ndjson(partial)
    partial.rename(path)
    return path


def _ingest_at(revision: str) -> Any:
    """`contact_reasons/ingest.py` as it was at a git revision, imported as its own module."""
    import importlib.util
    import tempfile

    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{revision}:contact_reasons/ingest.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "ingest_at_revision.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("ingest_at_revision", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def read_once(path: Path, batch_rows: int, revision: str | None = None) -> dict[str, Any]:
    """Read `path` with `ingest.batch_rows = batch_rows` in this process; its figures.

    With `revision`, read it with `ingest.py` as it was at that git revision instead (its
    defaults; `batch_rows` is not used).
    """
    from contact_reasons.config import IngestSettings
    from contact_reasons.ingest import read_inputs

    if revision is not None:
        read_inputs = _ingest_at(revision).read_inputs
    after_imports = peak_rss_mb()
    start = time.perf_counter()
    if revision is None:
        result = read_inputs([path], settings=IngestSettings(batch_rows=batch_rows))
    else:
        result = read_inputs([path])
    seconds = time.perf_counter() - start
    return {
        "batch_rows": batch_rows,
        "revision": revision,
        "seconds": round(seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_imports_mb": after_imports,
        "rss_at_start_mb": AT_START_MB,
        "calls_frame_mb": round(result.calls.estimated_size("mb"), 1),
        "accounting": result.accounting(),
        "calls_hash": int(result.calls.hash_rows().sum()),
        "quarantine_hash": int(result.quarantine.hash_rows().sum()),
        "sha256": result.files["sha256"][0],
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Build the file, then read it once per batch size, each in a fresh process.

    This process imports neither polars nor the library: Linux carries a process's peak RSS
    over into the programs it starts, so a parent that had built the file would raise its
    children's figures.
    """
    built = subprocess.run(
        [sys.executable, __file__, "--build", "--rows", str(args.rows), "--format", args.format],
        check=True,
        capture_output=True,
        text=True,
    )
    path = Path(built.stdout.strip())
    runs = []
    settings = [["--batch-rows", str(b)] for b in args.batch_rows]
    settings += [["--batch-rows", "0", "--revision", r] for r in args.revision]
    for setting in settings:
        out = subprocess.run(
            [sys.executable, __file__, "--read", str(path), *setting],
            check=True,
            capture_output=True,
            text=True,
        )
        run = json.loads(out.stdout)
        run["load1"] = round(os.getloadavg()[0], 1)
        runs.append(run)
        print(json.dumps(run), file=sys.stderr)  # noqa: T201
    same = {(r["calls_hash"], r["quarantine_hash"], r["sha256"]) for r in runs}
    if len(same) != 1 or len({json.dumps(r["accounting"]) for r in runs}) != 1:
        raise SystemExit(f"settings disagree: {runs}")
    return {
        "rows": args.rows,
        "format": args.format,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "runs": runs,
    }


INTRO = f"""## Reading a big export (`benchmarks/ingest_memory.py`, issue 18)

One file of `rows` calls: the sample calls repeated with fresh ids, a bad timestamp every
{BAD_EVERY}th row and a repeated id every {DUPLICATE_EVERY}th, read by `ingest.read_inputs` in a
fresh process per setting, one after the other. `batch_rows = 0` reads the file whole into
memory first (the reading before streaming); the others stream it. `beyond imports` is the peak
RSS less the RSS after importing the library (about 60 MiB); `calls frame` is the size of the
calls frame returned, which any reading holds at the end (the pipeline takes it whole). Every
setting returns the same frames and digest (row hashes compared), or the run fails. Seconds are
wall-clock on the shared 2-core machine (load average in the last column)."""


def _key(result: dict[str, Any]) -> tuple[str, int]:
    return (result["format"], result["rows"])


def section(results: list[dict[str, Any]]) -> str:
    """This benchmark's markdown section: every file measured, each with its command."""
    lines = [
        BEGIN,
        INTRO,
        "",
        "| file | ingest.batch_rows | seconds | peak RSS MiB | beyond imports MiB "
        "| calls frame MiB | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        name = f"{NAMES[result['format']]}, {result['rows']:,} rows, {result['file_mb']:,} MiB"
        for r in result["runs"]:
            beyond = r["peak_rss_mb"] - r["rss_after_imports_mb"]
            if r.get("revision"):
                setting = f"`ingest.py` at {r['revision']}"
            else:
                setting = f"{r['batch_rows']:,}{' (whole file)' if r['batch_rows'] == 0 else ''}"
            lines.append(
                f"| {name} | {setting} "
                f"| {r['seconds']} | {r['peak_rss_mb']:,.0f} | {beyond:,.0f} "
                f"| {r['calls_frame_mb']:,.0f} | {r['load1']} |"
            )
    lines += ["", "```bash"]
    lines += [f"python benchmarks/ingest_memory.py {r['command']}" for r in results]
    lines += ["```", ""]
    for result in results:
        acc = result["runs"][0]["accounting"]
        lines.append(
            f"- {NAMES[result['format']]}, {result['rows']:,} rows: read {acc['read']:,}, "
            f"stored {acc['stored']:,}, quarantined {acc['quarantined']:,}, "
            f"duplicates {acc['duplicates']:,}."
        )
    lines += [f"{ROWS}{json.dumps(results)} -->", END]
    return "\n".join(lines)


def write_section(path: Path, result: dict[str, Any]) -> None:
    """Replace this benchmark's section in `path` (appended when there is none yet).

    Results for other files stay (kept as JSON in a comment); one for the same format and
    number of rows replaces the earlier one.
    """
    from marked_section import update_section

    update_section(path, (BEGIN, ROWS, END), result, _key, _key, section)


def main(argv: list[str] | None = None) -> int:
    """Command line: the benchmark, or (internally) one read in this process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--format", choices=("csv", "parquet", "jsonl"), default="csv")
    parser.add_argument("--batch-rows", type=int, nargs="+", default=[0, 50_000, 5_000])
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--output", type=Path, default=None, help="markdown file to update")
    parser.add_argument(
        "--revision",
        nargs="*",
        default=[],
        help="also read with ingest.py as at these git revisions (the one before streaming)",
    )
    parser.add_argument("--read", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        print(build(args.rows, args.format))  # noqa: T201
        return 0
    if args.read:
        revision = args.revision[0] if args.revision else None
        print(json.dumps(read_once(args.read, args.batch_rows[0], revision)))  # noqa: T201
        return 0
    result = measure(args)
    result["command"] = " ".join(argv if argv is not None else sys.argv[1:])
    print(json.dumps(result, indent=2))  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.output:
        write_section(args.output, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
