"""Transcripts: parse speaker turns and pick the text that says why the customer called.

A transcript is plain text with speaker prefixes, one turn per line (`Agent: ...`,
`Kunde: ...`), or a JSON list of `{"speaker": ..., "text": ...}` turns. The reason-bearing text is
the summary when there is one (a note-taker already wrote down the reason), else the customer's
first substantive turns: not the greeting, the identity check or small talk.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import polars as pl

CUSTOMER_SPEAKERS = frozenset(
    {"kunde", "customer", "caller", "client", "kund", "innringer", "opkalder", "borger", "user"}
)
AGENT_SPEAKERS = frozenset(
    {
        "agent",
        "medarbejder",
        "medarbeider",
        "rådgiver",
        "radgiver",
        "operator",
        "support",
        "saksbehandler",
        "konsulent",
        "advisor",
        "ansatt",
        "servicemedarbejder",
    }
)
_PREFIX = re.compile(r"^\s*([A-Za-zÆØÅæøåÄÖäöÉé .\-]{2,30}?)\s*:\s*(.*)$")

# Turns that only identify the caller, greet, or agree carry no reason.
_NOT_A_REASON = re.compile(
    r"^\s*(ja|jo|nej|nei|no|yes|ok(ay)?|tak|takk|thanks?( you)?|hej|hei|hello|hi|"
    r"godmorgen|god ?dag|goddag|mhm|super|perfekt|fint|great|det er (rigtigt|korrekt|riktig)|"
    r"that'?s (right|correct)|bye|farvel|ha det)\b[\s,.!]*$",
    re.IGNORECASE,
)
# Closing turns: "Nej det var det, tak for hjælpen", "Nei, det var alt", "That's all, thanks".
_CLOSING = re.compile(
    r"^\W*(nej|nei|no|nope)?\W*(det var (det|alt)|that'?s (it|all)|ellers ikke|ikke (mere|mer))\b"
    r"|\b(tak|takk|mange tak|tusind tak|tusen takk) for (hjælpen|hjelpen|det|nu|i dag)\b"
    r"|\bthanks? (you )?for (your|the) help\b",
    re.IGNORECASE,
)
_IDENTITY = re.compile(
    r"\[(CPR|FNR|PHONE|EMAIL|ACCOUNT)\]|\b(mit navn er|jeg hedder|jeg heter|mitt navn er|"
    r"my name is|født|fødselsdato|date of birth|kundenummer(et)? er|customer number is)\b",
    re.IGNORECASE,
)
_MIN_WORDS = 5
_MAX_REASON_TURNS = 2


@dataclass(frozen=True)
class Turn:
    """One speaker turn."""

    speaker: str
    text: str

    @property
    def is_customer(self) -> bool:
        """Whether the speaker is the customer."""
        return self.speaker.strip().lower() in CUSTOMER_SPEAKERS


def parse_transcript(transcript: str | None) -> list[Turn]:
    """Split a transcript into turns; lines without a prefix continue the previous turn."""
    if not transcript or not transcript.strip():
        return []
    stripped = transcript.strip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, list):
            return [
                Turn(str(t.get("speaker", "")), str(t.get("text", "")).strip())
                for t in data
                if isinstance(t, dict) and str(t.get("text", "")).strip()
            ]
    turns: list[Turn] = []
    for line in stripped.splitlines():
        if not line.strip():
            continue
        match = _PREFIX.match(line)
        known = match and match[1].strip().lower() in CUSTOMER_SPEAKERS | AGENT_SPEAKERS
        if match and known:
            turns.append(Turn(match[1].strip(), match[2].strip()))
        elif turns:
            turns[-1] = Turn(turns[-1].speaker, f"{turns[-1].text} {line.strip()}")
        else:
            turns.append(Turn("", line.strip()))
    return turns


def customer_reason_text(transcript: str | None) -> str:
    """Return the customer's first substantive turns, where callers say why they call."""
    turns = parse_transcript(transcript)
    customer = [t for t in turns if t.is_customer]
    if not customer:  # unknown speaker labels: fall back to every turn
        customer = turns
    picked = [
        t.text
        for t in customer
        if len(t.text.split()) >= _MIN_WORDS
        and not _NOT_A_REASON.match(t.text)
        and not _IDENTITY.search(t.text)
        and not _CLOSING.search(t.text)
    ]
    if not picked:
        picked = [t.text for t in customer if not _NOT_A_REASON.match(t.text)]
    return " ".join(picked[:_MAX_REASON_TURNS]).strip()


def add_reason_text(calls: pl.DataFrame) -> pl.DataFrame:
    """Add `customer_text`, `reason_text` and `text_source` (summary preferred) to calls."""
    customer = [customer_reason_text(t) for t in calls["transcript"].to_list()]
    with_customer = calls.with_columns(pl.Series("customer_text", customer, dtype=pl.String))
    summary = pl.col("summary").str.strip_chars()
    has_summary = summary.is_not_null() & (summary.str.len_chars() > 0)
    return with_customer.with_columns(
        pl.when(has_summary).then(summary).otherwise(pl.col("customer_text")).alias("reason_text"),
        pl.when(has_summary)
        .then(pl.lit("summary"))
        .otherwise(pl.lit("transcript"))
        .alias("text_source"),
    ).with_columns(
        pl.when(pl.col("customer_text").str.len_chars() == 0)
        .then(None)
        .otherwise(pl.col("customer_text"))
        .alias("customer_text"),
        pl.col("reason_text").fill_null(""),
    )
