"""Curating the reason catalogue: list it, decide on it, read its history, undo.

Each decision is made by a pure function of `catalogue` and stored by `Database.write_decision`
in one transaction with its event; an invalid one raises `CatalogueError` and changes nothing.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import polars as pl

from contact_reasons import catalogue as cat
from contact_reasons.config import Settings
from contact_reasons.redact import redact_text
from contact_reasons.storage import Database, DecisionWrite

Action = Literal["rename", "merge", "split", "ignore", "not_faq", "restore", "undo"]


def who(by: str | None) -> str:
    """Who decides: `--by`, else the OS user; redacted like call text before it is stored.

    Typed by a person and kept in the event log, so a person's name, e-mail or phone number
    in it is personal data: `--by "Mette Hansen"` is stored as "[NAME]", `--by ops` or a staff
    id as given. Use initials or a staff id to keep who decided readable.
    """
    if by and by.strip():
        given = by.strip()
    else:
        try:
            given = getpass.getuser()
        except (KeyError, OSError):  # no user name (e.g. a container without one)
            given = "unknown"
    return redact_text(given).strip() or "unknown"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def list_reasons(db: Database) -> pl.DataFrame:
    """The catalogue as people read it: most calls first, then by id.

    Columns: `reason_id`, `name` (the human name, else the generated one), `generated_name`,
    `renamed`, `status`, `merged_into`, `calls`, `first_week`, `last_week`, `keywords`.
    """
    frame = db.catalogue()
    return frame.select(
        "reason_id",
        pl.coalesce("name", "generated_name").alias("name"),
        "generated_name",
        pl.col("name").is_not_null().alias("renamed"),
        "status",
        "merged_into",
        "calls",
        "first_week",
        "last_week",
        "keywords",
    ).sort(["calls", "reason_id"], descending=[True, False])


def render_reasons(frame: pl.DataFrame, fmt: Literal["table", "csv", "json"]) -> str:
    """The catalogue as an aligned table, CSV or JSON (a list of objects)."""
    if fmt == "json":
        return json.dumps(frame.to_dicts(), ensure_ascii=False, indent=2, default=str)
    if fmt == "csv":
        return frame.with_columns(pl.col("keywords").list.join(" | ")).write_csv()
    lines = [f"{'id':>5}  {'name':<44} {'status':<10} {'calls':>6}  {'weeks':<19}", "-" * 90]
    for r in frame.iter_rows(named=True):
        status = r["status"] + (f" {r['merged_into']}" if r["merged_into"] is not None else "")
        weeks = f"{r['first_week'] or '-'}..{r['last_week'] or '-'}"
        mark = " *" if r["renamed"] else ""
        room = 44 - len(mark)  # a cut name is marked as cut, and keeps its "*"
        name = (r["name"] if len(r["name"]) <= room else r["name"][: room - 1] + "…") + mark
        lines.append(f"{r['reason_id']:>5}  {name:<44} {status:<10} {r['calls']:>6}  {weeks}")
    lines.append("")
    lines.append(f"{frame.height} reasons; * = named by a person")
    return "\n".join(lines)


def history(db: Database) -> pl.DataFrame:
    """The event log, oldest first."""
    return db.events()


def render_history(events: pl.DataFrame, fmt: Literal["table", "csv", "json"]) -> str:
    """The event log as a table, CSV or JSON."""
    if fmt == "json":
        return json.dumps(events.to_dicts(), ensure_ascii=False, indent=2, default=str)
    flat = events.with_columns(
        pl.col("reason_ids").cast(pl.List(pl.String)).list.join(" ").alias("reason_ids")
    )
    if fmt == "csv":
        return flat.write_csv()
    lines = []
    for r in flat.iter_rows(named=True):
        after = r["after"] or ""
        lines.append(
            f"{r['event_id']:>5}  {r['occurred_at']:%Y-%m-%d %H:%M}  {r['who']:<20} "
            f"{r['action']:<11} [{r['reason_ids']}]  {after[:80]}"
        )
    return "\n".join(lines) or "no events yet"


def decide(
    db: Database,
    action: Action,
    reason_ids: Sequence[int] = (),
    *,
    name: str | None = None,
    by: str | None = None,
    settings: Settings | None = None,
) -> int:
    """Make a decision on the catalogue and store it; return its event id.

    Raises:
        CatalogueError: unknown id, merging a reason into itself or one already merged, and so
            on; nothing is changed.
    """
    by = who(by)
    now = _now()
    catalogue = db.catalogue()
    if action == "rename":
        # Typed by a person, shown in every report and kept in the event log: redacted too.
        clean = redact_text(name or "")
        decision = cat.rename(catalogue, reason_ids[0], clean, by=by, now=now)
    elif action in ("ignore", "not_faq", "restore"):
        decision = cat.set_status(catalogue, reason_ids[0], action, by=by, now=now)
    elif action == "merge":
        decision = cat.merge(catalogue, db.call_assignments(), reason_ids, by=by, now=now)
    elif action == "undo":
        decision = cat.undo(catalogue, db.call_assignments(), db.events(), by=by, now=now)
    elif action == "split":
        decision = _split(db, catalogue, reason_ids[0], settings or Settings(), by=by, now=now)
    else:  # pragma: no cover - argparse offers only the actions above
        raise cat.CatalogueError(f"unknown action {action!r}")
    return db.write_decision(DecisionWrite(decision.reasons, decision.moves, decision.event))


def _split(
    db: Database,
    catalogue: pl.DataFrame,
    reason_id: int,
    settings: Settings,
    *,
    by: str,
    now: datetime,
) -> cat.Decision:
    from contact_reasons.cluster import MIN_TEXTS, discover_reasons
    from contact_reasons.weekly import fit_mask

    cat._row(catalogue, reason_id)  # unknown id: a clear error before anything else
    space_row = db.catalogue_space()
    if space_row is None:
        raise cat.CatalogueError("the catalogue has no reasons yet; run the weekly job first")
    space = cat.CatalogueSpace.from_row(space_row)
    calls = db.query(
        "SELECT c.* FROM call_reasons r JOIN calls c USING (call_id) "
        "WHERE r.reason_id = ? ORDER BY c.started_at, c.call_id",
        [reason_id],
    )
    if calls.height < MIN_TEXTS:
        raise cat.CatalogueError(
            f"reason {reason_id} has {calls.height} calls; splitting needs at least {MIN_TEXTS}"
        )
    cached = db.cached_embeddings(space.embedding_model_id, calls["text_hash"].to_list())
    missing = [h for h in calls["text_hash"].to_list() if h not in cached]
    if missing:
        raise cat.CatalogueError(
            f"reason {reason_id}: {len(missing)} of its calls have no stored embedding under "
            f"{space.embedding_model_id}; run the weekly job first"
        )
    vectors = np.stack([cached[h] for h in calls["text_hash"].to_list()])
    langs = calls["detected_language"].to_list()
    discovery = discover_reasons(
        calls["reason_text"].to_list(),
        vectors,
        settings.cluster,
        languages=langs,
        fit_mask=fit_mask(calls, settings.cluster),
    )
    prepared = space.space.transform(vectors, langs)
    decision = cat.split(
        catalogue,
        reason_id,
        calls,
        prepared,
        discovery,
        model_id=space.reason_model_id,
        by=by,
        now=now,
    )
    return _with_weeks(decision, calls)


def _with_weeks(decision: cat.Decision, calls: pl.DataFrame) -> cat.Decision:
    """The new reasons of a split, with the first and last weeks of the calls they take."""
    moved = pl.DataFrame(
        {"call_id": list(decision.moves), "reason_id": list(decision.moves.values())},
        schema={"call_id": pl.String, "reason_id": decision.reasons.schema["reason_id"]},
    )
    weeks = (
        moved.join(calls.select("call_id", "week"), on="call_id")
        .group_by("reason_id")
        .agg(pl.col("week").min().alias("_first"), pl.col("week").max().alias("_last"))
    )
    reasons = (
        decision.reasons.join(weeks, on="reason_id", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("first_week", "_first").alias("first_week"),
            pl.coalesce("last_week", "_last").alias("last_week"),
        )
        .drop("_first", "_last")
    )
    return dataclasses.replace(decision, reasons=reasons)
