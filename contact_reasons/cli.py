"""The `contact-reasons` command line.

Commands: run, backfill, reasons, cluster, evaluate, report, faq, redact, purge.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contact_reasons import __version__
from contact_reasons.errors import ContactReasonsError

if TYPE_CHECKING:
    from contact_reasons.storage import Database

DEFAULT_DB = "data/contact_reasons.duckdb"


def _offline_prefect_defaults() -> None:
    """Settings a local run needs; set before Prefect is imported, never overriding the user."""
    os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _error_names(cls: type[BaseException] = ContactReasonsError) -> list[str]:
    return [cls.__name__, *(n for sub in cls.__subclasses__() for n in _error_names(sub))]


class _ExpectedErrorLogs(logging.Filter):
    """Drops Prefect's error logs (with tracebacks) of a run failing on a named error.

    `main` prints such an error once, as a message; any other failure keeps Prefect's logs.
    """

    def __init__(self) -> None:
        super().__init__()
        self.names = tuple(f"{name}{mark}" for name in _error_names() for mark in (":", "("))

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        if record.exc_info and isinstance(record.exc_info[1], ContactReasonsError):
            return False
        message = record.getMessage()
        return not any(name in message for name in self.names)


def _quiet_expected_errors() -> None:
    """Install `_ExpectedErrorLogs` on Prefect's run loggers (after Prefect set up logging)."""
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _ExpectedErrorLogs) for f in logger.filters):
            logger.addFilter(_ExpectedErrorLogs())


