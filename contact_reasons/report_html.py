"""The weekly report as one self-contained HTML file: tables, a trend chart, alerts, FAQ gaps.

The chart is Plotly with plotly.js inlined, so the file opens offline and fetches nothing. Every
piece of text is HTML-escaped (it is redacted already, but it is still customer text).
"""

from __future__ import annotations

from html import escape
from typing import Any

import plotly.graph_objects as go
import polars as pl

from contact_reasons import report
from contact_reasons.storage import Database

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #1d2733; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid #dde3ea;
         vertical-align: top; }
th { background: #f2f5f8; } td.num, th.num { text-align: right; white-space: nowrap; }
.ex { color: #5b6b7c; font-size: 0.8rem; }
.kind { font-weight: 600; } .new, .rising { color: #b3261e; } .falling { color: #1b6e3a; }
.muted { color: #5b6b7c; }
"""


def _weak_note(table: pl.DataFrame) -> str:
    if "weak_name" not in table.columns or not table["weak_name"].fill_null(False).any():
        return ""
    return f'<p class="muted">{escape(report.WEAK_NOTE)}</p>'


def render_html(
    db: Database,
    week: str | None = None,
    top: int = 15,
    trend_top: int = 8,
    language: str | None = None,
) -> str:
    """Return the report of `week` (default: the latest) as a self-contained HTML page.

    Reason names are as a reader of `language` is shown them (`report.reason_display`).
    """
    week, table = report.top_reasons(db, week, language)
    explained = table.filter(pl.col("reason_id") != -1)
    ids = explained["reason_id"].head(trend_top).to_list()
    trend = report.trend(db, ids, language=language)
    alerts = report.week_alerts(db, week, weeks=4, language=language)
    this_week = alerts.filter(pl.col("week") == week).height
    gaps = report.faq_gap_table(db, language)
    total = report.week_total(table, " (", ")")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Contact reasons, week {escape(week)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Contact reasons, week {escape(week)}</h1>",
        f'<p class="muted">{escape(total)}; {this_week} alert(s) this week.</p>',
        "<h2>Top reasons</h2>",
        _top_table(table.head(top)),
        _rest(table, top),
        _weak_note(table.head(top)),
        f"<h2>Trend, last {trend['week'].n_unique()} weeks</h2>",
        _trend_chart(trend),
        "<h2>Alerts, last 4 weeks</h2>",
        _alerts_table(alerts),
        "<h2>FAQ gaps</h2>",
        _faq_table(gaps),
        "</body></html>",
    ]
    return "\n".join(parts)


def _rest(table: pl.DataFrame, top: int) -> str:
    """What the top table leaves out, so that its rows and the week's total add up."""
    rest = table.slice(top)
    if rest.height == 0:
        return ""
    unexplained = int(rest.filter(pl.col("reason_id") == -1)["calls"].sum())
    reasons = rest.filter(pl.col("reason_id") != -1).height
    what = f"{reasons} more reasons" + (
        f" and {unexplained} unexplained calls" if unexplained else ""
    )
    return (
        f'<p class="muted">… {what} with {int(rest["calls"].sum())} calls '
        "(report --format csv lists them all)</p>"
    )


def _top_table(table: pl.DataFrame) -> str:
    head = (
        "<tr><th class=num>#</th><th>reason</th><th class=num>calls</th>"
        "<th class=num>share</th><th class=num>vs last week</th>"
        "<th class=num>vs baseline</th><th>examples</th></tr>"
    )
    rows = []
    for i, r in enumerate(table.iter_rows(named=True), start=1):
        examples = "".join(f'<div class="ex">{escape(str(e))}</div>' for e in r["examples"][:2])
        flag = (
            ' <span class="kind rising">emerging</span>'
            if r["is_emerging"]
            else ' <span class="kind rising">still rising</span>'
            if r.get("still_rising")
            else ""
        )
        rows.append(
            f"<tr><td class=num>{i}</td><td>{escape(str(r['label']))}{flag}</td>"
            f"<td class=num>{r['calls']}</td><td class=num>{r['share'] * 100:.1f}%</td>"
            f"<td class=num>{_pct(r.get('change_last_week_pct'))}</td>"
            f"<td class=num>{_pct(r['change_pct'])}</td><td>{examples}</td></tr>"
        )
    return f'<table id="top-reasons">{head}{"".join(rows)}</table>'


def _trend_chart(trend: pl.DataFrame) -> str:
    if trend.height == 0:
        return '<p class="muted">No weekly statistics to chart.</p>'
    fig = go.Figure()
    for (rid,), series in trend.group_by(["reason_id"], maintain_order=True):
        series = series.sort("week")
        fig.add_trace(
            go.Scatter(
                x=series["week"].to_list(),
                y=series["calls"].to_list(),
                mode="lines+markers",
                name=escape(str(series["label"][0]))[:60],
                hovertemplate="%{x}: %{y} calls<extra>" + escape(str(rid)) + "</extra>",
            )
        )
    fig.update_layout(
        height=420,
        margin={"l": 40, "r": 10, "t": 10, "b": 40},
        yaxis_title="calls per week",
        legend={"orientation": "h", "y": -0.2},
        template="plotly_white",
    )
    config: dict[str, Any] = {"displaylogo": False, "responsive": True}
    return str(
        fig.to_html(
            include_plotlyjs=True,
            full_html=False,
            config=config,
            div_id="trend-chart",
            include_mathjax=False,
        )
    )


def _alerts_table(alerts: pl.DataFrame) -> str:
    if alerts.height == 0:
        return '<p class="muted">No reason rose, fell or appeared beyond chance lately.</p>'
    head = (
        "<tr><th>week</th><th>kind</th><th>reason</th><th class=num>calls</th>"
        "<th class=num>expected</th><th class=num>q</th><th>evidence</th></tr>"
    )
    rows = [
        f"<tr><td>{escape(str(r['week']))}</td>"
        f'<td class="kind {escape(str(r["kind"]))}">{escape(str(r["kind"]))}</td>'
        f"<td>{escape(str(r['label']))}</td><td class=num>{r['calls']}</td>"
        f"<td class=num>{r['expected_calls']:.1f}</td><td class=num>{r['q_value']:.2g}</td>"
        f"<td>{escape(str(r['evidence']))}</td></tr>"
        for r in alerts.iter_rows(named=True)
    ]
    return f'<table id="alerts">{head}{"".join(rows)}</table>'


def _faq_table(gaps: pl.DataFrame) -> str:
    if gaps.height == 0:
        return '<p class="muted">No FAQ gaps stored.</p>'
    head = "".join(
        f"<th>{escape(_PAGE_HEADER if c == 'best_doc_title' else c.replace('_', ' '))}</th>"
        for c in gaps.columns
    )
    rows = []
    for r in gaps.iter_rows(named=True):
        # As the terminal says it: a new page's nearest page does not answer its calls.
        role = _PAGE_ROLE.get(str(r.get("recommendation")))
        if r.get("best_doc_title") and role:
            r["best_doc_title"] = f"{role}: {r['best_doc_title']}"
        cells = "".join(f"<td>{_cell(v)}</td>" for v in r.values())
        rows.append(f"<tr>{cells}</tr>")
    return f'<table id="faq-gaps"><tr>{head}</tr>{"".join(rows)}</table>'


_PAGE_HEADER = "page"
_PAGE_ROLE = {
    "new_page": "nearest, does not answer",
    "improve_page": "to improve",
    "findability": "to link",
}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "".join(f'<div class="ex">{escape(str(v))}</div>' for v in value[:3])
    if isinstance(value, float):
        return f"{value:.1f}"
    return escape(str(value))


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:+.0f}%"
