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
    # The catalogue's human name wins over the name stored with the week; ignored reasons
    # are left out (their calls still count in every share).
    stats = db.query(
        "SELECT s.* REPLACE (coalesce(r.name, s.label) AS label) "
        "FROM weekly_reason_stats s LEFT JOIN reasons r USING (reason_id) "
        "WHERE s.week = ? AND s.calls > 0 AND coalesce(r.status, '') <> 'ignored' "
        "ORDER BY (s.reason_id = -1), s.calls DESC, s.reason_id",
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


def render_faq_gaps(gaps: pl.DataFrame, fmt: ReportFormat = "table", top: int = 15) -> str:
    """Render FAQ recommendations for a web team."""
    gaps = gaps.head(top)
    if fmt == "json":
        return json.dumps(gaps.to_dicts(), ensure_ascii=False, indent=2, default=str)
    if fmt == "csv":
        return gaps.with_columns(pl.col("customer_phrasings").list.join(" | ")).write_csv()
    lines = ["FAQ gaps: pages that would answer calls before the phone rings", ""]
    if gaps.height == 0:
        return "\n".join([*lines, "No gaps: every reason has an FAQ page that answers it."])
    for r in gaps.iter_rows(named=True):
        action = "NEW PAGE" if r["recommendation"] == "new_page" else "IMPROVE PAGE"
        lines.append(
            f"{r['rank']:>2}. [{action}] {r['label']} - {r['calls_per_week']:.1f} calls/week, "
            f"~{r['estimated_calls_saved']:.1f} saved/week"
        )
        lines.append(f"    Suggested question: {r['suggested_title']}")
        if r["best_doc_title"]:
            lines.append(
                f"    Closest page: {r['best_doc_title']} ({r['best_doc_id']}, "
                f"margin {r['margin']:+.3f})"
            )
        for phrase in r["customer_phrasings"][:3]:
            lines.append(f'    "{_cut(phrase, 110)}"')
        lines.append("")
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
