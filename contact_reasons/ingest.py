"""Read call exports (CSV, Parquet, JSONL), validate every row, and quarantine what is bad.

`read_inputs` is the one entry point. It streams each file in batches of `ingest.batch_rows`
rows (CSV and JSONL through an incremental decoder and Python's `csv`/`json`, Parquet through a
polars lazy scan), then validates and casts row by row, so one bad row never costs the rest of
its file, and memory follows the batch, not the file. Every row read ends up in exactly one
place:

* `calls`: valid rows, first occurrence of each `call_id` (files in sorted path order, then rows);
* `quarantine` with `kind="invalid"`: rows that break a rule, with the reason;
* `quarantine` with `kind="duplicate"`: later rows whose `call_id` was already kept.

so `rows_read == len(calls) + invalid + duplicates` (see `IngestResult.accounting`). A whole
file that cannot be used (a required column missing, an unreadable Parquet file) is raised as
`InputError` when `strict`, and otherwise recorded as one `quarantine` row with `kind="file"`
and `source_row=0`; its rows are not counted as read.

Quarantine is stored, so its `value`, `reason` and `record` hold only redacted text.

Row numbers (`source_row`) are 1-based data rows: for CSV the header is row 0 and blank lines
are skipped (a quoted newline does not start a new row); for JSONL they are line numbers.

Streaming gives exactly what reading the whole file gives (`batch_rows = 0` still does that;
tests/test_ingest_streaming.py compares them). A text file is streamed as UTF-8 (or UTF-8 with
a BOM, UTF-16 with a BOM, or Windows-1252, which takes UTF-8 rows among its own as UTF-8);
one that turns out to be none of them is read again whole, the way it always was (`_decode`:
charset detection needs all of it). polars' own CSV
and NDJSON readers are not used: they turn blank lines into rows, pad short rows and stop at
a bad JSON line, where this module counts, quarantines and goes on.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from contact_reasons.config import IngestSettings, Settings
from contact_reasons.errors import ConfigError, InputError
from contact_reasons.redact import personal_data_in_id, redact_id, redact_text

Format = Literal["csv", "parquet", "jsonl"]

SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
"""File suffixes read, and the format each one means."""

CALLS_SCHEMA: dict[str, pl.DataType] = {
    "call_id": pl.String(),
    "started_at": pl.Datetime("us", "UTC"),
    "summary": pl.String(),
    "transcript": pl.String(),
    "language": pl.String(),
    "channel": pl.String(),
    "queue": pl.String(),
    "customer_type": pl.String(),
    "answered": pl.Boolean(),
    "duration_seconds": pl.Float64(),
    "wrapup_code": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
}
"""Columns and types of `IngestResult.calls` (docs/ARCHITECTURE.md). `wrapup_code` is the value
of the input column `seeded.wrapup_column` names (null without one)."""

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "kind": pl.String(),
    "column": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
    "record": pl.String(),
}
"""Columns and types of `IngestResult.quarantine`; `kind` is `invalid`, `duplicate` or `file`."""

FILES_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.String(),
    "format": pl.String(),
    "encoding": pl.String(),
    "rows_read": pl.Int64(),
    "sha256": pl.String(),
    "extra_columns": pl.List(pl.String()),
    "error": pl.String(),
}
"""Columns and types of `IngestResult.files`: one row per file read."""

REQUIRED_COLUMNS = ("call_id", "started_at")
TEXT_COLUMNS = ("summary", "transcript")
OPTIONAL_TEXT_COLUMNS = ("language", "channel", "queue", "customer_type")
KNOWN_COLUMNS = frozenset(
    (*REQUIRED_COLUMNS, *TEXT_COLUMNS, *OPTIONAL_TEXT_COLUMNS, "answered", "duration_seconds")
)

TRUE_WORDS = frozenset({"true", "1", "ja", "j", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "nej", "nei", "n", "no", "f"})

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
"""How far after the moment of reading a call may start (a source clock ahead, a zone mix-up).
A later one is a typo (2062 for 2026): kept, it would end the run's window (the latest call)."""

_REASON_VALUE_CHARS = 80