def _rows(value: str) -> int:
    """An `--top N`: a whole number of rows, at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of rows >= 1")
    return number


def _iso_week(value: str) -> str:
    """An ISO week as typed, in the stored spelling ("2026-w47" -> "2026-W47")."""
    return value.strip().upper()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contact-reasons",
        description="Why customers contact you, week by week, and which FAQ pages would help.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = _command(sub, "run", "run the weekly flow on call exports")
    run.add_argument(
        "--input",
        action="append",
        required=True,
        type=Path,
        metavar="PATH",
        help="CSV/Parquet/JSONL file or folder of them (repeatable)",
    )
    run.add_argument(
        "--faq",
        action="append",
        default=[],
        metavar="SOURCE",
        help="FAQ pages: a folder or file of Markdown/HTML pages, a CSV of url,question,answer, "
        "or a website's sitemap URL (repeatable)",
    )
    run.add_argument("--db", type=Path, default=None, help=f"DuckDB file (default {DEFAULT_DB})")
    run.add_argument("--config", type=Path, default=None, help="settings TOML file")
    run.add_argument(
        "--refit",
        action="store_true",
        help="re-discover the reasons over the window and align them to the catalogue "
        "(ids, names, merges and ignores survive); without it a run updates the catalogue",
    )

    back = _command(
        sub, "backfill", "run historic exports week by week, in order, as the weekly job would have"
    )
    back.add_argument(
        "--input",
        action="append",
        required=True,
        type=Path,
        metavar="FOLDER",
        help="folder (or file) of historic call exports (repeatable)",
    )
    back.add_argument(
        "--faq",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="FAQ pages: a folder or file of Markdown/HTML pages, or a CSV (repeatable)",
    )
    back.add_argument("--db", type=Path, default=None, help=f"DuckDB file (default {DEFAULT_DB})")
    back.add_argument("--config", type=Path, default=None, help="settings TOML file")

    _reasons_parser(sub)

    clus = _command(sub, "cluster", "cluster one file of texts, no database")
    _file_arguments(clus)
    clus.add_argument(
        "--output", required=True, type=Path, help="CSV to write: id,reason_id,reason_label"
    )
    clus.add_argument("--config", type=Path, default=None, help="settings TOML file")
    clus.add_argument(
        "--seed-column",
        default=None,
        help="a column naming known reasons: a row with a value is a labelled example of it",
    )

    ev = _command(sub, "evaluate", "cluster a labelled file and print NMI/ARI/accuracy")
    _file_arguments(ev)
    ev.add_argument("--label-column", required=True, help="column of the true reason labels")
    ev.add_argument("--config", type=Path, default=None, help="settings TOML file")
    ev.add_argument(
        "--seed-column",
        default=None,
        help="a column naming known reasons: a row with a value is a labelled example of it"
        + "; only rows without one are scored",
    )

    rep = _command(sub, "report", "print or write the weekly report")
    _db_argument(rep)
    rep.add_argument(
        "--week", default=None, type=_iso_week, help="ISO week YYYY-Www (default: latest)"
    )
    rep.add_argument(
        "--format",
        choices=["table", "csv", "json", "html", "xlsx"],
        default="table",
        help="html: one self-contained page; xlsx: one sheet per table (both need --output)",
    )
    rep.add_argument(
        "--output",
        type=Path,
        default=None,
        help="write the report to this file (needed for --format html/xlsx)",
    )
    rep.add_argument("--top", type=_rows, default=20, help="reasons in the text table (default 20)")

    red = _command(sub, "redact", "re-redact the text already stored (after a redaction upgrade)")
    _db_argument(red)

    purge = _command(sub, "purge", "delete calls started before a date (weekly aggregates stay)")
    purge.add_argument("--before", required=True, help="YYYY-MM-DD (UTC midnight)")
    _db_argument(purge)

    faq = _command(
        sub, "faq", "print the FAQ gaps: new pages, pages to improve, pages to make findable"
    )
    _db_argument(faq)
    faq.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="(default table)"
    )
    faq.add_argument("--top", type=_rows, default=15, help="gaps shown (default 15)")
    for p in (rep, faq):
        p.add_argument(
            "--language",
            choices=["da", "nb", "en"],
            default=None,
            help="show reason names in this language where a reason has one "
            "(default: report.language from --config, else the default name)",
        )
        p.add_argument("--config", type=Path, default=None, help="settings TOML file")
    return parser


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, what: str
) -> argparse.ArgumentParser:
    """A command, its help line in the command list and the description its --help shows."""
    return sub.add_parser(name, help=what, description=what[0].upper() + what[1:] + ".")


def _db_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db", type=Path, default=Path(DEFAULT_DB), help=f"DuckDB file (default {DEFAULT_DB})"
    )


def _file_arguments(p: argparse.ArgumentParser) -> None:
    """--input, --id-column and --text-column of `cluster` and `evaluate`."""
    p.add_argument("--input", required=True, type=Path, help="one CSV, Parquet or JSONL file")
    p.add_argument("--id-column", required=True, help="column of the rows' ids")
    p.add_argument("--text-column", required=True, help="column of the texts to cluster")


def _reasons_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rs = sub.add_parser(
        "reasons",
        help="list and curate the reason catalogue (rename, merge, split, ignore, ...)",
        description="Without an action: list the catalogue. Decisions are stored, logged with "
        "who made them, respected by every later update and refit, and can be undone.",
    )
    _db_argument(rs)
    rs.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="(default table)"
    )
    acts = rs.add_subparsers(dest="action", required=False, metavar="ACTION")

    def action(name: str, help_: str) -> argparse.ArgumentParser:
        p = acts.add_parser(name, help=help_, description=help_)
        # SUPPRESS: given after the action it counts, and it never hides one given before
        p.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="DuckDB file")
        return p

    def by(p: argparse.ArgumentParser) -> None:
        p.add_argument("--by", default=None, help="who decides (default: the OS user)")

    p = action("rename", "give a reason a human name, shown instead of the generated one")
    p.add_argument(
        "reason_id", type=int, metavar="ID", help="the reason's id (`reasons` lists them)"
    )
    p.add_argument("name", metavar="NAME", help="the name reports show")
    by(p)
    p = action(
        "merge",
        "merge reasons: the later ids are merged INTO THE FIRST (their calls, now and later)",
    )
    p.add_argument(
        "reason_ids", type=int, nargs="+", metavar="ID", help="the reason to keep, then the others"
    )
    by(p)
    p = action("split", "re-cluster a reason's calls into new reasons")
    p.add_argument("reason_id", type=int, metavar="ID", help="the reason's id")
    p.add_argument("--config", type=Path, default=None, help="settings TOML file")
    by(p)
    for name, help_ in (
        ("ignore", "ignore a reason: out of the report and the FAQ gaps"),
        ("not-faq", "a reason no FAQ page can answer: stays in the report, not in the FAQ gaps"),
        ("restore", "make an ignored, not-faq or merged reason active again"),
    ):
        p = action(name, help_)
        p.add_argument("reason_id", type=int, metavar="ID", help="the reason's id")
        by(p)
    p = action("history", "print the catalogue's event log (every change, who, before/after)")
    p.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        default=argparse.SUPPRESS,
        help="(default table)",
    )
    p = action("undo", "revert the last decision")
    by(p)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (2 for errors in input or settings)."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ContactReasonsError as exc:
        print(f"contact-reasons: error: {exc}", file=sys.stderr)  # noqa: T201
        _release_frames(exc)
        return 2


def _release_frames(exc: BaseException | None) -> None:
    """Let go of what a failed run's frames hold (Prefect keeps the exception in its state).

    An open DuckDB connection left in them is reported by DuckDB's bindings as "leaked" on
    stderr when the interpreter exits, after the error message.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if exc.__traceback__ is not None:
            traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__


