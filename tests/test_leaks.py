"""No planted identifier survives anywhere: tables, saved model files, reports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from contact_reasons.storage import TABLES, Database
from tests.conftest import PLANTED, run_cli


def _needles(value: str) -> list[str]:
    digits = re.sub(r"\D", "", value)
    needles = [value, value.replace(" ", "")]
    if len(digits) >= 8:
        needles.append(digits)
    return sorted(set(needles))


def _leaks(haystack: str) -> list[str]:
    compact = re.sub(r"[\s.\-]", "", haystack)
    lower = haystack.lower()  # topic keywords are lower-cased: "solberg" is a leak too
    found = []
    for kind, value in PLANTED.items():
        for needle in _needles(value):
            if (
                needle in haystack
                or (needle.isdigit() and needle in compact)
                or (not any(c.isdigit() for c in needle) and needle.lower() in lower)
            ):
                found.append(f"{kind}={value!r}")
                break
    return found


def test_planted_identifiers_were_really_read(weekly_run):
    db_path, summary, _, _ = weekly_run
    with Database(db_path, read_only=True) as db:
        planted = db.query("SELECT count(*) AS n FROM calls WHERE call_id LIKE 'planted-%'")
        bad = db.query("SELECT count(*) AS n FROM quarantine WHERE record LIKE '%bad-%'")
    assert planted["n"][0] == 3 * len(PLANTED)
    assert bad["n"][0] == len(PLANTED)
    assert summary["rows_quarantined"] >= len(PLANTED)


@pytest.mark.parametrize("table", TABLES)
def test_no_identifier_in_any_table(weekly_run, table):
    db_path, _, _, _ = weekly_run
    with Database(db_path, read_only=True) as db:
        frame = db.table(table)
    text = json.dumps(frame.to_dicts(), ensure_ascii=False, default=str)
    assert _leaks(text) == [], f"{table} holds planted identifiers"


def test_no_identifier_in_saved_model_files(weekly_run):
    _, summary, overrides, _ = weekly_run
    model_dir = Path(overrides["storage"]["model_dir"]) / summary["reason_model_id"]
    files = [p for p in model_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="ignore")
        assert _leaks(text) == [], f"{path.name} holds planted identifiers"


@pytest.mark.parametrize("command", ["report", "faq"])
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_no_identifier_in_reports(weekly_run, command, fmt):
    db_path, _, _, _ = weekly_run
    out = run_cli(command, "--db", str(db_path), "--format", fmt)
    assert out.stdout.strip()
    assert _leaks(out.stdout + out.stderr) == []