@dataclass(frozen=True)
class IngestResult:
    """What `read_inputs` found: valid calls, quarantined rows, and the files read.

    Attributes:
        calls: valid, de-duplicated calls (`CALLS_SCHEMA`); text is not yet redacted.
        quarantine: rejected rows and files (`QUARANTINE_SCHEMA`); redacted.
        files: one row per file (`FILES_SCHEMA`): path, format, encoding, rows read, sha256.
        rows_read: data rows read from all files.
        duplicates: rows dropped because their `call_id` was seen before.
    """

    calls: pl.DataFrame
    quarantine: pl.DataFrame
    files: pl.DataFrame
    rows_read: int
    duplicates: int

    @property
    def encodings(self) -> dict[str, str | None]:
        """The text encoding detected per file path (None for Parquet)."""
        return dict(
            zip(self.files["path"].to_list(), self.files["encoding"].to_list(), strict=True)
        )

    def accounting(self) -> dict[str, int]:
        """Where every row read went.

        Returns:
            `read`, `stored` (in `calls`), `quarantined` (invalid rows), `duplicates`, and
            `files_rejected`; `read == stored + quarantined + duplicates` always holds.
        """
        kinds = self.quarantine["kind"]
        return {
            "read": self.rows_read,
            "stored": self.calls.height,
            "quarantined": int((kinds == "invalid").sum()),
            "duplicates": self.duplicates,
            "files_rejected": int((kinds == "file").sum()),
        }


# --- reading files into raw string rows --------------------------------------------------------


@dataclass
class _RawRow:
    row: int
    values: dict[str, str | None] | None
    """Column -> raw text; None when the row itself could not be parsed."""
    problem: str | None = None
    fields: list[str] | None = None
    """A CSV row that could not be parsed: its fields."""
    line: str | None = None
    """A JSONL line that could not be parsed."""


@dataclass
class _RawFile:
    path: Path
    format: Format
    encoding: str | None
    sha256: str
    columns: list[str]
    rows: list[_RawRow] = field(default_factory=list)
    error: str | None = None


