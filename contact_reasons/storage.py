"""DuckDB storage: the only module that opens a database connection.

The schema is a sequence of numbered SQL migrations in `contact_reasons/migrations/`, applied in
order and recorded one row each in `schema_version`. A weekly run holds the database for its whole
duration (DuckDB's file lock keeps a second process out) and writes its results in one
transaction, so a run killed at any stage leaves the previous complete state behind.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from contact_reasons.errors import RunLockedError, StorageError

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

#: Tables a run writes results to. Only the FAQ tables and `alerts` are replaced wholesale; the
#: catalogue (`reasons`), `call_reasons` and `weekly_reason_stats` are kept as history (see
#: write_results).
RESULT_TABLES = (
    "reasons",
    "call_reasons",
    "weekly_reason_stats",
    "faq_recommendations",
    "alerts",
    "reason_names",
)
#: The catalogue's own tables (migration 0004).
CATALOGUE_TABLES = ("reason_events", "call_reason_history", "catalogue_space")
#: Every table a user may read through `Database.table`.
TABLES = (
    "runs",
    "calls",
    "quarantine",
    "embeddings",
    "reason_models",
    "faq_documents",
    "faq_units",
    "schema_version",
    *RESULT_TABLES,
    *CATALOGUE_TABLES,
)


@dataclass(frozen=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Return the packaged migrations in order."""
    found = []
    for entry in resources.files("contact_reasons.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise StorageError(f"migrations are not numbered 1..n without gaps: {versions}")
    return found


@dataclass(frozen=True)
class RunResults:
    """Everything a completed weekly run writes, as frames whose columns match the tables."""

    calls: pl.DataFrame
    quarantine: pl.DataFrame
    embeddings: pl.DataFrame
    reason_model: dict[str, Any] | None
    reasons: pl.DataFrame
    call_reasons: pl.DataFrame
    weekly_reason_stats: pl.DataFrame
    faq_documents: pl.DataFrame
    faq_recommendations: pl.DataFrame
    alerts: pl.DataFrame | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    """New `reason_events` rows (ids are given on write)."""
    space: dict[str, Any] | None = None
    """A new `catalogue_space` row (a refit), or None."""
    stats_weeks: Sequence[str] = ()
    """Weeks whose `weekly_reason_stats` rows this run replaces; other weeks stay as stored."""
    reason_names: pl.DataFrame | None = None
    """Each reason's name per language with its evidence (`naming.language_names`); replaced."""


@dataclass(frozen=True)
class DecisionWrite:
    """A curation decision: catalogue rows to upsert, calls to move, the event to log."""

    reasons: pl.DataFrame
    moves: dict[str, int]
    event: dict[str, Any]


class Database:
    """A DuckDB file with the contact-reasons schema.

    Use as a context manager. Opening runs pending migrations unless `read_only`.
    """

    def __init__(
        self, path: Path | str, *, read_only: bool = False, lock_timeout: float = 0.0
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise StorageError(f"{self.path}: no database here; run `contact-reasons run` first")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = self._connect(lock_timeout)
        if not read_only:
            self.migrate()
        else:
            self._check_version()

    def _connect(self, lock_timeout: float) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + lock_timeout
        while True:
            try:
                with private_files():
                    return duckdb.connect(str(self.path), read_only=self.read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise StorageError(f"{self.path}: cannot open database: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise RunLockedError(
                        f"{self.path} is in use by another run (DuckDB holds a lock on it); "
                        "wait for that run to finish, or set storage.lock_timeout_seconds "
                        "to wait for it"
                    ) from exc
                time.sleep(0.5)

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and release the file lock."""
        with private_files():  # closing checkpoints, which may write the WAL
            self._con.close()

    # -- schema -------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """Return the highest applied migration, 0 for an empty database."""
        exists = self._scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        )
        if not exists:
            return 0
        version = self._scalar("SELECT max(version) FROM schema_version")
        return int(version) if version is not None else 0

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._con.execute(sql, list(params)).fetchall()  # fetch all: DuckDB 2 needs it
        return rows[0][0] if rows else None

    def _check_version(self) -> None:
        latest = len(migrations())
        current = self.schema_version()
        if current > latest:
            raise StorageError(
                f"{self.path} has schema version {current}, newer than this contact-reasons "
                f"({latest}); upgrade contact-reasons"
            )

    def migrate(self) -> int:
        """Apply every pending migration, each in its own transaction; return the version."""
        with private_files():
            return self._migrate()

    def _migrate(self) -> int:
        self._check_version()
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        current = self.schema_version()
        for migration in migrations():
            if migration.version <= current:
                continue
            with self.transaction():
                self._con.execute(migration.sql)
                self._con.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?)",
                    [migration.version, migration.name, _now()],
                )
        return self.schema_version()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction: all of it is written, or none."""
        with private_files():
            self._con.execute("BEGIN TRANSACTION")
            try:
                yield
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    # -- reads --------------------------------------------------------------------------------

    def table(self, name: str) -> pl.DataFrame:
        """Return a whole table as a frame."""
        if name not in TABLES:
            raise StorageError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
        return self._frame(f'SELECT * FROM "{name}"')  # name checked above

    def query(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        """Run a read query with bound parameters and return a frame."""
        return self._frame(sql, params)

    def read_calls(
        self, since: datetime | None = None, columns: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """Return stored calls started at or after `since` (UTC), oldest first.

        `columns` reads only those (a weekly update needs no transcripts of stored weeks).
        """
        if columns is not None:
            self._check_columns("calls", columns)
        # Column names are checked against the table above, never taken from input unchecked.
        picked = "*" if columns is None else ", ".join(f'"{c}"' for c in columns)
        if since is None:
            return self._frame(f"SELECT {picked} FROM calls ORDER BY started_at, call_id")
        return self._frame(
            f"SELECT {picked} FROM calls WHERE started_at >= ? ORDER BY started_at, call_id",
            [since.replace(tzinfo=None)],
        )

    def _frame(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        return self._con.sql(sql, params=list(params) or None).pl()

    def cached_embeddings(self, model_id: str, text_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Return the stored vectors for the given text hashes under one model id.

        Read as Arrow, not row by row: a 100,000-call window's vectors as Python floats would
        take half a gigabyte on the way. Vectors of one width are views of one block.
        """
        if not text_hashes:
            return {}
        wanted = pl.DataFrame({"text_hash": list(dict.fromkeys(text_hashes))})
        self._con.register("wanted_hashes", wanted.to_arrow())
        try:
            table = self._con.sql(
                "SELECT e.text_hash, e.vector FROM embeddings e "
                "JOIN wanted_hashes w USING (text_hash) WHERE e.model_id = ?",
                params=[model_id],
            ).to_arrow_table()
        finally:
            self._con.unregister("wanted_hashes")
        if table.num_rows == 0:
            return {}
        hashes = table.column("text_hash").to_pylist()
        lists = table.column("vector").combine_chunks()
        values = np.array(lists.flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
        offsets = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
        offsets = offsets - offsets[0]
        widths = np.diff(offsets)
        if widths.size and np.all(widths == widths[0]):
            block = values.reshape(len(hashes), int(widths[0]))
            return dict(zip(hashes, block, strict=True))
        return dict(zip(hashes, np.split(values, offsets[1:-1]), strict=True))

    def latest_call_time(self) -> datetime | None:
        """Return when the latest stored call started (UTC, naive), or None."""
        value = self._scalar("SELECT max(started_at) FROM calls")
        return value if isinstance(value, datetime) else None

    def known_call_ids(self, call_ids: Sequence[str]) -> set[str]:
        """Return which of `call_ids` are stored already."""
        if not call_ids:
            return set()
        # A join with the ids as a table: `list_contains` with a long list parameter compares
        # every row with every id, which grows with the history times the batch.
        with self._keys("wanted_calls", "call_id", call_ids):
            rows = self._con.execute(
                "SELECT c.call_id FROM calls c JOIN wanted_calls w USING (call_id)"
            ).fetchall()
        return {r[0] for r in rows}

    def call_assignments(self, call_ids: Sequence[str] | None = None) -> pl.DataFrame:
        """Return `call_reasons` rows, all or those of `call_ids`."""
        if call_ids is None:
            return self._frame("SELECT * FROM call_reasons ORDER BY call_id")
        with self._keys("wanted_assignments", "call_id", call_ids):
            return self._frame(
                "SELECT c.* FROM call_reasons c JOIN wanted_assignments w USING (call_id) "
                "ORDER BY c.call_id"
            )

    @contextmanager
    def _keys(self, name: str, column: str, values: Sequence[str]) -> Iterator[None]:
        """Register distinct `values` as a one-column table `name` for the duration."""
        keys = pl.DataFrame({column: list(dict.fromkeys(values))}, schema={column: pl.String})
        self._con.register(name, keys.to_arrow())
        try:
            yield
        finally:
            self._con.unregister(name)

    def catalogue(self) -> pl.DataFrame:
        """Return the reason catalogue (every reason ever created), by id."""
        return self._frame("SELECT * FROM reasons ORDER BY reason_id")

    def catalogue_space(self) -> dict[str, Any] | None:
        """Return the current `catalogue_space` row (the latest refit's), or None."""
        frame = self._frame(
            "SELECT * FROM catalogue_space ORDER BY created_at DESC, reason_model_id LIMIT 1"
        )
        return frame.row(0, named=True) if frame.height else None

    def events(self) -> pl.DataFrame:
        """Return the catalogue's event log, oldest first."""
        return self._frame("SELECT * FROM reason_events ORDER BY event_id")

    def language_names(self) -> dict[tuple[int, str], str]:
        """(reason id, language) -> the reason's stored name in that language (`reason_names`)."""
        rows = self._con.execute("SELECT reason_id, language, name FROM reason_names").fetchall()
        return {(int(r), str(lang)): str(name) for r, lang, name in rows}

    def faq_units(self) -> pl.DataFrame:
        """The FAQ units stored by earlier runs, by page and position, with their timestamps.

        The columns `sync_faq_units` returns: a run given no FAQ source reads these.
        """
        return self._frame("SELECT * FROM faq_units ORDER BY url, position, unit_id")

    def stats_weeks(self) -> set[str]:
        """Return the weeks that have weekly statistics."""
        rows = self._con.execute("SELECT DISTINCT week FROM weekly_reason_stats").fetchall()
        return {r[0] for r in rows}

    def latest_week(self) -> str | None:
        """Return the latest ISO week with statistics, or None."""
        week = self._scalar("SELECT max(week) FROM weekly_reason_stats")
        return str(week) if week is not None else None

    # -- writes -------------------------------------------------------------------------------

    def start_run(self, run_id: str, inputs: list[dict[str, Any]], settings: str) -> None:
        """Record a run as started (its own small transaction)."""
        with self.transaction():
            self._con.execute(
                "INSERT INTO runs (run_id, started_at, status, inputs, settings) "
                "VALUES (?, ?, 'running', ?, ?)",
                [run_id, _now(), json.dumps(inputs, default=str), settings],
            )

    def fail_run(self, run_id: str, error: str) -> None:
        """Mark a run as failed with its error (results were rolled back)."""
        with self.transaction():
            self._con.execute(
                "UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE run_id = ?",
                [_now(), error[:4000], run_id],
            )

    def write_results(self, run_id: str, results: RunResults, summary: dict[str, Any]) -> None:
        """Write a completed weekly run's results and its `runs` row in one transaction.

        Calls, quarantined rows, embeddings and reason models are only ever added (a row already
        stored stays as it was). The catalogue (`reasons`) is written whole (it holds every
        reason ever created); `call_reasons` rows of the run's calls are replaced, and a call
        whose reason changed keeps its former one in `call_reason_history`; the statistics of
        `stats_weeks` are replaced and every other week stays as stored; the FAQ tables,
        `alerts` and `reason_names` are replaced.
        """
        with self.transaction():
            self._add_inputs(results.calls, results.quarantine, results.embeddings)
            if results.reason_model is not None:
                model = pl.DataFrame([results.reason_model])
                self._insert_new("reason_models", model, key=("reason_model_id",))
            if results.space is not None:
                self._insert_new(
                    "catalogue_space", pl.DataFrame([results.space]), key=("reason_model_id",)
                )
            self._con.execute("DELETE FROM reasons")
            self._insert("reasons", results.reasons)
            self._replace_assignments(results.call_reasons, run_id)
            weeks = sorted(set(results.stats_weeks))
            if weeks:
                self._con.execute(
                    "DELETE FROM weekly_reason_stats WHERE list_contains(?, week)", [weeks]
                )
                stats = results.weekly_reason_stats.filter(pl.col("week").is_in(weeks))
                self._insert("weekly_reason_stats", stats)
            for name in ("faq_recommendations", "faq_documents"):
                self._con.execute(f'DELETE FROM "{name}"')  # fixed table names, not input
            self._insert("faq_documents", results.faq_documents)
            self._insert("faq_recommendations", results.faq_recommendations)
            if results.alerts is not None:  # derived from the whole weekly history: replaced
                self._con.execute("DELETE FROM alerts")
                self._insert("alerts", results.alerts)
            if results.reason_names is not None:  # named from the run's window: replaced
                self._con.execute("DELETE FROM reason_names")
                self._insert("reason_names", results.reason_names)
            self._log_events(results.events)
            self._recount_reasons()
            self._complete_run(run_id, summary)

    def write_decision(self, decision: DecisionWrite) -> int:
        """Store a curation decision in one transaction; return its event id."""
        with self.transaction():
            ids = decision.reasons["reason_id"].to_list()
            if ids:
                self._con.execute("DELETE FROM reasons WHERE list_contains(?, reason_id)", [ids])
                self._insert("reasons", decision.reasons)
            event_id = self._log_events([decision.event])[0]
            if decision.moves:
                moves = pl.DataFrame(
                    {
                        "call_id": list(decision.moves),
                        "reason_id": pl.Series(list(decision.moves.values()), dtype=pl.Int32),
                    }
                )
                current = self.call_assignments(list(decision.moves)).drop("reason_id")
                moved = current.join(moves, on="call_id")
                self._replace_assignments(moved, f"event:{event_id}")
            self._recount_reasons()
        return event_id

    def _replace_assignments(self, call_reasons: pl.DataFrame, replaced_by: str) -> None:
        if call_reasons.height == 0:
            return
        incoming = call_reasons.select("call_id", "reason_id")
        self._con.register("incoming_assign", incoming.to_arrow())
        try:
            self._con.execute(
                "INSERT INTO call_reason_history "
                "SELECT c.call_id, c.reason_id, c.similarity, c.reason_model_id, ?, ? "
                "FROM call_reasons c JOIN incoming_assign i USING (call_id) "
                "WHERE c.reason_id <> i.reason_id",
                [_now(), replaced_by],
            )
            self._con.execute(
                "DELETE FROM call_reasons WHERE call_id IN (SELECT call_id FROM incoming_assign)"
            )
        finally:
            self._con.unregister("incoming_assign")
        self._insert("call_reasons", call_reasons)

    def _recount_reasons(self) -> None:
        self._con.execute(
            "UPDATE reasons SET calls = coalesce((SELECT count(*) FROM call_reasons c "
            "WHERE c.reason_id = reasons.reason_id), 0)"
        )

    def _log_events(self, events: Sequence[dict[str, Any]]) -> list[int]:
        start = int(self._scalar("SELECT coalesce(max(event_id), 0) FROM reason_events")) + 1
        ids = list(range(start, start + len(events)))
        if events:
            frame = pl.DataFrame(
                [{"event_id": i, **e} for i, e in zip(ids, events, strict=True)],
                schema={
                    "event_id": pl.Int64,
                    "occurred_at": pl.Datetime("us"),
                    "who": pl.String,
                    "action": pl.String,
                    "reason_ids": pl.List(pl.Int32),
                    "run_id": pl.String,
                    "before": pl.String,
                    "after": pl.String,
                },
            )
            self._insert("reason_events", frame)
        return ids

    def write_ingest(
        self,
        run_id: str,
        calls: pl.DataFrame,
        quarantine: pl.DataFrame,
        embeddings: pl.DataFrame,
        summary: dict[str, Any],
    ) -> None:
        """Store a daily ingest (calls, quarantine, embedding cache) in one transaction."""
        with self.transaction():
            self._add_inputs(calls, quarantine, embeddings)
            self._complete_run(run_id, summary)

    def sync_faq_units(self, units: pl.DataFrame) -> pl.DataFrame:
        """Store FAQ units as read now and return them with their store timestamps.

        In one transaction: a new unit is added; a unit whose content hash is unchanged is left
        as it is (reading the same pages again changes nothing); a changed unit is updated and
        keeps its `first_read_at`; units of a page read now that the page no longer holds are
        removed. Returns `units` with `first_read_at` and `changed_at` added.
        """
        if units.height == 0:
            return units.with_columns(
                pl.lit(None, pl.Datetime("us")).alias("first_read_at"),
                pl.lit(None, pl.Datetime("us")).alias("changed_at"),
            )
        now = _now()
        columns = [
            c for c in self._columns("faq_units") if c not in ("first_read_at", "changed_at")
        ]
        incoming = units.select(columns).unique("unit_id", keep="first", maintain_order=True)
        with self.transaction():
            self._con.register("incoming_units", incoming.to_arrow())
            try:
                self._con.execute(
                    "DELETE FROM faq_units WHERE url IN (SELECT url FROM incoming_units) "
                    "AND unit_id NOT IN (SELECT unit_id FROM incoming_units)"
                )
                changed = ", ".join(f'"{c}" = i."{c}"' for c in columns if c != "unit_id")
                self._con.execute(
                    f"UPDATE faq_units SET {changed}, changed_at = ? FROM incoming_units i "
                    "WHERE faq_units.unit_id = i.unit_id "
                    "AND faq_units.content_hash <> i.content_hash",
                    [now],
                )
                quoted = ", ".join(f'"{c}"' for c in columns)
                self._con.execute(
                    f"INSERT INTO faq_units ({quoted}, first_read_at, changed_at) "
                    f"SELECT {quoted}, ?, ? FROM incoming_units i WHERE NOT EXISTS "
                    "(SELECT 1 FROM faq_units t WHERE t.unit_id = i.unit_id)",
                    [now, now],
                )
            finally:
                self._con.unregister("incoming_units")
        stored = self._frame(
            "SELECT unit_id, first_read_at, changed_at FROM faq_units "
            "WHERE list_contains(?, unit_id)",
            [incoming["unit_id"].to_list()],
        )
        return units.join(stored, on="unit_id", how="left")

    def add_embeddings(self, embeddings: pl.DataFrame) -> None:
        """Add rows to the embedding cache (e.g. from another database); keyed, idempotent."""
        with self.transaction():
            self._insert_new("embeddings", embeddings, key=("model_id", "text_hash"))

    def _add_inputs(
        self, calls: pl.DataFrame, quarantine: pl.DataFrame, embeddings: pl.DataFrame
    ) -> None:
        self._insert_new("calls", calls, key=("call_id",))
        self._insert_new(
            "quarantine", quarantine, key=("source_file", "source_row", "kind", "reason")
        )
        self._insert_new("embeddings", embeddings, key=("model_id", "text_hash"))

    def _complete_run(self, run_id: str, summary: dict[str, Any]) -> None:
        fields = (
            "rows_read",
            "rows_stored",
            "rows_new",
            "rows_quarantined",
            "rows_duplicate",
            "calls_clustered",
            "reasons_found",
            "embedding_model_id",
            "reason_model_id",
        )
        assignments = ", ".join(f"{f} = ?" for f in fields)
        self._con.execute(
            f"UPDATE runs SET status = 'completed', finished_at = ?, {assignments}, timings = ? "
            "WHERE run_id = ?",
            [_now(), *(summary.get(f) for f in fields), json.dumps(summary["timings"]), run_id],
        )

    def _columns(self, table: str) -> list[str]:
        rows = self._con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return [r[0] for r in rows]

    def _insert(self, table: str, frame: pl.DataFrame) -> None:
        self._insert_new(table, frame, key=None)

    def _insert_new(self, table: str, frame: pl.DataFrame, key: tuple[str, ...] | None) -> None:
        if frame.height == 0:
            return
        columns = self._columns(table)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise StorageError(f"frame for table {table!r} lacks columns {missing}")
        quoted = ", ".join(f'"{c}"' for c in columns)
        self._con.register("incoming", frame.select(columns).to_arrow())
        try:
            if key is None:
                self._con.execute(f'INSERT INTO "{table}" ({quoted}) SELECT {quoted} FROM incoming')
            else:
                # Identifiers come from the schema, never from input; values are never spliced.
                match = " AND ".join(f't."{k}" = i."{k}"' for k in key)
                keys = ", ".join(f'i."{k}"' for k in key)
                select = ", ".join(f'i."{c}"' for c in columns)
                self._con.execute(
                    f'INSERT INTO "{table}" ({quoted}) SELECT DISTINCT ON ({keys}) {select} '
                    f'FROM incoming i WHERE NOT EXISTS (SELECT 1 FROM "{table}" t WHERE {match})'
                )
        finally:
            self._con.unregister("incoming")

    # -- privacy: re-redaction and retention (issue 13) --------------------------------------

    def text_columns(self, table: str) -> list[str]:
        """The free-text columns (VARCHAR or VARCHAR[]) of a table; keys and codes left out."""
        rows = self._con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return [
            name
            for name, data_type in rows
            if data_type in ("VARCHAR", "VARCHAR[]") and not _NOT_TEXT.match(name)
        ]

    def read_with_rowid(self, table: str, columns: Sequence[str]) -> pl.DataFrame:
        """`rowid` (as `__rowid`) and the given columns of a table."""
        self._check_columns(table, columns)
        quoted = ", ".join(f'"{c}"' for c in columns)  # checked against the schema
        return self._frame(f'SELECT rowid AS __rowid, {quoted} FROM "{table}"')

    def update_rows(self, table: str, changed: pl.DataFrame) -> None:
        """Set the columns of `changed`, keyed by `__rowid`, in a table (inside a transaction)."""
        if changed.height == 0:
            return
        columns = [c for c in changed.columns if c != "__rowid"]
        self._check_columns(table, columns)
        assignments = ", ".join(f'"{c}" = c."{c}"' for c in columns)
        self._con.register("changed_rows", changed.to_arrow())
        try:
            self._con.execute(
                f'UPDATE "{table}" SET {assignments} FROM changed_rows c '
                f'WHERE "{table}".rowid = c.__rowid'
            )
        finally:
            self._con.unregister("changed_rows")

    def drop_unreferenced_embeddings(self, keep: Sequence[str] = ()) -> int:
        """Delete cached vectors whose text no stored call has any more; return how many.

        `keep`: cache keys kept all the same (the stored FAQ units' vectors: the company's
        published pages, which the next run would only embed again).
        """
        return self._count(
            "DELETE FROM embeddings WHERE text_hash NOT IN (SELECT text_hash FROM calls) "
            "AND NOT list_contains(?, text_hash)",
            [list(keep)],
        )

    def purge_before(self, before: datetime, keep: Sequence[str] = ()) -> dict[str, int]:
        """Delete calls started before `before` and what hangs on them (inside a transaction).

        Deletes the calls, their reason assignments (current and earlier), quarantined rows
        first seen by a run that started before `before`, and cached vectors no remaining call
        uses but those of the cache keys `keep` (`drop_unreferenced_embeddings`). Weekly
        aggregates (`weekly_reason_stats`), reasons and FAQ recommendations are kept
        (`privacy.purge_database` rewrites what in them the purged calls said).

        Returns:
            Rows deleted per table.
        """
        cutoff = _naive_utc(before)
        counts = {
            "call_reasons": self._count(
                "DELETE FROM call_reasons WHERE call_id IN "
                "(SELECT call_id FROM calls WHERE started_at < ?)",
                [cutoff],
            ),
            "call_reason_history": self._count(
                "DELETE FROM call_reason_history WHERE call_id IN "
                "(SELECT call_id FROM calls WHERE started_at < ?)",
                [cutoff],
            ),
            "calls": self._count("DELETE FROM calls WHERE started_at < ?", [cutoff]),
            "quarantine": self._count(
                "DELETE FROM quarantine WHERE first_run_id IN "
                "(SELECT run_id FROM runs WHERE started_at < ?)",
                [cutoff],
            ),
        }
        counts["embeddings"] = self.drop_unreferenced_embeddings(keep)
        return counts

    def call_texts(self, before: datetime | None = None) -> pl.DataFrame:
        """The texts FAQ phrasings, questions and reason names are taken from, per call.

        `call_id`, `reason_text`, `customer_text` and `wrapup_code` of the calls started before
        `before`, or of every call when it is None.
        """
        sql = "SELECT call_id, reason_text, customer_text, wrapup_code FROM calls"
        if before is None:
            return self._frame(sql)
        return self._frame(sql + " WHERE started_at < ?", [_naive_utc(before)])

    def delete_rows(self, table: str, rowids: Sequence[int]) -> int:
        """Delete rows of a table by `rowid` (inside a transaction); return how many."""
        self._check_columns(table, [])
        if not rowids:
            return 0
        return self._count(
            f'DELETE FROM "{table}" WHERE list_contains(?, rowid)',  # name checked above
            [list(rowids)],
        )

    def record_maintenance(self, status: str, details: dict[str, Any]) -> str:
        """Record a maintenance run (`purge`, `redact`) in `runs`, details as JSON in `inputs`."""
        run_id = f"{status}-{uuid.uuid4().hex[:12]}"
        now = _now()
        self._con.execute(
            "INSERT INTO runs (run_id, started_at, finished_at, status, inputs) "
            "VALUES (?, ?, ?, ?, ?)",
            [run_id, now, now, status, json.dumps(details, default=str, sort_keys=True)],
        )
        return run_id

    def _count(self, sql: str, params: Sequence[Any] = ()) -> int:
        rows = self._con.execute(sql, list(params)).fetchall()
        return int(rows[0][0]) if rows else 0

    def _check_columns(self, table: str, columns: Sequence[str]) -> None:
        if table not in TABLES:
            raise StorageError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        missing = set(columns) - set(self._columns(table))
        if missing:
            raise StorageError(f"table {table!r} has no columns {sorted(missing)}")


#: Columns that hold keys, hashes, codes or settings, never free text: re-redaction skips them.
#: A call's `language`, `channel`, `queue` and `customer_type` are cells of the export, redacted
#: when read (`redact.CODE_COLUMNS`), so re-redaction takes them too. `examples_by_language`
#: holds call ids, `replaced_by` a run or event id, `language_means` numbers. A FAQ page's
#: address (`url`, `best_url`) is the key its units are read again by, as `path` is.
_NOT_TEXT = re.compile(
    r"^(.*_id|.*_ids|.*_hash|sha256|week|status|kind|detected_language|text_source|"
    r"source_file|path|url|best_url|column|recommendation|settings|inputs|timings|"
    r"examples_by_language|replaced_by|language_means)$"
)


@contextmanager
def private_files() -> Iterator[None]:
    """Create files readable by their owner only while the block runs (DuckDB's file and WAL).

    DuckDB creates its database file and its write-ahead log with the process umask; the umask
    is process-wide, so it is narrowed only while a connection opens or a transaction writes.
    """
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _naive_utc(moment: datetime) -> datetime:
    """A moment as stored: UTC without a time zone (a naive one is taken as UTC already)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
