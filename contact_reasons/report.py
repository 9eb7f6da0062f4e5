"""What ops and web teams read: the weekly top-reasons table and the FAQ-gap list."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import polars as pl

from contact_reasons.errors import StorageError
from contact_reasons.storage import Database

ReportFormat = Literal["table", "csv", "json"]
_WEEK = re.compile(r"^\d{4}-W\d{2}$")


def top_reasons(db: Database, week: str | None = None) -> tuple[str, pl.DataFrame]:
    """Return the week (latest when None) and its reasons, most calls first, with examples.

    Raises:
        StorageError: the week is malformed or has no statistics.
    """
    if week is None:
        week = db.latest_week()
        if week is None:
            raise StorageError(f"{db.path}: no weekly statistics yet; run the weekly flow first")
    elif not _WEEK.match(week):
        raise StorageError(f"week {week!r} is not an ISO week like 2026-W47")
    stats = db.query(
        "SELECT * FROM weekly_reason_stats WHERE week = ? AND calls > 0 "
        "ORDER BY (reason_id = -1), calls DESC, reason_id",
        [week],
    )
    if stats.height == 0:
        weeks = db.query("SELECT DISTINCT week FROM weekly_reason_stats ORDER BY week")
        raise StorageError(
            f"no statistics for week {week}; weeks with statistics: "
            f"{', '.join(weeks['week'].to_list()) or 'none'}"
        )
    ids = stats.select("reason_id", "example_call_ids").explode("example_call_ids")
    ids = ids.drop_nulls().rename({"example_call_ids": "call_id"}).with_row_index("pos")
    texts = db.query(
        "SELECT call_id, reason_text FROM calls WHERE list_contains(?, call_id)",
        [ids["call_id"].to_list()],
    )
    examples = (
        ids.join(texts, on="call_id", how="left")
        .sort("pos")
        .group_by("reason_id", maintain_order=True)
        .agg(pl.col("reason_text").drop_nulls().alias("examples"))
    )
    table = stats.join(examples, on="reason_id", how="left").with_columns(
        pl.col("examples").fill_null([])
    )
    return week, table


def render_top_reasons(
    week: str, table: pl.DataFrame, fmt: ReportFormat = "table", top: int | None = 20
) -> str:
    """Render the weekly table as an aligned text table, CSV or JSON.

    The text table shows the `top` reasons (emerging ones always) and sums up the rest; CSV
    and JSON hold every reason.
    """
    rows = table.select(
        "reason_id",
        "label",
        "calls",
        (pl.col("share") * 100).round(1).alias("share_pct"),
        pl.col("baseline_calls").round(1),
        pl.col("change_pct").mul(100).round(0).alias("change_pct"),
        "is_emerging",
        "p_value",
        "examples",
    )
    if fmt == "json":
        return json.dumps({"week": week, "reasons": rows.to_dicts()}, ensure_ascii=False, indent=2)
    if fmt == "csv":
        flat = rows.with_columns(pl.col("examples").list.join(" | ")).insert_column(
            0, pl.lit(week).alias("week")
        )
        return flat.write_csv()
    lines = [f"Top contact reasons, week {week} ({int(table['calls'].sum())} calls)", ""]
    hidden = rows.with_row_index("pos").filter(
        (pl.col("pos") >= (top if top is not None else rows.height)) & ~pl.col("is_emerging")
    )
    shown = rows.join(hidden.select("reason_id"), on="reason_id", how="anti")
    header = f"{'#':>3}  {'reason':<44} {'calls':>6} {'share':>6} {'4-wk avg':>8} {'change':>7}"
    lines += [header, "-" * len(header)]
    for i, r in enumerate(shown.iter_rows(named=True), start=1):
        change = "new" if r["change_pct"] is None and r["calls"] else f"{r['change_pct']:+.0f}%"
        base = "-" if r["baseline_calls"] is None else f"{r['baseline_calls']:.1f}"
        flag = "  EMERGING" if r["is_emerging"] else ""
        lines.append(
            f"{i:>3}  {_cut(r['label'], 44):<44} {r['calls']:>6} {r['share_pct']:>5.1f}% "
            f"{base:>8} {change:>7}{flag}"
        )
        for example in r["examples"][:2]:
            lines.append(f"{'':>5}  e.g. {_cut(example, 90)}")
    if hidden.height:
        lines.append(
            f"{'':>3}  ... {hidden.height} more reasons with {int(hidden['calls'].sum())} calls "
            "(--format csv or json lists them all)"
        )
    emerging = rows.filter(pl.col("is_emerging"))
    lines.append("")
    if emerging.height:
        lines.append(
            "Emerging: "
            + "; ".join(
                f"{r['label']} ({r['calls']} calls, p={r['p_value']:.1g})"
                for r in emerging.iter_rows(named=True)
            )
        )
    else:
        lines.append("Emerging: none this week")
    return "\n".join(lines)


def faq_gaps(db: Database) -> pl.DataFrame:
    """Return the stored FAQ recommendations, best first."""
    return db.query("SELECT * FROM faq_recommendations ORDER BY rank")


_ACTIONS = {
    "new_page": "NEW PAGE",
    "improve_page": "IMPROVE PAGE",
    "findability": "MAKE FINDABLE",
    "covered": "COVERED",
}
_LIST_COLUMNS = (
    "customer_phrasings",
    "unanswered_questions",
    "key_terms",
    "example_call_ids",
)


def render_faq_gaps(gaps: pl.DataFrame, fmt: ReportFormat = "table", top: int = 15) -> str:
    """Render FAQ recommendations for a web team: the `top` gaps, then the pages that work.

    CSV and JSON hold the `top` rows of every kind, covered reasons included.
    """
    if fmt == "json":
        return json.dumps(gaps.head(top).to_dicts(), ensure_ascii=False, indent=2, default=str)
    if fmt == "csv":
        lists = [c for c in _LIST_COLUMNS if c in gaps.columns]
        return gaps.head(top).with_columns(pl.col(c).list.join(" | ") for c in lists).write_csv()
    kinds = gaps["recommendation"] if gaps.height else pl.Series([], dtype=pl.String)
    open_gaps = gaps.filter(kinds != "covered").head(top)
    lines = ["FAQ gaps: pages that would answer calls before the phone rings", ""]
    if open_gaps.height == 0:
        lines.append("No gaps: the FAQ answers every reason's calls.")
    for r in open_gaps.iter_rows(named=True):
        lines += _gap_lines(r)
    working = gaps.filter(kinds == "covered")
    if working.height:
        lines.append("Answered by the FAQ (calls per week before -> after the page's date):")
        for r in working.iter_rows(named=True):
            lines.append(f"  - {_cut(r['label'], 40)}: {_page(r)}; {_before_after(r)}")
    return "\n".join(lines)


def _gap_lines(r: dict[str, Any]) -> list[str]:
    get = r.get
    action = _ACTIONS.get(r["recommendation"], r["recommendation"])
    lines = [
        f"{r['rank']:>2}. [{action}] {r['suggested_title']}",
        f"    reason: {r['label']} ({r['calls_per_week']:.1f} calls/week, trend "
        f"{get('trend') or '-'}{_pct(get('trend_pct'))}; callers {get('caller_languages') or '-'}"
        f"; write it in {get('language') or '-'})",
        f"    could save ~{r['estimated_calls_saved']:.1f} calls/week: "
        f"{get('savings_assumption') or ''}",
    ]
    if get("coverage") is not None:
        lines.append(
            f"    FAQ answers {r['coverage']:.0%} of these calls, touches {get('touched') or 0:.0%}"
        )
    if get("best_url") and r["recommendation"] == "new_page":
        lines.append(f"    nearest page (does not answer): {_page(r)}")
    elif get("best_url"):
        what = "page to improve" if r["recommendation"] == "improve_page" else "page to link"
        lines.append(f"    {what}: {_page(r)}; {_before_after(r)}")
    if get("key_terms"):
        lines.append(f"    key terms: {', '.join(r['key_terms'][:8])}")
    open_questions = get("unanswered_questions") or []
    if open_questions and r["recommendation"] == "improve_page":
        lines.append("    what callers ask that the page leaves open:")
        lines += [f"      ? {_cut(q, 110)}" for q in open_questions[:3]]
    for phrase in (r.get("customer_phrasings") or [])[:3]:
        lines.append(f'    "{_cut(phrase, 110)}"')
    lines.append("")
    return lines


def _page(r: dict[str, Any]) -> str:
    if not r.get("best_url"):
        return "no page"
    return f"{r.get('best_doc_title') or ''} > {r.get('best_question') or ''} ({r['best_url']})"


def _before_after(r: dict[str, Any]) -> str:
    day, source = r.get("page_date"), r.get("page_date_source")
    if day is None:
        return "page date unknown"
    before, after = r.get("calls_per_week_before"), r.get("calls_per_week_after")
    said = f"page dated {day} ({source})"
    if before is None or after is None:
        return f"{said}; no weeks on both sides of it yet"
    change = f" ({(after - before) / before:+.0%})" if before else ""
    return f"{said}: {before:.1f} -> {after:.1f} calls/week{change}"


def _pct(value: float | None) -> str:
    return "" if value is None else f" {value:+.0f}%"


def markdown_faq_gaps(gaps: pl.DataFrame, top: int = 15) -> str:
    """The FAQ gaps as a Markdown table, for the Prefect artifact `faq-recommendations`."""
    lines = [
        "# FAQ gaps",
        "",
        "| # | kind | suggested page title | reason | calls/week | saved/week | trend | "
        "coverage | page | before -> after |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in gaps.head(top).iter_rows(named=True):
        before, after = r.get("calls_per_week_before"), r.get("calls_per_week_after")
        ba = "-" if before is None or after is None else f"{before:.1f} -> {after:.1f}"
        cells = [
            str(r["rank"]),
            r["recommendation"],
            r["suggested_title"],
            r["label"],
            f"{r['calls_per_week']:.1f}",
            f"{r['estimated_calls_saved']:.1f}",
            str(r.get("trend") or "-"),
            "-" if r.get("coverage") is None else f"{r['coverage']:.0%}",
            str(r.get("best_url") or "-"),
            ba,
        ]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    if gaps.height == 0:
        lines.append("| - | - | no reasons | - | - | - | - | - | - | - |")
    return "\n".join(lines)


def markdown_summary(summary: dict[str, Any]) -> str:
    """A run summary as Markdown, for the Prefect artifact."""
    lines = ["# contact-reasons run", "", "| metric | value |", "|---|---|"]
    for key, value in summary.items():
        if key != "timings":
            lines.append(f"| {key} | {value} |")
    lines += ["", "| stage | seconds |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary.get("timings", {}).items()]
    return "\n".join(lines)


def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
