"""What ops and web teams read: the weekly top-reasons table and the FAQ-gap list."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any, Literal

import polars as pl
import xlsxwriter
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from contact_reasons.alerts import ALERT_SCHEMA
from contact_reasons.alerts import markdown as alerts_md
from contact_reasons.errors import StorageError
from contact_reasons.faq import EXCLUDED_STATUSES
from contact_reasons.naming import WEAK_MARKER, mark_weak, shown_names
from contact_reasons.storage import Database

ReportFormat = Literal["table", "csv", "json"]
FileFormat = Literal["html", "xlsx"]
_WEEK = re.compile(r"^\d{4}-W\d{2}$")


def reason_display(db: Database, language: str | None = None) -> pl.DataFrame:
    """Each reason's name as reports show it to a reader of `language` (None: the default).

    `reason_id`, `label` (a human name, else the name in `language`, else the default one; a
    name with weak evidence carries `naming.WEAK_MARKER`), `name_share` and `weak_name`.
    """
    reasons = db.query("SELECT * FROM reasons")
    keep = [c for c in ("reason_id", "label", "name") if c in reasons.columns]
    names = db.query("SELECT * FROM reason_names") if _has_table(db, "reason_names") else None
    shown = shown_names(reasons.select(keep), names, language)
    marked = [
        mark_weak(label, weak)
        for label, weak in zip(shown["label"].to_list(), shown["weak_name"].to_list(), strict=True)
    ]
    return shown.with_columns(pl.Series("label", marked, dtype=pl.String))


def localise(
    db: Database, frame: pl.DataFrame, language: str | None, *, evidence: bool = False
) -> pl.DataFrame:
    """Replace `label` by the name shown to a reader of `language` (see `reason_display`).

    Rows of reasons the catalogue lacks (the unexplained) keep their label. With `evidence`,
    the `name_share` and `weak_name` columns are added.
    """
    if "reason_id" not in frame.columns or "label" not in frame.columns:
        return frame
    shown = reason_display(db, language).rename({"label": "_shown"})
    dtype = frame.schema["reason_id"]
    out = frame.join(
        shown.with_columns(pl.col("reason_id").cast(dtype)),
        on="reason_id",
        how="left",
        maintain_order="left",
    ).with_columns(pl.coalesce("_shown", "label").alias("label"))
    out = out.drop("_shown")
    return out if evidence else out.drop("name_share", "weak_name")


WEAK_NOTE = (
    f"{WEAK_MARKER.strip()} after a name: weak evidence, few of the reason's calls use the "
    "name's words (reason_names.share)"
)


def top_reasons(
    db: Database, week: str | None = None, language: str | None = None
) -> tuple[str, pl.DataFrame]:
    """Return the week (latest when None) and its reasons, most calls first, with examples.

    Names are as a reader of `language` is shown them (`reason_display`), with their evidence
    (`name_share`, `weak_name`). `week_calls` is every call of the week, those of ignored
    reasons (left out of the rows, counted in every share) included.

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
        "SELECT s.* REPLACE (coalesce(r.name, s.label) AS label), "
        "(SELECT sum(calls) FROM weekly_reason_stats WHERE week = s.week) AS week_calls "
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
    last = db.query(
        "SELECT reason_id, calls AS last_week_calls FROM weekly_reason_stats "
        "WHERE week = (SELECT max(week) FROM weekly_reason_stats WHERE week < ?)",
        [week],
    )
    table = (
        stats.join(examples, on="reason_id", how="left")
        .join(last, on="reason_id", how="left")
        .with_columns(
            pl.col("examples").fill_null([]),
            pl.when(pl.col("last_week_calls") > 0)
            .then((pl.col("calls") - pl.col("last_week_calls")) / pl.col("last_week_calls"))
            .otherwise(None)
            .alias("change_last_week_pct"),
        )
    )
    table = table.join(ongoing_surges(db, week, table), on="reason_id", how="left").with_columns(
        pl.col("still_rising").fill_null(False)
    )
    return week, localise(db, table, language, evidence=True)


