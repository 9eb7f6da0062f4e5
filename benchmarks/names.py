"""Name evidence benchmark: how many of a reason's calls does the name shown for them cover?

For each reason with at least `--min-calls` calls, the share of its calls whose reason text
shares a content word with the name shown to a reader of the call's language (the
`reason_names` name for that language, else the reason's label; a human name always wins).
Content words have at least four letters and are compared on their first five letters
(issue 19's measure). Targets: median share >= 0.5, at most 10 % of the reasons below 0.2.

Runs on a database. With `--source-db`, the database is first copied to `--db` and the weekly
job is run on the copy with `--refit` over `--input` (the copy's cached embeddings mean nothing
is embedded again)::

    python benchmarks/names.py --source-db /work/demo.duckdb --db /tmp/names.duckdb \
        --input data/sample/calls --faq data/sample/faq --output docs/names_benchmark.md
    python benchmarks/names.py --db data/demo.duckdb          # measure only
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
_WORD = re.compile(r"[^\W\d_]+")
MIN_LETTERS = 4
STEM = 5
TARGET_MEDIAN = 0.5
TARGET_WEAK_SHARE = 0.10
WEAK = 0.2


def content_stems(text: str) -> set[str]:
    """First five letters of each word of at least four letters, lower-cased."""
    return {w[:STEM] for w in _WORD.findall(text.lower()) if len(w) >= MIN_LETTERS}


def coverage(texts: Iterable[str], names: Iterable[str]) -> float:
    """Share of the texts that share a content word with their name (text i with name i)."""
    hits = total = 0
    for text, name in zip(texts, names, strict=True):
        total += 1
        hits += bool(content_stems(text) & content_stems(name))
    return hits / total if total else 0.0


def measure(db_path: Path, min_calls: int) -> pl.DataFrame:
    """One row per reason with at least `min_calls` calls: its names and its share."""
    sys.path.insert(0, str(ROOT))
    from contact_reasons.storage import Database

    with Database(db_path, read_only=True) as db:
        tables = set(db.query("SELECT table_name FROM information_schema.tables")["table_name"])
        columns = set(db.query("SELECT * FROM reasons LIMIT 0").columns)
        human = "r.name" if "name" in columns else "NULL"  # before migration 0004: no names
        calls = db.query(
            "SELECT c.call_id, c.reason_text, coalesce(c.detected_language, '') AS language, "
            f"cr.reason_id, r.label, {human} AS human FROM calls c "
            "JOIN call_reasons cr USING (call_id) JOIN reasons r USING (reason_id) "
            "WHERE cr.reason_id <> -1"
        )
        has_names = "reason_names" in tables
        names = (
            db.query("SELECT reason_id, language, name FROM reason_names")
            if has_names
            else pl.DataFrame(
                schema={"reason_id": pl.Int32, "language": pl.String, "name": pl.String}
            )
        )
    per_lang = {(int(r), str(lang)): str(n) for r, lang, n in names.iter_rows()}
    # A reader of nynorsk is shown the bokmål name, as the product shows it.
    read_as = {"nn": "nb", "no": "nb"}
    shown = [
        human or per_lang.get((int(rid), read_as.get(lang, lang))) or label
        for rid, lang, label, human in calls.select(
            "reason_id", "language", "label", "human"
        ).iter_rows()
    ]
    calls = calls.with_columns(pl.Series("shown", shown, dtype=pl.String))
    rows = []
    for (rid,), group in calls.group_by(["reason_id"]):
        if group.height < min_calls:
            continue
        rows.append(
            {
                "reason_id": int(rid),
                "label": str(group["label"][0]),
                "calls": group.height,
                "names": " | ".join(sorted(set(group["shown"].to_list()))),
                "share": coverage(group["reason_text"].to_list(), group["shown"].to_list()),
            }
        )
    return pl.DataFrame(rows).sort("share")


def run_weekly(source: Path, db: Path, inputs: Sequence[Path], faqs: Sequence[Path]) -> None:
    """Copy `source` to `db` and refit the weekly job on the copy."""
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, db)
    command = [sys.executable, "-m", "contact_reasons.cli", "run", "--db", str(db), "--refit"]
    for path in inputs:
        command += ["--input", str(path)]
    for path in faqs:
        command += ["--faq", str(path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(command, check=True, cwd=ROOT, env=env)


def markdown(table: pl.DataFrame, min_calls: int, command: str) -> str:
    """The result as markdown: the summary against the targets, then every reason."""
    shares = table["share"].to_list()
    median = statistics.median(shares) if shares else 0.0
    weak = sum(s < WEAK for s in shares)
    lines = [
        "# Name evidence",
        "",
        f"Reasons with at least {min_calls} calls: {len(shares)}. Share of a reason's calls whose",
        "reason text shares a content word (>= 4 letters, first 5 compared) with the name shown",
        "for the call's language.",
        "",
        "| check | target | result | met |",
        "|---|---|---|---|",
        f"| median share | >= {TARGET_MEDIAN} | {median:.3f} | "
        f"{'yes' if median >= TARGET_MEDIAN else '**no**'} |",
        f"| reasons below {WEAK} | <= {TARGET_WEAK_SHARE:.0%} | {weak} of {len(shares)} "
        f"({weak / max(1, len(shares)):.1%}) | "
        f"{'yes' if weak <= TARGET_WEAK_SHARE * len(shares) else '**no**'} |",
        "",
        "| reason | calls | share | names shown |",
        "|---|---|---|---|",
    ]
    for r in table.iter_rows(named=True):
        lines.append(f"| {r['reason_id']} | {r['calls']} | {r['share']:.2f} | {r['names']} |")
    lines += ["", "Produced by:", "", "```", command, "```", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure (after an optional refit on a copy) and print or write the markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="database to measure")
    parser.add_argument("--source-db", type=Path, help="copy this to --db and refit it first")
    parser.add_argument("--input", type=Path, action="append", default=[], help="calls (refit)")
    parser.add_argument("--faq", type=Path, action="append", default=[], help="FAQ (refit)")
    parser.add_argument("--min-calls", type=int, default=20)
    parser.add_argument("--output", type=Path, help="markdown file (default: print only)")
    args = parser.parse_args(argv)
    if args.source_db is not None:
        if args.source_db.resolve() == args.db.resolve():
            raise SystemExit("--db must be a copy, not --source-db itself")
        if not args.input:
            raise SystemExit("--source-db needs --input (the calls to refit on)")
        run_weekly(args.source_db, args.db, args.input, args.faq)
    table = measure(args.db, args.min_calls)
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])])
    text = markdown(table, args.min_calls, command)
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
