"""Less to lose: re-redact what is already stored, and delete calls past their retention.

`redact_frame` is a pure stage (frame in, frame out); `redact_database` and `purge_database`
drive it and `storage.Database` in one transaction each, and record what they did in `runs`
(status `redact` or `purge`, the counts as JSON in `inputs`).
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from contact_reasons.embed import text_hash
from contact_reasons.errors import InputError
from contact_reasons.redact import redact_text
from contact_reasons.storage import TABLES, Database

#: Tables without customers' text: the company's own FAQ pages (its published phone numbers and
#: addresses are not personal data, and input never redacts them), the schema and vectors.
_SKIP_TABLES = frozenset({"schema_version", "embeddings", "faq_documents"})


def _redact_value(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact(v) if isinstance(v, str) else v for v in value]
    return value


def redact_frame(
    frame: pl.DataFrame, columns: Sequence[str], redact: Callable[[str], str] = redact_text
) -> pl.DataFrame:
    """Return the rows of `frame` whose text changed under `redact`, with the new text.

    Args:
        frame: `__rowid` plus the text columns (String or List[String]); it is not changed.
        columns: the text columns to redact.
        redact: the redaction function (default `redact_text`).

    Returns:
        `__rowid` and `columns` for the changed rows only; when `reason_text` is among the
        columns, also `text_hash` recomputed from the new text (the embedding cache key).
    """
    if frame.height == 0 or not columns:
        return frame.select("__rowid", *columns).head(0)
    new = {c: [_redact_value(v, redact) for v in frame[c].to_list()] for c in columns}
    old = {c: frame[c].to_list() for c in columns}
    changed = [i for i in range(frame.height) if any(new[c][i] != old[c][i] for c in columns)]
    out = pl.DataFrame(
        {"__rowid": frame["__rowid"].gather(changed)}
        | {c: pl.Series(c, [new[c][i] for i in changed], dtype=frame.schema[c]) for c in columns}
    )
    if "reason_text" in columns:
        out = out.with_columns(
            pl.Series(
                "text_hash", [text_hash(t or "") for t in out["reason_text"].to_list()], pl.String
            )
        )
    return out


def _keeping_call_ids(redact: Callable[[str], str]) -> Callable[[str], str]:
    """`redact` for an event's JSON (`reason_events.before/after`): its text, not its call ids.

    The lists under `calls` are call ids (keys: `undo` moves those calls back); every other
    string is redacted. A value with nothing to redact is returned as it was, byte for byte.
    """

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: v if k == "calls" else walk(v) for k, v in value.items()}
        return value

    def redact_event(text: str) -> str:
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return redact(text)
        clean = walk(document)
        if clean == document:
            return text
        return json.dumps(clean, ensure_ascii=False, default=str)

    return redact_event


def redact_database(db: Database, redact: Callable[[str], str] = redact_text) -> dict[str, int]:
    """Re-redact every free-text column of every table, in one transaction.

    Calls whose reason text changes get a new `text_hash`; cached vectors that no call uses
    any more are dropped (the next run embeds the new text). The change is recorded in `runs`
    with status `redact`.

    Returns:
        Rows changed per table, and `embeddings` for the cached vectors dropped.
    """
    counts: dict[str, int] = {}
    with db.transaction():
        for table in TABLES:
            if table in _SKIP_TABLES:
                continue
            columns = db.text_columns(table)
            if not columns:
                continue
            redactor = _keeping_call_ids(redact) if table == "reason_events" else redact
            changed = redact_frame(db.read_with_rowid(table, columns), columns, redactor)
            db.update_rows(table, changed)
            counts[table] = changed.height
        counts["embeddings"] = db.drop_unreferenced_embeddings()
        db.record_maintenance("redact", {"command": "redact", "changed": counts})
    return counts


def parse_day(value: str) -> datetime:
    """Parse `YYYY-MM-DD` as midnight UTC, naming the bad value when it is not a date."""
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"--before {value!r} is not a date (expected YYYY-MM-DD)") from exc
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def retention_cutoff(now: datetime, months: int) -> datetime:
    """`now` minus `months` calendar months (the day clamped to the month's end), in UTC.

    Calls started before it are past a retention of `months` months.
    """
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    year, month = divmod(now.year * 12 + (now.month - 1) - months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def purge_database(db: Database, before: datetime) -> dict[str, int]:
    """Delete calls started before `before` and their embeddings, assignments and quarantine.

    Weekly aggregates stay. Runs in one transaction and is recorded in `runs` with status
    `purge`, the cut-off and the rows deleted per table.

    Returns:
        Rows deleted per table.
    """
    with db.transaction():
        counts = db.purge_before(before)
        db.record_maintenance(
            "purge", {"command": "purge", "before": before.isoformat(), "deleted": counts}
        )
    return counts


def apply_retention(db: Database, months: int | None, now: datetime) -> dict[str, int] | None:
    """Purge calls older than `months` calendar months before `now`; None when `months` is None.

    The weekly flow calls this at its end with `storage.retention_months`.
    """
    if months is None:
        return None
    return purge_database(db, retention_cutoff(now, months))