SURGE_WEEKS = 2
"""A surge alerted within this many weeks before the report's week is followed up."""


def ongoing_surges(db: Database, week: str, table: pl.DataFrame) -> pl.DataFrame:
    """Reasons whose surge goes on after its alerts.

    Alerted rising or new in one of the `SURGE_WEEKS` weeks before `week`, not alerted this
    week, and with at least as many calls as in the latest alerted week. A surge raises its
    own baseline, so its third week is often no alert any more (40 calls after 9 and 22):
    the reader still sees it.

    Returns `reason_id`, `still_rising`, `alerted_weeks` (oldest first), `alerted_calls`
    (the calls of the latest alerted week).
    """
    empty = pl.DataFrame(
        schema={
            "reason_id": pl.Int32,
            "still_rising": pl.Boolean,
            "alerted_weeks": pl.List(pl.String),
            "alerted_calls": pl.Int64,
        }
    )
    found = week_alerts(db, week, SURGE_WEEKS + 1)
    found = found.filter((pl.col("week") < week) & pl.col("kind").is_in(["rising", "new"]))
    if found.height == 0:
        return empty
    surges = (
        found.sort("week")
        .group_by("reason_id")
        .agg(
            pl.col("week").unique(maintain_order=True).alias("alerted_weeks"),
            pl.col("calls").last().cast(pl.Int64).alias("alerted_calls"),
        )
        .join(table.select("reason_id", "calls", "is_emerging"), on="reason_id")
        .filter(~pl.col("is_emerging") & (pl.col("calls") >= pl.col("alerted_calls")))
    )
    return surges.select(
        pl.col("reason_id").cast(pl.Int32),
        pl.lit(True).alias("still_rising"),
        "alerted_weeks",
        "alerted_calls",
    )


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
        *[c for c in ("last_week_calls",) if c in table.columns],
        *[
            pl.col(c).mul(100).round(0).alias(c)
            for c in ("change_last_week_pct",)
            if c in table.columns
        ],
        pl.col("baseline_calls").round(1),
        pl.col("change_pct").mul(100).round(0).alias("change_pct"),
        "is_emerging",
        *[c for c in ("still_rising", "alerted_weeks") if c in table.columns],
        "p_value",
        "examples",
        *[c for c in ("name_share", "weak_name") if c in table.columns],
    )
    if fmt == "json":
        return json.dumps({"week": week, "reasons": rows.to_dicts()}, ensure_ascii=False, indent=2)
    if fmt == "csv":
        flat = rows.with_columns(
            pl.col("examples").list.join(" | "),
            *[pl.col(c).list.join(" ") for c in ("alerted_weeks",) if c in rows.columns],
        ).insert_column(0, pl.lit(week).alias("week"))
        return flat.write_csv()
    hidden = rows.with_row_index("pos").filter(
        (pl.col("pos") >= (top if top is not None else rows.height)) & ~pl.col("is_emerging")
    )
    shown = rows.join(hidden.select("reason_id"), on="reason_id", how="anti")
    grid = Table(
        title=f"Top contact reasons, week {week} ({week_total(table, '; ')})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    grid.add_column("#", justify="right")
    grid.add_column("reason", overflow="fold", max_width=60)
    grid.add_column("calls", justify="right")
    grid.add_column("share", justify="right")
    grid.add_column("vs last wk", justify="right")
    grid.add_column("4-wk avg", justify="right")
    grid.add_column("vs 4-wk avg", justify="right")
    grid.add_column("", style="bold")
    for i, r in enumerate(shown.iter_rows(named=True), start=1):
        if r["change_pct"] is not None:
            change = f"{r['change_pct']:+.0f}%"
        else:  # no calls in the past weeks: new; too few past weeks for an average: none yet
            change = "-" if r["baseline_calls"] is None else "new"
        base = "-" if r["baseline_calls"] is None else f"{r['baseline_calls']:.1f}"
        last = r.get("change_last_week_pct")
        last_week = "-" if last is None else f"{last:+.0f}%"
        reason = escape(_cut(r["label"], 60))
        for example in r["examples"][:2]:
            reason += f"\n[dim]e.g. {escape(_cut(example, 80))}[/dim]"
        grid.add_row(
            str(i),
            reason,
            str(r["calls"]),
            f"{r['share_pct']:.1f}%",
            last_week,
            base,
            change,
            "EMERGING" if r["is_emerging"] else "STILL RISING" if r.get("still_rising") else "",
        )
    lines = [_rich_text(grid)]
    if hidden.height:
        unexplained = hidden.filter(pl.col("reason_id") == -1)
        reasons = hidden.filter(pl.col("reason_id") != -1)
        parts = (
            [f"{reasons.height} more reasons with {int(reasons['calls'].sum())} calls"]
            if reasons.height
            else []
        )
        if unexplained.height:  # calls no reason explains: not one more reason
            parts.append(f"{int(unexplained['calls'].sum())} unexplained calls")
        more = ", and ".join(parts)
        lines.append(f"     ... {more} (--format csv or json lists them all)")
    emerging = rows.filter(pl.col("is_emerging"))
    lines.append("")
    if emerging.height:
        lines.append(
            "Emerging: "
            + "; ".join(
                f"{r['label']} ({r['calls']} calls)" for r in emerging.iter_rows(named=True)
            )
        )
    else:
        lines.append("Emerging: none this week")
    if "still_rising" in rows.columns:
        going_on = rows.filter(pl.col("still_rising"))
        if going_on.height:
            lines.append(
                "Still rising after an alert: "
                + "; ".join(
                    f"{r['label']} ({r['calls']} calls; alerted {', '.join(r['alerted_weeks'])})"
                    for r in going_on.iter_rows(named=True)
                )
            )
    if "weak_name" in shown.columns and shown["weak_name"].fill_null(False).any():
        lines.append(WEAK_NOTE)
    return "\n".join(lines)


def week_total(table: pl.DataFrame, sep: str = " (", end: str = "") -> str:
    """The week's calls as "N calls", and how many are in ignored reasons (not in `table`)."""
    shown = int(table["calls"].sum())
    total = shown
    if "week_calls" in table.columns and table.height:
        total = int(table["week_calls"].cast(pl.Int64).max() or shown)  # type: ignore[arg-type]
    if total <= shown:
        return f"{shown} calls"
    return f"{total} calls{sep}{total - shown} in ignored reasons, not shown{end}"


def render_week_alerts(week: str, alerts: pl.DataFrame) -> str:
    """The week's alerts for the printed report: kind, reason and one line of evidence each."""
    found = alerts.filter(pl.col("week") == week) if alerts.height else alerts
    if found.height == 0:
        return f"Alerts, week {week}: none (no reason rose, fell or appeared beyond chance)"
    lines = [f"Alerts, week {week}:"]
    lines += [
        f"  {r['kind']:<7} {r['label']}: {r['evidence']}" for r in found.iter_rows(named=True)
    ]
    return "\n".join(lines)


def _rich_text(renderable: Table) -> str:
    console = Console(file=io.StringIO(), width=130, color_system=None, force_terminal=False)
    console.print(renderable)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def faq_gaps(db: Database, language: str | None = None) -> pl.DataFrame:
    """Return the stored FAQ recommendations, best first, names as `language` shows them.

    Reasons people have ignored, marked not-FAQ or merged away since the run are left out
    (`without_curated_out`).
    """
    gaps = db.query("SELECT * FROM faq_recommendations ORDER BY rank")
    return localise(db, without_curated_out(db, gaps), language)


def without_curated_out(db: Database, gaps: pl.DataFrame) -> pl.DataFrame:
    """FAQ rows less those of reasons the catalogue now keeps out of the FAQ gaps.

    A run leaves them out itself (`faq.EXCLUDED_STATUSES`); a decision made after the run
    (`reasons ignore`, `not-faq`, `merge`) takes effect in every report at once. The calls of a
    merged reason join the gap of the reason it joined at the next run.
    """
    if gaps.height == 0 or "reason_id" not in gaps.columns:
        return gaps
    out = db.query(
        "SELECT reason_id FROM reasons WHERE list_contains(?, status)", [sorted(EXCLUDED_STATUSES)]
    )
    ids = out["reason_id"].cast(gaps.schema["reason_id"])
    return gaps.filter(~pl.col("reason_id").is_in(ids.implode()))


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
    if gaps.height == 0:  # nothing was compared with the FAQ: no claim about it
        lines.append(
            "No FAQ recommendations yet: no weekly run has finished, or every reason is "
            "ignored or marked not-FAQ."
        )
    elif open_gaps.height == 0:
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
        f"{get('trend') or '-'}{_pct_points(get('trend_pct'))}; "
        f"callers {get('caller_languages') or '-'}"
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
    if before is None and after is None:
        return f"{said}; no weeks on both sides of it yet"
    if before is None:  # no week kept before it: there never will be one
        return f"{said}, before the first week kept: {after:.1f} calls/week since"
    if after is None:
        return (
            f"{said}, after the last week: {before:.1f} calls/week before it, no week after it yet"
        )
    change = f" ({(after - before) / before:+.0%})" if before else ""
    return f"{said}: {before:.1f} -> {after:.1f} calls/week{change}"


def _pct_points(value: float | None) -> str:
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


#: FAQ-gap columns a report shows, in this order, when the table has them.
FAQ_COLUMNS = (
    "rank",
    "label",
    "recommendation",
    "calls_per_week",
    "estimated_calls_saved",
    "suggested_title",
    "best_doc_title",
    "customer_phrasings",
)


def _has_table(db: Database, name: str) -> bool:
    found = db.query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = ?", [name]
    )
    return bool(found["n"][0])


