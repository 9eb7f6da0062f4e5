"""Short human labels for reasons, in the calls' own language, built from their keywords.

No language model is available, so a label is the best one or two keyword n-grams (ranked by
c-TF-IDF, KeyBERTInspired and MMR), e.g. "card arrival / card delivery" or "adresseændring /
flytning". Words come verbatim from the (redacted) texts, so the label is in their language.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

SEPARATOR = " / "


def _tokens(term: str) -> set[str]:
    # A crude stem (no plural s, first five letters): "verify", "verification" are one word.
    return {w.rstrip("s")[:5] for w in term.lower().split()}


def _redundant(term: str, chosen: Sequence[str]) -> bool:
    low = term.lower()
    for other in chosen:
        o = other.lower()
        if low in o or o in low or _tokens(term) <= _tokens(other):
            return True
    return False


def reason_label(keywords: Sequence[str], max_terms: int = 2, *, fallback: str = "") -> str:
    """Return a label from ranked keywords: up to `max_terms` non-redundant n-grams.

    A phrase (two or more words) among the top three keywords goes first, since it usually
    names the reason better than a single word ('card arrival' over 'arrival'). Terms that are
    contained in a chosen one add nothing and are skipped.

    Args:
        keywords: the reason's keywords, best first.
        max_terms: how many terms to join with ' / '.
        fallback: returned when there are no usable keywords.
    """
    terms = [k.strip() for k in keywords if k and k.strip()]
    if not terms:
        return fallback
    phrases = [t for t in terms[:3] if " " in t]
    ordered = phrases[:1] + [t for t in terms if t not in phrases[:1]]
    chosen: list[str] = []
    for term in ordered:
        if len(chosen) == max_terms:
            break
        if not _redundant(term, chosen):
            chosen.append(term)
    label = SEPARATOR.join(chosen)
    return label[:1].upper() + label[1:]


def name_reasons(reasons: pl.DataFrame, *, max_terms: int = 2) -> pl.DataFrame:
    """Add (or replace) a `label` column from each reason's `keywords`.

    Args:
        reasons: frame with `reason_id: int` and `keywords: list[str]` (best first).
        max_terms: keywords joined per label.

    Returns:
        A new frame with `label: str`; a reason without keywords is named 'Reason <id>'.
    """
    labels = [
        reason_label(kws or [], max_terms, fallback=f"Reason {rid}")
        for rid, kws in zip(
            reasons["reason_id"].to_list(), reasons["keywords"].to_list(), strict=True
        )
    ]
    return reasons.with_columns(pl.Series("label", labels, dtype=pl.String))
