"""Language detection per call, with lingua's bundled models (no download)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import polars as pl

_CODES = {
    "DANISH": "da",
    "BOKMAL": "nb",
    "NYNORSK": "nn",
    "ENGLISH": "en",
    "SWEDISH": "sv",
    "GERMAN": "de",
}


@cache
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, name) for name in _CODES]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def detect_languages(texts: Sequence[str | None]) -> list[str | None]:
    """Return an ISO 639-1 code per text (`nb` for Norwegian Bokmål), None when unsure."""
    detector = _detector()
    present = [(i, t) for i, t in enumerate(texts) if t and t.strip()]
    found = detector.detect_languages_in_parallel_of([t for _, t in present])
    out: list[str | None] = [None] * len(texts)
    for (i, _), lang in zip(present, found, strict=True):
        out[i] = _CODES.get(lang.name) if lang is not None else None
    return out


def add_detected_language(calls: pl.DataFrame, column: str = "reason_text") -> pl.DataFrame:
    """Add `detected_language`, detected from `column`."""
    codes = detect_languages(calls[column].to_list())
    return calls.with_columns(pl.Series("detected_language", codes, dtype=pl.String))