def week_alerts(
    db: Database, week: str | None = None, weeks: int = 1, language: str | None = None
) -> pl.DataFrame:
    """Return the stored alerts of `week` and the `weeks - 1` before it (all when None).

    The latest week comes first, then by kind and strength; names as `language` shows them.
    Alerts of reasons people ignored are left out, as the reasons are from the weekly table.
    """
    if not _has_table(db, "alerts"):
        return pl.DataFrame(schema=ALERT_SCHEMA)
    shown = "a.reason_id NOT IN (SELECT reason_id FROM reasons WHERE status = 'ignored')"
    if week is None:
        found = db.query(
            f"SELECT a.* FROM alerts a WHERE {shown} ORDER BY week, kind, q_value, reason_id"
        )
        return localise(db, found, language)
    found = db.query(
        "WITH w AS (SELECT DISTINCT week FROM weekly_reason_stats WHERE week <= ? "
        "ORDER BY week DESC LIMIT ?) "
        f"SELECT a.* FROM alerts a JOIN w USING (week) WHERE {shown} "
        "ORDER BY a.week DESC, a.kind, a.q_value, a.reason_id",
        [week, weeks],
    )
    return localise(db, found, language)


def faq_gap_table(db: Database, language: str | None = None) -> pl.DataFrame:
    """The FAQ gaps with the columns a reader needs, whichever of them the table has."""
    if not _has_table(db, "faq_recommendations"):
        return pl.DataFrame()
    gaps = db.query("SELECT * FROM faq_recommendations")
    gaps = localise(db, without_curated_out(db, gaps), language)
    if "recommendation" in gaps.columns:  # a covered reason is not a gap
        gaps = gaps.filter(pl.col("recommendation") != "covered")
    if "rank" in gaps.columns:
        gaps = gaps.sort("rank")
    keep = [c for c in FAQ_COLUMNS if c in gaps.columns]
    return gaps.select(keep)