def _expand(paths: Sequence[Path]) -> list[Path]:
    found: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.update(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise InputError(
                    f"{path}: unknown file type {path.suffix!r} "
                    f"(expected one of: {', '.join(SUFFIXES)})"
                )
            found.add(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return sorted(found)


_CP1252_FALLBACK = "contact-reasons-cp1252"
"""Codec error handler: bytes that are not UTF-8 are read as Windows-1252 (`_decode`)."""


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    # Bytes Windows-1252 leaves undefined raise here: the file is neither (charset detection).
    return error.object[error.start : error.end].decode("cp1252"), error.end


codecs.register_error(_CP1252_FALLBACK, _cp1252_bytes)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Nordic exports that are not UTF-8 are nearly always Windows-1252 (Excel) or Latin-1, or
    # exports appended to one another: UTF-8 read as such, the other bytes as Windows-1252.
    try:
        return data.decode("utf-8", errors=_CP1252_FALLBACK), "cp1252"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        return str(best), best.encoding
    return data.decode("latin-1"), "latin-1"


@functools.lru_cache(maxsize=4096)
def _normalise_column(name: str) -> str:
    # Cached: a JSONL file names its columns again on every line.
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").strip().lower())


def _sniff_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _shown_name(name: str) -> str:
    """A file or column name as it is stored and shown: personal data in it redacted.

    Underscores separate words here (`voicemail_21345678.csv`, a headerless file's first row
    read as column names); a name with nothing to redact is kept exactly.
    """
    spaced = name.replace("_", " ")
    clean = redact_text(spaced)
    return name if clean == spaced else clean


def _check_columns(path: Path, columns: Sequence[str]) -> str | None:
    where = _shown_name(str(path))
    found = ", ".join(_shown_name(c) for c in columns)
    seen: set[str] = set()
    for c in columns:
        if c in seen and c in KNOWN_COLUMNS:
            return f"{where}: column {c!r} appears twice (found: {found})"
        seen.add(c)
    for c in REQUIRED_COLUMNS:
        if c not in seen:
            return f"{where}: missing required column {c!r} (found: {found})"
    if not any(c in seen for c in TEXT_COLUMNS):
        return f"{where}: missing required column 'summary' or 'transcript' (found: {found})"
    return None


def _unreadable_parquet(path: Path, exc: Exception) -> str:
    where = _shown_name(str(path))
    return f"{where}: cannot read Parquet file: {redact_text(str(exc).replace(str(path), where))}"


def _read_csv(path: Path, data: bytes, digest: str) -> _RawFile:
    text, encoding = _decode(data)
    result = _RawFile(path, "csv", encoding, digest, [])
    if not text.strip():
        return result
    lines = io.StringIO(text, newline="")
    result.rows = list(_csv_rows(lines, _sniff_delimiter(text), result))
    return result


def _csv_rows(lines: Iterable[str], delimiter: str, target: _RawFile | _Rows) -> Iterator[_RawRow]:
    """A CSV text's rows; its header names `target`'s columns (and may set its error).

    Blank lines are no rows; a row with another number of fields than the header is a problem
    row. Both the whole-file and the streamed reading go through here (`read_inputs` lifts
    the csv module's field size limit for them).
    """
    header: list[str] | None = None
    row_number = 0
    for fields in csv.reader(lines, delimiter=delimiter):
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line is no row
        if header is None:
            header = [_normalise_column(c) for c in fields]
            target.columns = header
            target.error = _check_columns(target.path, header)
            if target.error:
                return
            continue
        row_number += 1
        if len(fields) != len(header):
            problem = f"has {len(fields)} fields, the header has {len(header)}"
            yield _RawRow(row_number, None, problem, fields=fields)
        else:
            yield _RawRow(row_number, dict(zip(header, fields, strict=True)))


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _read_jsonl(path: Path, data: bytes, digest: str) -> _RawFile:
    text, encoding = _decode(data)
    result = _RawFile(path, "jsonl", encoding, digest, [])
    columns: dict[str, None] = {}
    for line_number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            result.rows.append(_jsonl_row(line_number, line, columns))
    result.columns = list(columns)
    if result.rows and any(r.values is not None for r in result.rows):
        result.error = _check_columns(path, result.columns)
    if result.error:
        result.rows = []
    return result


def _jsonl_row(line_number: int, line: str, columns: dict[str, None]) -> _RawRow:
    """One JSONL line's row (or problem); the object's keys are added to `columns`."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return _RawRow(line_number, None, f"is not valid JSON ({exc.msg})", line=line)
    if not isinstance(obj, dict):
        return _RawRow(
            line_number, None, f"is a JSON {type(obj).__name__}, not an object", line=line
        )
    values = {_normalise_column(str(k)): _as_text(v) for k, v in obj.items()}
    columns.update(dict.fromkeys(values))
    return _RawRow(line_number, values)


def _read_parquet(path: Path, data: bytes, digest: str) -> _RawFile:
    result = _RawFile(path, "parquet", None, digest, [])
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # any reader failure means the same thing: unreadable
        result.error = _unreadable_parquet(path, exc)
        return result
    originals = frame.columns
    result.columns = [_normalise_column(c) for c in originals]
    result.error = _check_columns(path, result.columns)
    if result.error:
        return result
    frame = frame.with_columns(
        pl.col(c).dt.convert_time_zone("UTC")
        for c, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )
    for number, row in enumerate(frame.iter_rows(), start=1):
        values = {name: _as_text(v) for name, v in zip(result.columns, row, strict=True)}
        result.rows.append(_RawRow(number, values))
    return result


_READERS = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}


def _read_file(path: Path) -> _RawFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    return _READERS[SUFFIXES[path.suffix.lower()]](path, data, digest)


# --- streaming files in row batches ------------------------------------------------------------

_TEXT_CHUNK = 1 << 16
"""Characters (or bytes) a text file is read by."""


class _Undecodable(Exception):
    """A text file streamed in one encoding is not in it: read it another way."""


@dataclass
class _Rows:
    """One file's rows in batches: `batches` is read once; `columns` and `error` are final after.

    A reader that finds the file unusable part-way (a JSONL file without a required column, a
    Parquet file that stops being readable) sets `error` then; the rows it gave are dropped.
    """

    path: Path
    format: Format
    encoding: str | None
    sha256: str
    columns: list[str] = field(default_factory=list)
    error: str | None = None
    batches: Iterable[list[_RawRow]] = ()


def _in_batches(rows: Iterable[_RawRow], batch_rows: int) -> Iterator[list[_RawRow]]:
    """`rows` in lists of `batch_rows` (all in one with `batch_rows = 0`), none empty."""
    if batch_rows <= 0:
        whole = list(rows)
        if whole:
            yield whole
        return
    batch: list[_RawRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_rows:
            yield batch
            batch = []
    if batch:
        yield batch


def _whole(path: Path, batch_rows: int) -> _Rows:
    """The file read whole into memory first (`_read_file`), its rows handed on in batches."""
    raw = _read_file(path)
    return _Rows(
        raw.path,
        raw.format,
        raw.encoding,
        raw.sha256,
        raw.columns,
        raw.error,
        _in_batches(raw.rows, batch_rows),
    )


def _open_text(path: Path, encoding: str, errors: str, newline: str) -> io.TextIOWrapper:
    if encoding == "cp1252":  # as `_decode` reads it: UTF-8 where it is, else Windows-1252
        encoding, errors = "utf-8", _CP1252_FALLBACK
    stream = io.TextIOWrapper(path.open("rb"), encoding=encoding, errors=errors, newline=newline)
    stream._CHUNK_SIZE = _TEXT_CHUNK  # type: ignore[attr-defined]  # (CPython's read size)
    return stream


def _text_encodings(path: Path) -> list[tuple[str, str]]:
    """The (encoding, errors) a text file is streamed in, tried in order, as `_decode` does.

    After these fails, only charset detection over the whole file is left (`_whole`).
    """
    with path.open("rb") as handle:
        head = handle.read(3)
    if head.startswith(b"\xef\xbb\xbf"):
        return [("utf-8-sig", "replace")]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return [("utf-16", "replace")]
    return [("utf-8", "strict"), ("cp1252", "strict")]


def _text_start(stream: io.TextIOWrapper) -> tuple[str, bool]:
    """The first line and whether the text is more than whitespace, read no further than needed.

    The first line ends at the first line feed only (what `_sniff_delimiter` reads); "more
    than whitespace" is `_read_csv`'s `text.strip()`.
    """
    head: list[str] = []
    head_done = content = False
    while not (head_done and content):
        chunk = stream.read(_TEXT_CHUNK)
        if not chunk:
            break
        content = content or bool(chunk.strip())
        if not head_done:
            cut = chunk.find("\n")
            head.append(chunk if cut < 0 else chunk[:cut])
            head_done = cut >= 0
    return "".join(head), content


def _csv_batches(
    rows: _Rows, encoding: str, errors: str, batch_rows: int
) -> Iterator[list[_RawRow]]:
    """`_read_csv`'s rows, streamed: the same rows, numbers and problems, batch by batch."""
    path = rows.path
    try:
        with _open_text(path, encoding, errors, "") as stream:
            first_line, content = _text_start(stream)
        if not content:
            return
        delimiter = _sniff_delimiter(first_line)
        with _open_text(path, encoding, errors, "") as stream:
            yield from _in_batches(_csv_rows(stream, delimiter, rows), batch_rows)
    except UnicodeDecodeError as exc:
        raise _Undecodable(str(exc)) from exc


def _jsonl_batches(
    rows: _Rows, encoding: str, errors: str, batch_rows: int
) -> Iterator[list[_RawRow]]:
    """`_read_jsonl`'s rows, streamed; its columns (and so its error) are known at the end."""
    path = rows.path
    columns: dict[str, None] = {}
    any_object = False
    batch: list[_RawRow] = []
    try:
        # Lines end at "\n" only, as `text.split("\n")` cut them.
        with _open_text(path, encoding, errors, "\n") as stream:
            for line_number, text in enumerate(stream, start=1):
                line = text[:-1] if text.endswith("\n") else text
                if not line.strip():
                    continue
                row = _jsonl_row(line_number, line, columns)
                any_object = any_object or row.values is not None
                batch.append(row)
                if len(batch) >= batch_rows:
                    yield batch
                    batch = []
    except UnicodeDecodeError as exc:
        raise _Undecodable(str(exc)) from exc
    if batch:
        yield batch
    rows.columns = list(columns)
    if any_object:
        rows.error = _check_columns(path, rows.columns)


def _parquet_rows(path: Path, digest: str, batch_rows: int) -> _Rows:
    """`_read_parquet`'s rows, through a polars lazy scan read in batches."""
    rows = _Rows(path, "parquet", None, digest)
    try:
        scan = pl.scan_parquet(path, glob=False, hive_partitioning=False)
        schema = scan.collect_schema()
    except Exception as exc:  # any reader failure means the same thing: unreadable
        rows.error = _unreadable_parquet(path, exc)
        return rows
    rows.columns = [_normalise_column(c) for c in schema.names()]
    rows.error = _check_columns(path, rows.columns)
    if rows.error:
        return rows
    scan = scan.with_columns(
        pl.col(c).dt.convert_time_zone("UTC")
        for c, dtype in schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )
    rows.batches = _parquet_batches(rows, scan, batch_rows)
    return rows


def _parquet_batches(rows: _Rows, scan: pl.LazyFrame, batch_rows: int) -> Iterator[list[_RawRow]]:
    number = 0
    try:
        for chunk in scan.collect_batches(chunk_size=batch_rows):
            for part in chunk.iter_slices(batch_rows):
                batch: list[_RawRow] = []
                for row in part.iter_rows():
                    number += 1
                    values = {name: _as_text(v) for name, v in zip(rows.columns, row, strict=True)}
                    batch.append(_RawRow(number, values))
                yield batch
    except pl.exceptions.PolarsError as exc:
        rows.error = _unreadable_parquet(rows.path, exc)


def _readings(path: Path, batch_rows: int) -> Iterator[_Rows]:
    """Ways to read `path`, to try in order until one reads it (`_Undecodable` says: next).

    `batch_rows = 0`: the whole file at once. Otherwise streamed, and a text file that is not
    in a streamable encoding is read whole at last (`_decode` then picks its encoding).
    """
    if batch_rows <= 0:
        yield _whole(path, batch_rows)
        return
    try:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    file_format = SUFFIXES[path.suffix.lower()]
    if file_format == "parquet":
        yield _parquet_rows(path, digest, batch_rows)
        return
    batches = _csv_batches if file_format == "csv" else _jsonl_batches
    for encoding, errors in _text_encodings(path):
        rows = _Rows(path, file_format, encoding, digest)
        rows.batches = batches(rows, encoding, errors, batch_rows)
        yield rows
    yield _whole(path, batch_rows)


# --- validating one row ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    column: str | None
    value: str | None
    message: str


def _shown(value: str) -> str:
    clean = redact_text(value)
    if len(clean) > _REASON_VALUE_CHARS:
        clean = clean[: _REASON_VALUE_CHARS - 1] + "…"
    return clean


def parse_timestamp(value: str, zone: ZoneInfo) -> datetime | None:
    """Parse an ISO 8601 timestamp to UTC; a naive one is read in `zone`.

    Args:
        value: e.g. `2026-09-01 08:15`, `2026-09-01T08:15:00+02:00`, `2026-09-01T06:15:00Z`.
        zone: the time zone of timestamps that carry none.

    Returns:
        The moment in UTC, or None when `value` is not an ISO 8601 timestamp.
    """
    text = value.strip()
    if not text or not text[0].isdigit():
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return moment


def parse_bool(value: str) -> bool | None:
    """Read a yes/no cell (`true/false/1/0/ja/nej/nei/yes/no/j/n/y`); None if it is none of them."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def parse_seconds(value: str) -> float | None:
    """Read a non-negative number of seconds; decimal commas (`123,5`) and `1.234,5` work.

    Returns:
        The number, or None when `value` is not a finite non-negative number.
    """
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return number


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _validate(
    values: Mapping[str, str | None],
    zone: ZoneInfo,
    latest: datetime | None = None,
    wrapup: str | None = None,
) -> tuple[dict[str, Any], list[_Problem]]:
    problems: list[_Problem] = []
    out: dict[str, Any] = {}

    call_id = values.get("call_id")
    if _blank(call_id):
        problems.append(_Problem("call_id", call_id, "column 'call_id' is empty"))
    else:
        assert call_id is not None
        out["call_id"] = call_id.strip()
        # An id is stored as given, shown in reports and kept in the event log: it must not
        # be the caller's details (a phone system that names calls by the caller's number).
        personal = personal_data_in_id(call_id)
        if personal is not None:
            shown = redact_id(call_id)
            problems.append(
                _Problem(
                    "call_id",
                    shown,
                    f"column 'call_id' = '{_shown(shown)}' holds personal data ({personal}); "
                    "export the phone system's own call id instead",
                )
            )

    started = values.get("started_at")
    if _blank(started):
        problems.append(_Problem("started_at", started, "column 'started_at' is empty"))
    else:
        assert started is not None
        moment = parse_timestamp(started, zone)
        if moment is None:
            problems.append(
                _Problem(
                    "started_at",
                    started,
                    f"column 'started_at' = '{_shown(started)}' is not a timestamp "
                    "(expected ISO 8601)",
                )
            )
        elif not EARLIEST <= moment < LATEST:
            problems.append(
                _Problem(
                    "started_at",
                    started,
                    f"column 'started_at' = '{_shown(started)}' is outside 1970-2099",
                )
            )
        elif latest is not None and moment > latest:
            problems.append(
                _Problem(
                    "started_at",
                    started,
                    f"column 'started_at' = '{_shown(started)}' is in the future (after "
                    f"{latest:%Y-%m-%d %H:%M} UTC)",
                )
            )
        out["started_at"] = moment

    for column in TEXT_COLUMNS:
        text = values.get(column)
        out[column] = None if _blank(text) else text
    if out["summary"] is None and out["transcript"] is None:
        problems.append(
            _Problem("summary", None, "columns 'summary' and 'transcript' are both empty")
        )

    for column in OPTIONAL_TEXT_COLUMNS:
        text = values.get(column)
        out[column] = text.strip() if text is not None and text.strip() else None
    code = values.get(wrapup) if wrapup is not None else None
    out["wrapup_code"] = code.strip() if code is not None and code.strip() else None

    answered = values.get("answered")
    out["answered"] = None
    if not _blank(answered):
        assert answered is not None
        out["answered"] = parse_bool(answered)
        if out["answered"] is None:
            problems.append(
                _Problem(
                    "answered",
                    answered,
                    f"column 'answered' = '{_shown(answered)}' is not yes/no "
                    f"(expected one of: {', '.join(sorted(TRUE_WORDS | FALSE_WORDS))})",
                )
            )

    duration = values.get("duration_seconds")
    out["duration_seconds"] = None
    if not _blank(duration):
        assert duration is not None
        out["duration_seconds"] = parse_seconds(duration)
        if out["duration_seconds"] is None:
            problems.append(
                _Problem(
                    "duration_seconds",
                    duration,
                    f"column 'duration_seconds' = '{_shown(duration)}' is not a number of "
                    "seconds >= 0",
                )
            )
    return out, problems


def _record(values: Mapping[str, str | None]) -> str:
    def clean(column: str, value: str) -> str:
        return redact_id(value) if column == "call_id" else redact_text(value)

    return json.dumps(
        {k: None if v is None else clean(k, v) for k, v in values.items()}, ensure_ascii=False
    )


def _quarantine_row(
    source: str,
    row: int,
    kind: str,
    column: str | None,
    value: str | None,
    reason: str,
    record: str,
) -> dict[str, Any]:
    return {
        "source_file": source,
        "source_row": row,
        "kind": kind,
        "column": column,
        "value": None if value is None else redact_text(value),
        "reason": reason,
        "record": record,
    }


def _unparsed_row(source: str, item: _RawRow, reason: str) -> dict[str, Any]:
    if item.fields is not None:
        record = json.dumps([redact_text(f) for f in item.fields], ensure_ascii=False)
        return _quarantine_row(source, item.row, "invalid", None, None, reason, record)
    # Undo JSON escapes first: in `\n12345678` the phone number would hide behind the `n`.
    line = re.sub(r"\\[nrtbf/\"\\]", " ", item.line or "")
    record = json.dumps({"line": redact_text(line)}, ensure_ascii=False)
    return _quarantine_row(source, item.row, "invalid", None, line, reason, record)


# --- the entry point ---------------------------------------------------------------------------


def _resolve_settings(settings: IngestSettings | Settings | None) -> IngestSettings:
    if settings is None:
        return IngestSettings()
    if isinstance(settings, Settings):
        return settings.ingest
    return settings


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"ingest.timezone = {name!r} is not a known time zone") from exc


def read_inputs(
    paths: Sequence[Path],
    *,
    settings: IngestSettings | Settings | None = None,
    strict: bool | None = None,
    wrapup_column: str | None = None,
) -> IngestResult:
    """Read call files and folders, validate every row, and quarantine what is bad.

    Args:
        paths: files (`.csv`, `.parquet`, `.jsonl`, `.ndjson`) or folders searched recursively
            for them; all files are read in sorted path order.
        settings: ingest settings (or full `Settings`); defaults when None. `timezone` is used
            for timestamps without one; `strict` says what a file missing a column does.
        strict: overrides `settings.strict`: True raises on a file that cannot be used, False
            records it in quarantine and goes on with the other files.
        wrapup_column: the input column of wrap-up codes, read into `wrapup_code` (a file
            without it has none); default: `seeded.wrapup_column` when `settings` is a full
            `Settings`, else none. Matched as column names are (case and spaces folded).

    Returns:
        The valid calls (not yet redacted), the quarantine (redacted), and one row per file.

    Raises:
        InputError: a path does not exist or has an unknown suffix; in strict mode, a file that
            misses a required column or cannot be read.
        ConfigError: the configured time zone is unknown.
    """
    config = _resolve_settings(settings)
    is_strict = config.strict if strict is None else strict
    zone = _zone(config.timezone)
    if wrapup_column is None and isinstance(settings, Settings):
        wrapup_column = settings.seeded.wrapup_column
    wrapup = _normalise_column(wrapup_column) if wrapup_column else None

    seen = _FirstSeen()
    calls: list[pl.DataFrame] = []
    quarantine: list[pl.DataFrame] = []
    files: list[dict[str, Any]] = []
    rows_read = 0
    duplicates = 0

    previous_limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        for path in _expand(paths):
            read = _read_one(path, config.batch_rows, zone, seen, strict=is_strict, wrapup=wrapup)
            files.append(read.file)
            calls.extend(read.calls)
            quarantine.extend(read.quarantine)
            rows_read += read.rows_read
            duplicates += read.duplicates
            seen.keep(read.seen)
    finally:
        csv.field_size_limit(previous_limit)

    return IngestResult(
        calls=_concat(calls, CALLS_SCHEMA),
        quarantine=_concat(quarantine, QUARANTINE_SCHEMA),
        files=pl.DataFrame(files, schema=FILES_SCHEMA),
        rows_read=rows_read,
        duplicates=duplicates,
    )


def _concat(parts: list[pl.DataFrame], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    # No rechunk: that would copy every batch once more, the whole input at once.
    return pl.concat(parts, rechunk=False) if parts else pl.DataFrame(schema=schema)


class _FirstSeen:
    """Where each kept `call_id` was first seen, as `{source} row|line {n}`.

    Held for every call read, so held small: one int per call (file number, row), the text
    made only for a duplicate's reason.
    """

    _ROW_BITS = 40

    def __init__(self) -> None:
        self.places: list[str] = []
        self.first: dict[str, int] = {}

    def file(self, source: str, noun: str) -> int:
        """Number the next file read; its rows are `{source} {noun} {row}`."""
        self.places.append(f"{source} {noun}")
        return len(self.places) - 1

    def code(self, file: int, row: int) -> int:
        """A row of a numbered file, as one int."""
        return (file << self._ROW_BITS) | row

    def where(self, code: int) -> str:
        """The `{source} row|line {n}` a `code` stands for."""
        return f"{self.places[code >> self._ROW_BITS]} {code & ((1 << self._ROW_BITS) - 1)}"

    def get(self, call_id: str) -> int | None:
        """Where `call_id` was first kept in an earlier file, or None."""
        return self.first.get(call_id)

    def keep(self, seen: Mapping[str, int]) -> None:
        """Add a file's first-seen calls, once the file is taken."""
        self.first.update(seen)


@dataclass
class _FileRead:
    """One file's part of `IngestResult`: its `files` row, frames and counts."""

    file: dict[str, Any]
    calls: list[pl.DataFrame]
    quarantine: list[pl.DataFrame]
    rows_read: int
    duplicates: int
    seen: dict[str, int]
    """`call_id` -> `_FirstSeen` code of the calls this file keeps first."""


def _read_one(
    path: Path,
    batch_rows: int,
    zone: ZoneInfo,
    seen: _FirstSeen,
    *,
    strict: bool,
    wrapup: str | None = None,
) -> _FileRead:
    try:
        for rows in _readings(path, batch_rows):
            try:
                return _take(rows, zone, seen, strict=strict, wrapup=wrapup)
            except _Undecodable:
                continue
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    raise AssertionError(f"{path}: no reading took it")  # the last reading never gives up


def _take(
    rows: _Rows, zone: ZoneInfo, seen: _FirstSeen, *, strict: bool, wrapup: str | None = None
) -> _FileRead:
    """Validate one file's rows batch by batch; nothing is kept before the file is done."""
    source = _shown_name(str(rows.path))  # stored with every row: no personal data
    noun = "line" if rows.format == "jsonl" else "row"
    number = seen.file(source, noun)
    kept: dict[str, int] = {}
    calls: list[pl.DataFrame] = []
    quarantine: list[pl.DataFrame] = []
    rows_read = 0
    duplicates = 0
    latest = datetime.now(UTC) + FUTURE_SLACK
    for batch in rows.batches:
        rows_read += len(batch)
        batch_calls: list[dict[str, Any]] = []
        batch_quarantine: list[dict[str, Any]] = []
        for item in batch:
            where = f"{source} {noun} {item.row}"
            if item.values is None:
                batch_quarantine.append(_unparsed_row(source, item, f"{where}: {item.problem}"))
                continue
            values, problems = _validate(item.values, zone, latest, wrapup)
            if problems:
                first = problems[0]
                batch_quarantine.append(
                    _quarantine_row(
                        source,
                        item.row,
                        "invalid",
                        first.column,
                        first.value,
                        f"{where}: " + "; ".join(p.message for p in problems),
                        _record(item.values),
                    )
                )
                continue
            call_id = values["call_id"]
            earlier = kept.get(call_id)
            if earlier is None:
                earlier = seen.get(call_id)
            if earlier is not None:
                duplicates += 1
                batch_quarantine.append(
                    _quarantine_row(
                        source,
                        item.row,
                        "duplicate",
                        "call_id",
                        call_id,
                        f"{where}: duplicate call_id '{_shown(call_id)}' first seen in "
                        f"{seen.where(earlier)}",
                        _record(item.values),
                    )
                )
                continue
            kept[call_id] = seen.code(number, item.row)
            batch_calls.append({**values, "source_file": source, "source_row": item.row})
        if batch_calls:
            calls.append(pl.DataFrame(batch_calls, schema=CALLS_SCHEMA))
        if batch_quarantine:
            quarantine.append(pl.DataFrame(batch_quarantine, schema=QUARANTINE_SCHEMA))
    file = {
        "path": source,
        "format": rows.format,
        "encoding": rows.encoding,
        "rows_read": rows_read,
        "sha256": rows.sha256,
        "extra_columns": list(
            dict.fromkeys(
                _shown_name(c) for c in rows.columns if c not in KNOWN_COLUMNS and c != wrapup
            )
        ),
        "error": rows.error,
    }
    if rows.error is None:
        return _FileRead(file, calls, quarantine, rows_read, duplicates, kept)
    if strict:
        raise InputError(rows.error)
    rejected = _quarantine_row(
        source,
        0,
        "file",
        None,
        None,
        rows.error,
        json.dumps({"columns": [_shown_name(c) for c in rows.columns]}, ensure_ascii=False),
    )
    return _FileRead(
        file | {"rows_read": 0},
        [],
        [pl.DataFrame([rejected], schema=QUARANTINE_SCHEMA)],
        0,
        0,
        {},
    )
