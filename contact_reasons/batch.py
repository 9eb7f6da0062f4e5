"""Cluster or evaluate one file of texts without a database (`cluster` and `evaluate` commands).

Same code path and default configuration as the weekly flow: redact, embed, `discover_reasons`.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from contact_reasons.cluster import MIN_TEXTS, ReasonDiscovery, discover_reasons
from contact_reasons.config import Settings
from contact_reasons.embed import Embedder, load_embedder
from contact_reasons.errors import InputError
from contact_reasons.evaluate import score
from contact_reasons.ingest import _as_text, _decode, _sniff_delimiter
from contact_reasons.language import detect_languages
from contact_reasons.redact import redact_text
from contact_reasons.transcripts import primary_reason


def read_table(path: Path, columns: list[str]) -> pl.DataFrame:
    """Read a CSV, Parquet or JSONL file as strings and check that `columns` exist.

    A CSV is decoded and split as `run` reads an export (UTF-8 with or without a BOM, UTF-16,
    Windows-1252; comma, semicolon, tab or bar); a JSONL line that is not a JSON object is
    named by its number.

    Raises:
        InputError: the file is missing, empty, unreadable, or lacks a column.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; cluster and evaluate read one file")
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        if path.suffix.lower() == ".parquet":
            frame = pl.read_parquet(path)
        else:
            text, _ = _decode(path.read_bytes())
            if not text.strip():
                raise InputError(f"{path}: the file is empty")
            if path.suffix.lower() in (".jsonl", ".ndjson"):
                frame = _jsonl_frame(path, text)
            else:
                frame = pl.read_csv(
                    io.BytesIO(text.encode("utf-8")),
                    separator=_sniff_delimiter(text),
                    infer_schema=False,
                )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(repr(c) for c in missing)} "
            f"(found: {', '.join(frame.columns)})"
        )
    return frame.select([pl.col(c).cast(pl.String) for c in columns])


def _jsonl_frame(path: Path, text: str) -> pl.DataFrame:
    rows: list[dict[str, str | None]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {number}: is not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise InputError(f"{path} line {number}: is a JSON {type(obj).__name__}, not an object")
        rows.append({str(k): _as_text(v) for k, v in obj.items()})
    names = list(dict.fromkeys(k for row in rows for k in row))
    return pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String))


def _enough_rows(path: Path, frame: pl.DataFrame, seed_column: str | None) -> None:
    """Refuse a file too small to discover reasons in before the model is loaded."""
    if seed_column is None and frame.height < MIN_TEXTS:
        raise InputError(
            f"{path}: {frame.height} rows; discovering reasons needs at least {MIN_TEXTS}"
        )


def discover(
    texts: list[str], vectors: np.ndarray, settings: Settings, embedder: Embedder
) -> ReasonDiscovery:
    """Discover reasons in redacted texts with their vectors.

    The step `cluster`, `evaluate` and the benchmarks share; languages are detected here, as the
    weekly flow does per call.
    """
    return discover_reasons(
        texts,
        vectors,
        settings.cluster,
        embedding_model=embedder,
        languages=detect_languages(texts),
    )


def prepare_texts(texts: list[str | None]) -> list[str]:
    """The text each reason is found from: redacted, up to a second matter the note adds.

    As the weekly flow reads a summary (`transcripts.add_reason_text`).
    """
    return [primary_reason(redact_text(t or "")) for t in texts]


def cluster_texts(
    texts: list[str],
    settings: Settings,
    embedder: Embedder | None = None,
    seeds: list[str | None] | None = None,
) -> tuple[np.ndarray, dict[int, str], dict[str, float]]:
    """Redact, embed and cluster texts; return labels, reason labels and timings.

    With `seeds` (a known reason's name per row, None where unknown) the reasons are found by
    seeded discovery (`seeded.discover_seeded`): known reasons are named by their seed.
    """
    embedder = embedder or load_embedder(settings.embedding)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    clean = prepare_texts(list(texts))
    vectors = embedder.embed(clean)
    timings["embed_seconds"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    if seeds is not None:
        from contact_reasons.seeded import discover_seeded, name_seeded

        languages = detect_languages(clean)
        found = discover_seeded(
            vectors, seeds, settings.cluster, settings.seeded, languages=languages
        )
        names = name_seeded(clean, vectors, found, settings.cluster, embedder.embed, languages)
        timings["cluster_seconds"] = round(time.perf_counter() - start, 2)
        return np.asarray(found.labels), names, timings
    discovery = discover(clean, vectors, settings, embedder)
    timings["cluster_seconds"] = round(time.perf_counter() - start, 2)
    names = {int(r["reason_id"]): str(r["label"]) for r in discovery.reasons.iter_rows(named=True)}
    return np.asarray(discovery.labels), names, timings


def _seed_values(frame: pl.DataFrame, seed_column: str | None) -> list[str | None] | None:
    if seed_column is None:
        return None
    return [v if v is not None and v.strip() else None for v in frame[seed_column].to_list()]


def cluster_file(
    path: Path,
    id_column: str,
    text_column: str,
    settings: Settings,
    seed_column: str | None = None,
) -> pl.DataFrame:
    """Cluster a file's texts: one row per input row, `id,reason_id,reason_label`.

    With `seed_column`, a row with a value there is an example of the known reason it names;
    rows assigned to a known reason get that name as `reason_label`.
    """
    columns = [id_column, text_column] + ([seed_column] if seed_column else [])
    frame = read_table(path, columns)
    _enough_rows(path, frame, seed_column)
    labels, names, _ = cluster_texts(
        frame[text_column].fill_null("").to_list(),
        settings,
        seeds=_seed_values(frame, seed_column),
    )
    return pl.DataFrame(
        {
            "id": frame[id_column],
            "reason_id": pl.Series(labels, dtype=pl.Int64),
            "reason_label": [names.get(int(i), "") if i != -1 else "" for i in labels],
        }
    )


def evaluate_file(
    path: Path,
    id_column: str,
    text_column: str,
    label_column: str,
    settings: Settings,
    seed_column: str | None = None,
) -> dict[str, Any]:
    """Cluster a labelled file and score the reasons found against its labels.

    With `seed_column`, seeded discovery runs and only the rows without a seed are scored (a
    seed's reason is given, not found).
    """
    columns = [id_column, text_column, label_column] + ([seed_column] if seed_column else [])
    frame = read_table(path, columns)
    _enough_rows(path, frame, seed_column)
    seeds = _seed_values(frame, seed_column)
    labels, _, timings = cluster_texts(
        frame[text_column].fill_null("").to_list(), settings, seeds=seeds
    )
    truth = frame[label_column].fill_null("").to_list()
    result: dict[str, Any] = {"file": str(path), "texts": frame.height}
    if seeds is not None:
        scored = [i for i, s in enumerate(seeds) if s is None]
        if not scored:
            raise InputError(f"{path}: every row has a value in {seed_column!r}; none to score")
        result["seeds"] = frame.height - len(scored)
        result["scored"] = len(scored)
        truth = [truth[i] for i in scored]
        labels = np.asarray(labels)[scored]
    result.update(score(truth, labels))
    result.update(timings)
    return result