def trend(
    db: Database, reason_ids: list[int], weeks: int = 12, language: str | None = None
) -> pl.DataFrame:
    """Calls per week of the given reasons over the last `weeks` weeks (0 where none)."""
    counts = db.query(
        "WITH w AS (SELECT DISTINCT week FROM weekly_reason_stats ORDER BY week DESC LIMIT ?) "
        "SELECT s.week, s.reason_id, s.label, s.calls FROM weekly_reason_stats s "
        "JOIN w USING (week) WHERE list_contains(?, s.reason_id) ORDER BY s.week, s.reason_id",
        [weeks, reason_ids],
    )
    shown = db.query(
        "SELECT DISTINCT week FROM weekly_reason_stats ORDER BY week DESC LIMIT ?", [weeks]
    )
    labels = localise(db, counts.group_by("reason_id").agg(pl.col("label").first()), language)
    return (
        shown.join(labels, how="cross")
        .join(counts.select("week", "reason_id", "calls"), on=["week", "reason_id"], how="left")
        .with_columns(pl.col("calls").fill_null(0))
        .sort("week", "reason_id")
        .select("week", "reason_id", "label", "calls")
    )


def top_reasons_artifact(
    db: Database, top: int = 15, language: str | None = None
) -> list[dict[str, Any]]:
    """The latest week's top reasons as rows for a Prefect table artifact."""
    week, table = top_reasons(db, language=language)
    rows = table.filter(pl.col("reason_id") != -1).head(top)
    return [
        {
            "week": week,
            "reason": r["label"],
            "calls": r["calls"],
            "share": f"{r['share'] * 100:.1f}%",
            "vs last week": _pct(r["change_last_week_pct"]),
            "vs baseline": _pct(r["change_pct"]),
            "alert": "yes" if r["is_emerging"] else "still rising" if r["still_rising"] else "",
        }
        for r in rows.iter_rows(named=True)
    ]