def _flow_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The flow parameters `run` and `backfill` share, from their options."""
    return {
        "inputs": [str(p) for p in args.input],
        "faq_paths": [str(p) for p in args.faq],
        "db_path": str(args.db) if args.db else None,
        "config_path": str(args.config) if args.config else None,
    }


def _dispatch(args: argparse.Namespace) -> int:
    from contact_reasons.config import load_settings

    if args.command in ("run", "backfill"):
        from contact_reasons.faq_units import check_sources

        check_sources(args.faq)
    if args.command == "run":
        _offline_prefect_defaults()
        from flows.weekly import weekly_contact_reasons

        _quiet_expected_errors()
        summary = weekly_contact_reasons(**_flow_arguments(args), refit=args.refit)
        _out(_run_summary(summary))
        return 0
    if args.command == "backfill":
        _offline_prefect_defaults()
        from flows.backfill import backfill_contact_reasons

        _quiet_expected_errors()
        summaries = backfill_contact_reasons(**_flow_arguments(args))
        for summary in summaries:
            _out(f"{', '.join(summary['weeks'][-1:])} ({summary['mode']}): {_run_summary(summary)}")
        if not summaries:
            _out("no valid calls to backfill")
        return 0
    if args.command == "reasons":
        return _reasons(args)
    if args.command == "cluster":
        from contact_reasons.batch import cluster_file

        table = cluster_file(
            args.input,
            args.id_column,
            args.text_column,
            load_settings(args.config),
            seed_column=args.seed_column,
        )
        args.output.parent.mkdir(parents=True, exist_ok=True)
        table.write_csv(args.output)
        found = table.filter(table["reason_id"] != -1)["reason_id"].n_unique()
        _out(f"{table.height} rows, {found} reasons -> {args.output}")
        return 0
    if args.command == "evaluate":
        from contact_reasons.batch import evaluate_file

        result = evaluate_file(
            args.input,
            args.id_column,
            args.text_column,
            args.label_column,
            load_settings(args.config),
            seed_column=args.seed_column,
        )
        _out(json.dumps(result, indent=2))
        return 0
    if args.command in ("redact", "purge"):
        return _maintain(args)
    from contact_reasons import report
    from contact_reasons.storage import Database

    language = args.language or load_settings(args.config).report.language
    with Database(args.db, read_only=True) as db:
        if args.command == "report" and args.format in ("html", "xlsx"):
            _write_report(db, args, language)
        elif args.command == "report":
            week, table = report.top_reasons(db, args.week, language)
            text = report.render_top_reasons(week, table, args.format, args.top)
            if args.format == "table":
                alerts = report.week_alerts(db, week, language=language)
                text += "\n\n" + report.render_week_alerts(week, alerts)
            if args.output is None:
                _out(text)
            else:
                _write_text(args.output, text)
                _out(f"report ({args.format}, week {week}) -> {args.output}")
        else:
            _out(report.render_faq_gaps(report.faq_gaps(db, language), args.format, args.top))
    return 0


def _write_report(db: Database, args: argparse.Namespace, language: str | None) -> None:
    from contact_reasons import report
    from contact_reasons.report_html import render_html

    if args.output is None:
        raise ContactReasonsError(f"report --format {args.format} needs --output FILE")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.format == "xlsx":
        week = report.write_xlsx(db, args.week, args.output, language)
    else:
        _write_text(args.output, render_html(db, args.week, language=language))
        week = args.week or str(db.latest_week())
    _out(f"report ({args.format}, week {week}) -> {args.output}")


def _write_text(path: Path, text: str) -> None:
    """Write a report file whole or not at all (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    partial.replace(path)


def _maintain(args: argparse.Namespace) -> int:
    from contact_reasons import privacy
    from contact_reasons.errors import StorageError
    from contact_reasons.storage import Database

    if not args.db.exists():
        raise StorageError(f"{args.db}: no database here")
    before = privacy.parse_day(args.before) if args.command == "purge" else None
    with Database(args.db) as db:
        if before is not None:
            counts = privacy.purge_database(db, before)
            verb = f"deleted (calls started before {args.before})"
        else:
            counts = privacy.redact_database(db)
            verb = "changed (embeddings: stale cached vectors dropped)"
    lines = [f"{args.db}: rows {verb}"]
    lines += [f"  {table:<32} {n:>8}" for table, n in counts.items()]
    _out("\n".join(lines))
    return 0


def _reasons(args: argparse.Namespace) -> int:
    import polars as pl

    from contact_reasons import curation
    from contact_reasons.config import load_settings
    from contact_reasons.storage import Database

    act = args.action
    # Every action too: opening a missing file would create an empty database (and its folders).
    if not Path(args.db).exists():
        from contact_reasons.errors import StorageError

        raise StorageError(f"{args.db}: no database here; run `contact-reasons run` first")
    with Database(args.db) as db:
        if act is None:
            _out(curation.render_reasons(curation.list_reasons(db), args.format))
            return 0
        if act == "history":
            _out(curation.render_history(curation.history(db), args.format))
            return 0
        ids = getattr(args, "reason_ids", None) or (
            [args.reason_id] if hasattr(args, "reason_id") else []
        )
        settings = load_settings(args.config) if getattr(args, "config", None) else None
        merged_into = None
        if act == "restore" and ids:
            row = db.catalogue().filter(pl.col("reason_id") == int(ids[0]))
            if row.height and row["status"][0] == "merged":
                merged_into = row["merged_into"][0]
        event = curation.decide(
            db,
            act.replace("-", "_"),
            ids,
            name=getattr(args, "name", None),
            by=args.by,
            settings=settings,
        )
        line = f"{act} {' '.join(str(i) for i in ids)}".strip() + f": done (event {event})"
        if merged_into is not None:
            line += (
                f"; its calls so far stay with reason {merged_into}, its new calls are its own "
                "again (to take the merge back with its calls, `reasons undo` a merge that is "
                "the last decision)"
            )
        from contact_reasons.redact import redact_text

        if act == "rename":
            stored = redact_text(args.name).strip()
            if stored != args.name.strip():
                line += f"; stored as {stored!r} (personal data redacted)"
        given_by = (getattr(args, "by", None) or "").strip()
        if given_by:
            stored_by = curation.who(given_by)
            if stored_by != given_by:
                line += f"; --by stored as {stored_by!r} (personal data redacted)"
        _out(line)
    return 0


def _run_summary(summary: dict[str, object]) -> str:
    timings = summary.get("timings", {})
    total = sum(timings.values()) if isinstance(timings, dict) else 0.0
    return (
        f"run {summary['run_id']}: read {summary['rows_read']} rows, stored "
        f"{summary['rows_stored']} ({summary['rows_new']} new), quarantined "
        f"{summary['rows_quarantined']}, duplicates {summary['rows_duplicate']}; "
        f"{_files_not_read(summary)}"
        f"{summary['reasons_found']} reasons in {summary['calls_clustered']} calls "
        f"({float(summary['unexplained_share']) * 100:.1f}% unexplained); "  # type: ignore[arg-type]
        f"{summary['faq_gaps']} FAQ gaps; {total:.0f} s"
        f"{_not_read_lines(summary)}"
        f"{_quarantined_lines(summary)}"
    )


def _quarantined_lines(summary: dict[str, object]) -> str:
    """The first quarantined rows with their reasons, and where the rest are."""
    first = summary.get("quarantined_first") or []
    assert isinstance(first, list)
    lines = "".join(f"\n  quarantined: {reason}" for reason in first)
    count = summary.get("rows_quarantined") or 0
    assert isinstance(count, int)
    if count > len(first):
        lines += f"\n  ... and {count - len(first)} more: the `quarantine` table has every row"
    return lines


def _files_not_read(summary: dict[str, object]) -> str:
    count = summary.get("files_rejected") or 0
    if not count:
        return ""
    return f"{count} {'file' if count == 1 else 'files'} not read (below); "


def _not_read_lines(summary: dict[str, object]) -> str:
    reasons = summary.get("files_not_read") or []
    assert isinstance(reasons, list)
    return "".join(f"\n  not read: {reason}" for reason in reasons)


def _out(text: str) -> None:
    sys.stdout.write(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
