"""The real weekly run: alerts stored, artifacts published, file reports free of identifiers."""

from __future__ import annotations

import re
import zipfile

import polars as pl

from contact_reasons.cli import main
from contact_reasons.storage import Database
from tests.test_leaks import _leaks


def test_run_stores_alerts_and_fills_is_emerging_from_them(weekly_run):
    db_path, summary, _, _ = weekly_run
    with Database(db_path, read_only=True) as db:
        alerts = db.table("alerts")
        stats = db.table("weekly_reason_stats")
    assert summary["alerts"] == alerts.height
    up = alerts.filter(pl.col("kind").is_in(["new", "rising"])).select("week", "reason_id")
    flagged = stats.filter(pl.col("is_emerging")).select("week", "reason_id")
    assert sorted(up.rows()) == sorted(flagged.rows())


def test_run_publishes_top_reasons_and_alerts_artifacts(weekly_run):
    from prefect.client.orchestration import get_client

    # The filter is posted as JSON: this Prefect client sends nulls the server refuses (422).
    keys = ["top-reasons", "alerts", "weekly-top-reasons"]
    body = {"artifacts": {"key": {"any_": keys}}, "limit": 50, "offset": 0, "sort": "CREATED_DESC"}
    with get_client(sync_client=True) as client:
        rows = client.request("POST", "/artifacts/filter", json=body).json()
    found = {}
    for row in rows:
        found.setdefault(row["key"], row)
    assert set(found) == set(keys)
    assert found["top-reasons"]["type"] == "table"
    assert "vs baseline" in str(found["top-reasons"]["data"])
    assert found["alerts"]["type"] == "markdown"
    assert str(found["alerts"]["data"]).startswith("# Alerts, week ")


def test_no_identifier_in_html_or_xlsx_report(weekly_run, tmp_path):
    db_path, _, _, _ = weekly_run
    html, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    assert main(["report", "--db", str(db_path), "--format", "html", "--output", str(html)]) == 0
    assert main(["report", "--db", str(db_path), "--format", "xlsx", "--output", str(xlsx)]) == 0
    page = html.read_text(encoding="utf-8")
    # plotly.js itself is minified code full of digits; only what the report wrote is searched.
    page = re.sub(r"<script[^>]*>/\*\*\s*\* plotly\.js.*?</script>", "", page, flags=re.S)
    assert len(page) < 1_000_000
    assert _leaks(page) == []
    with zipfile.ZipFile(xlsx) as book:
        text = "".join(
            book.read(name).decode("utf-8") for name in book.namelist() if name.endswith(".xml")
        )
    assert _leaks(text) == []