def alerts_markdown(db: Database, week: str | None = None, language: str | None = None) -> str:
    """The alerts of `week` (default: the latest) as Markdown, for the Prefect artifact."""
    week = week or db.latest_week()
    found = week_alerts(db, week, language=language) if week else pl.DataFrame(schema=ALERT_SCHEMA)
    return alerts_md(found, week)


def write_xlsx(db: Database, week: str | None, path: Path, language: str | None = None) -> str:
    """Write the report as an Excel workbook, one sheet per table; return the week."""
    week, table = top_reasons(db, week, language)
    top = table.select(
        "reason_id",
        "label",
        "calls",
        "share",
        "last_week_calls",
        "change_last_week_pct",
        "baseline_calls",
        "change_pct",
        "is_emerging",
        pl.col("examples").list.join(" | "),
        "name_share",
    )
    ids = table.filter(pl.col("reason_id") != -1)["reason_id"].head(10).to_list()
    trends = trend(db, ids, language=language).pivot(
        on="week", index=["reason_id", "label"], values="calls"
    )
    alerts = week_alerts(db, None, language=language)
    gaps = faq_gap_table(db, language)
    if "customer_phrasings" in gaps.columns:
        gaps = gaps.with_columns(pl.col("customer_phrasings").list.join(" | "))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Shares and changes are fractions (0.078, 3.85): shown as Excel percentages (7.8 %,
    # +385 %), as the text, CSV and JSON reports show them.
    percent = {
        "share": "0.0%",
        "change_last_week_pct": "+0%;-0%;0%",
        "change_pct": "+0%;-0%;0%",
        "name_share": "0%",
    }
    with xlsxwriter.Workbook(str(path)) as book:
        for name, frame in (
            (f"top reasons {week}", top),
            ("trend", trends),
            ("alerts", alerts),
            ("faq gaps", gaps),
        ):
            formats = {c: f for c, f in percent.items() if c in frame.columns}
            frame.write_excel(
                book,
                worksheet=name[:31],
                autofit=True,
                column_formats=formats or None,  # type: ignore[arg-type]
            )
    return week


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:+.0f}%"
