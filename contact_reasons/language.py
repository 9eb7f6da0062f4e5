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
    # Each distinct text is detected once (calls repeat their summaries).
    distinct = list(dict.fromkeys(t for t in texts if t and t.strip()))
    found = detector.detect_languages_in_parallel_of(distinct)
    code = {
        t: (_CODES.get(lang.name) if lang is not None else None)
        for t, lang in zip(distinct, found, strict=True)
    }
    return [code[t] if t and t.strip() else None for t in texts]


def add_detected_language(calls: pl.DataFrame, column: str = "reason_text") -> pl.DataFrame:
    """Add `detected_language`, detected from `column`."""
    codes = detect_languages(calls[column].to_list())
    return calls.with_columns(pl.Series("detected_language", codes, dtype=pl.String))
