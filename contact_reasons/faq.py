"""FAQ gaps: which contact reasons the FAQ does not answer, answers in part, or answers unseen.

The decision is made per call, then per reason:

1. **Answerability per call.** Every call's reason text is compared with every FAQ unit (a
   question and its answer, see `faq_units`), both embedded with the calls' prompt by default
   (`FaqSettings.unit_prompt`: a call and a unit compared like with like). Raw cosines do not
   carry across embedding models or FAQ sites (one model puts everything at 0.8, another at
   0.3), so the similarities are calibrated on the corpus at hand: each is centred on the
   call's median over all units (how close this call is to FAQ text at all), on the unit's
   median over all calls (how close this unit is to any call) and on the median of its pair of
   languages (a model puts a call a little nearer everything in its own language), and scaled
   by the residuals' robust spread (MAD). Most call/unit pairs are unrelated, so these
   residuals are a null distribution; unrelated pairs fall as far below zero as above it,
   related ones only above. The threshold for "unit u answers call c" is the lowest at which
   the mirrored lower tail (the false answers expected) is at most `answer_fdr` of the pairs
   above it. A call is *touched* by a page when its similarity to the
   page as a whole (the mean of its similarities to the page's units) clears the same test at
   `touch_fdr`.
2. **Coverage per reason** is the share of its calls some unit answers, with the unit that
   answers most of them named. The kind: `covered` or `findability` when most calls are
   answered (findability when its calls stay high anyway), `improve_page` when most calls are at
   least touched by a page, else `new_page`.

The calibration works across languages as far as the embedding model does (multilingual-e5 puts a
Norwegian question near a Danish answer). Gaps are ranked by calls a page could save a week.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from contact_reasons.config import FaqSettings
from contact_reasons.faq_units import page_documents, read_faq_units, units_as_of
from contact_reasons.language import detect_languages
from contact_reasons.redact import has_placeholder
from contact_reasons.stats import iso_week_of
from contact_reasons.stopwords import ALL as STOPWORDS
from contact_reasons.transcripts import split_sentences

__all__ = [
    "answerability",
    "faq_passages",
    "faq_recommendations",
    "page_documents",
    "read_faq_units",
    "suggest_title",
]

#: Reasons with one of these catalogue statuses are not FAQ material.
EXCLUDED_STATUSES = frozenset({"ignored", "not_faq", "not-faq", "merged"})
#: Share of callers whose call goes unanswered who never call back (the project's brief).
NEVER_CALL_BACK = 0.85

_FILLER = re.compile(
    r"^(?:\W*(?:ja|jo|nå|nu|og|and|men|but|så|so|altså|eh+m?|øh+m?|hmm+|um+|uh+|okay|ok|hej|hei|"
    r"hallo|hello|hi|goddag|god\s+dag|godmorgen|god\s+morgen|good\s+morning|tak|takk|"
    r"det\s+er\s+fordi|jeg\s+ringer\s+(?:fordi|om|angående)|i'?m\s+calling\s+(?:because|about)|"
    r"jeg\s+lurte\s+på|jeg\s+ville\s+(?:bare\s+)?høre|jeg\s+vil\s+(?:bare\s+)?høre|"
    r"i\s+was\s+wondering|yes|yeah|well|nå\s+ja)\b[\s,.!:]*)+",
    re.IGNORECASE,
)
_INTERROGATIVE = {
    "da": r"hvordan|hvorfor|hvornår|hvad|hvor|hvem|hvilke[nt]?|kan|skal|må|er|har|vil|får|bliver",
    "nb": r"hvordan|hvorfor|når|hva|hvor|hvem|hvilke[nt]?|kan|skal|må|er|har|vil|får|blir",
    "en": r"how|why|when|what|where|who|which|can|could|should|do|does|did|is|are|will|have|has",
}
_LANGUAGE_GROUP = {"nn": "nb", "no": "nb"}
_NULL_SAMPLE = 4_000_000
_FLOAT64_PAIRS = 20_000_000


def faq_passages(units: pl.DataFrame, max_chars: int = 1200) -> list[str]:
    """The text embedded for each unit: its page's title, its question, then its answer."""
    return [
        f"{title}\n{question}\n{answer[:max_chars]}" if question != title else f"{title}\n{answer}"
        for title, question, answer in zip(
            units["page_title"], units["question"], units["answer"], strict=True
        )
    ]


def _robust_residuals(
    sims: np.ndarray,
    row_groups: Sequence[str | None] | None = None,
    column_groups: Sequence[str | None] | None = None,
    fit_rows: np.ndarray | None = None,
) -> np.ndarray:
    """Similarities centred on their row's and column's medians, in units of their robust spread.

    With groups (the languages of calls and of units), each block of a row group and a column
    group is centred on its own median too: a model puts a Danish call a little nearer every
    Danish text than every Norwegian one, and that offset says nothing about the answer.

    `fit_rows` (sorted row indices): the column and block medians and the spread are measured on
    these rows only and applied to every row; None: on all rows. A row's own median is always
    its own.
    """
    fit = slice(None) if fit_rows is None else fit_rows
    centred = sims - np.median(sims, axis=1, keepdims=True)
    centred -= np.median(centred[fit], axis=0, keepdims=True)
    if row_groups is not None and column_groups is not None:
        rows = np.array([_group(x) for x in row_groups])
        columns = np.array([_group(x) for x in column_groups])
        # The blocks are disjoint, so each one's median is read before any subtraction
        # reaches it, whether `sample` is a view of `centred` or a copy of its fit rows.
        sample, sample_groups = centred[fit], rows[fit]
        for row_group in np.unique(rows):
            in_sample = sample_groups == row_group
            if not in_sample.any():  # a language only outside the sample: its block as it is
                continue
            for column_group in np.unique(columns):
                in_columns = columns == column_group
                offset = np.median(sample[np.ix_(in_sample, in_columns)])
                centred[np.ix_(rows == row_group, in_columns)] -= offset
    scale = 1.4826 * float(np.median(np.abs(centred[fit])))
    return centred / max(scale, 1e-9)


def calibration_rows(n: int, max_calls: int, seed: int = 0) -> np.ndarray | None:
    """The rows answerability is calibrated on: None (all) up to `max_calls`, else a sample."""
    if n <= max_calls:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, max_calls, replace=False))


def _group(language: str | None) -> str:
    return _LANGUAGE_GROUP.get(language or "", language or "")


def null_threshold(scores: np.ndarray, fdr: float) -> float:
    """The lowest score at which the mirrored lower tail is at most `fdr` of the upper tail.

    Unrelated pairs spread evenly around zero; only related pairs add to the upper tail. So
    #(score < -t) estimates the unrelated pairs above t, and their share of #(score > t) is the
    false-answer rate at t. Returns +inf when no threshold reaches `fdr`.
    """
    flat = np.asarray(scores).ravel()
    if flat.size > _NULL_SAMPLE:  # an even stride over all pairs estimates the tails as well
        flat = flat[:: flat.size // _NULL_SAMPLE + 1]
    flat = np.sort(flat.astype(np.float64))
    lower = np.sort(-flat[flat < 0])  # |negative scores|, ascending
    upper = flat[flat > 0]
    if upper.size == 0:
        return math.inf
    above = upper.size - np.arange(upper.size)  # pairs scoring at least upper[i]
    below = lower.size - np.searchsorted(lower, upper, side="left")
    passing = np.flatnonzero(below <= fdr * above)
    return float(upper[passing[0]]) if passing.size else math.inf


def answerability(
    call_vectors: np.ndarray,
    units: pl.DataFrame,
    unit_vectors: np.ndarray,
    settings: FaqSettings,
    call_languages: Sequence[str | None] | None = None,
) -> pl.DataFrame:
    """Decide per call whether an FAQ unit answers it, and whether a page touches it.

    `call_languages` (aligned with `call_vectors`) and the units' `language` column, when given,
    take out the model's pull towards texts in the call's own language.

    Returns one row per call (aligned with `call_vectors`): `unit_index` (best unit, -1 without
    units), `score` (its calibrated similarity), `answered`, `touched`, `page_score`.
    """
    n = call_vectors.shape[0]
    if units.height == 0 or n == 0:
        return pl.DataFrame(
            {
                "unit_index": np.full(n, -1, dtype=np.int64),
                "score": np.zeros(n),
                "answered": np.zeros(n, dtype=bool),
                "touched": np.zeros(n, dtype=bool),
                "page_score": np.zeros(n),
            }
        )
    fit = calibration_rows(n, settings.calibration_calls)
    # float64 where it is cheap (exact ties across cosine scales); float32 for big windows.
    dtype = np.float64 if fit is None and n * units.height <= _FLOAT64_PAIRS else np.float32
    call_vectors = np.asarray(call_vectors, dtype=dtype)
    unit_vectors = np.asarray(unit_vectors, dtype=dtype)
    sims = call_vectors @ unit_vectors.T
    unit_languages = units["language"].to_list() if "language" in units.columns else None
    if call_languages is None or unit_languages is None:
        call_languages = unit_languages = None
    unit_scores = _robust_residuals(sims, call_languages, unit_languages, fit)
    # A page's similarity is the mean of its units' (not the cosine to a normalised centroid),
    # so that like the units' it moves in step with the model's cosine scale.
    urls = units["url"].to_list()
    page_ids = sorted(set(urls))
    index = np.array([page_ids.index(u) for u in urls])
    members = np.zeros((len(urls), len(page_ids)))
    members[np.arange(len(urls)), index] = 1.0
    page_languages = None
    if unit_languages is not None:
        first_language = dict(zip(urls[::-1], unit_languages[::-1], strict=True))
        page_languages = [first_language[p] for p in page_ids]
    page_scores = _robust_residuals(
        sims @ (members / members.sum(axis=0, keepdims=True)), call_languages, page_languages, fit
    )
    fitted = slice(None) if fit is None else fit
    answer_at = null_threshold(unit_scores[fitted], settings.answer_fdr)
    touch_at = null_threshold(page_scores[fitted], settings.touch_fdr)
    best = unit_scores.argmax(axis=1)
    score = unit_scores[np.arange(n), best]
    page_score = page_scores.max(axis=1)
    answered = score >= answer_at
    return pl.DataFrame(
        {
            "unit_index": best.astype(np.int64),
            "score": score.astype(np.float64),
            "answered": answered,
            "touched": answered | (page_score >= touch_at),
            "page_score": page_score.astype(np.float64),
        }
    )


def faq_recommendations(
    reasons: pl.DataFrame,
    calls: pl.DataFrame,
    call_reasons: pl.DataFrame,
    call_vectors: np.ndarray,
    units: pl.DataFrame,
    unit_vectors: np.ndarray,
    settings: FaqSettings,
    weeks: int,
    language: str | None = None,
) -> pl.DataFrame:
    """One row per FAQ-worthy reason: its kind of gap and what a web team needs to act on it.

    Args:
        reasons: `reason_id`, `label` (optional `status`: ignored and not-faq reasons are left out).
        calls: the calls (`call_id`, `week`, `reason_text`, `customer_text`, optional
            `detected_language`, `answered`), redacted.
        call_reasons: `call_id`, `reason_id`, rows aligned with `call_vectors`.
        call_vectors: normalised vectors of the calls' reason texts.
        units: FAQ units (`faq_units.read_faq_units`; `page_date` may be filled from the store).
        unit_vectors: normalised vectors of the units' texts (`faq_passages`, embedded with
            `settings.unit_prompt`), rows aligned with `units`.
        settings: calibration levels and the savings assumptions.
        weeks: weeks the calls span, to turn counts into calls a week.
        language: the report language (`report.language`): a reason with calls in it gets its
            suggested title from those callers' questions; else from its main language's.

    Returns:
        Rows ranked by estimated calls saved a week (gaps first, `covered` reasons last), with
        the columns of the `faq_recommendations` table.
    """
    if "first_read_at" in units.columns:  # a page without a date: the day it was first read
        first = units.filter(pl.col("first_read_at").is_not_null())
        first = first.group_by("url").agg(pl.col("first_read_at").min())
        units = units_as_of(units, dict(zip(first["url"], first["first_read_at"], strict=True)))
    languages = None
    if "detected_language" in calls.columns:
        language_of = dict(zip(calls["call_id"], calls["detected_language"], strict=True))
        languages = [language_of.get(c) for c in call_reasons["call_id"]]
    decided = answerability(call_vectors, units, unit_vectors, settings, languages)
    columns = [c for c in _CALL_COLUMNS if c in calls.columns]
    frame = (
        pl.concat([_centrality(call_reasons), decided], how="horizontal")
        .join(
            calls.select(columns).rename({"answered": "answered_call"}, strict=False),
            on="call_id",
            how="left",
            maintain_order="left",
        )
        .filter(pl.col("reason_id") != -1)
    )
    if "status" in reasons.columns:
        reasons = reasons.filter(
            pl.col("status").is_null() | ~pl.col("status").is_in(sorted(EXCLUDED_STATUSES))
        )
    info = {r["reason_id"]: r for r in reasons.iter_rows(named=True)}
    frame = frame.filter(pl.col("reason_id").is_in(list(info)))
    if frame.height == 0:
        return empty_recommendations()
    all_weeks = sorted(calls["week"].drop_nulls().unique().to_list()) if "week" in columns else []
    try:
        rows = _recommend_all(frame, info, units, settings, language, all_weeks, weeks)
    finally:
        _content_words.cache_clear()
    out = pl.DataFrame(rows, schema_overrides=_SCHEMA)
    order = pl.col("recommendation").replace_strict(_KIND_ORDER, default=9, return_dtype=pl.Int32)
    out = out.sort(
        [order == _KIND_ORDER["covered"], "estimated_calls_saved", "calls", "reason_id"],
        descending=[False, True, True, False],
    )
    out = out.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int32))
    return out.select(empty_recommendations().columns)


def _recommend_all(
    frame: pl.DataFrame,
    info: dict[Any, dict[str, Any]],
    units: pl.DataFrame,
    settings: FaqSettings,
    language: str | None,
    all_weeks: list[str],
    weeks: int,
) -> list[dict[str, Any]]:
    """`_recommend` for each reason of `frame`, with its volume, key terms, kind and savings."""
    volumes = frame.group_by("reason_id").len()["len"].to_numpy() / max(weeks, 1)
    busy = float(np.median(volumes)) if volumes.size else 0.0
    document_freq = _document_frequencies(frame)
    callers_freq = _document_frequencies(frame, "customer_text")
    rows = []
    for (reason_id,), mine in frame.group_by("reason_id", maintain_order=True):
        row = _recommend(
            int(reason_id),
            str(info[reason_id].get("label") or ""),
            mine,
            units,
            settings,
            language,
            callers_freq,
        )
        row |= _volume(mine, all_weeks, weeks, row["page_date"])
        row["key_terms"] = _key_terms(mine, document_freq, settings.key_terms)
        row |= _kind_and_savings(row, busy, settings)
        rows.append(row)
    distinct_titles(rows)
    for row in rows:
        del row["_titles"], row["_asked"], row["_recent_per_week"]
    return rows


def _centrality(call_reasons: pl.DataFrame) -> pl.DataFrame:
    """Call id, reason id and how typical the call is of its reason (`similarity`, else 0)."""
    typical = pl.col("similarity") if "similarity" in call_reasons.columns else pl.lit(0.0)
    return call_reasons.select(
        "call_id", "reason_id", typical.cast(pl.Float64).fill_null(0.0).alias("centrality")
    )


_CALL_COLUMNS = ("call_id", "week", "reason_text", "customer_text", "detected_language", "answered")
_KIND_ORDER = {"new_page": 0, "improve_page": 1, "findability": 2, "covered": 3}


def _recommend(
    reason_id: int,
    label: str,
    mine: pl.DataFrame,
    units: pl.DataFrame,
    settings: FaqSettings,
    preferred: str | None = None,
    callers_freq: tuple[Counter[str], int] | None = None,
) -> dict:
    n = mine.height
    coverage = float(mine["answered"].cast(pl.Float64).mean() or 0.0)  # type: ignore[arg-type]
    touched = float(mine["touched"].cast(pl.Float64).mean() or 0.0)  # type: ignore[arg-type]
    best = None
    if units.height:
        # The unit that answers most of the reason's calls; else the one most of them are near.
        pool = mine.filter(pl.col("answered")) if coverage > 0 else mine
        counts = Counter(pool["unit_index"].to_list())
        best = max(counts, key=lambda i: (counts[i], -i))
    languages = _languages(mine)
    language = languages[0][0] if languages else None
    if preferred is not None and any(lang == preferred for lang, _ in languages):
        language = preferred  # the readers' language, where the reason's callers use it
    asked_by = _asked(mine, language)
    asked = list(asked_by)
    weights = None
    if callers_freq is not None:
        # The questions whose words are most typical of this reason's callers come first: in
        # a reason that mixes topics, the most frequent question may be a minority's.
        weights = _typical_words(mine, callers_freq, "customer_text")
        asked = sorted(asked, key=lambda q: -_text_weight(q, weights))
    questions = _in_language(asked[:40], language)
    phrasings = _phrasings(mine, settings.phrasings_per_reason, weights)
    best_unit = units.row(best, named=True) if best is not None else {}
    open_questions = _questions(
        mine.filter(~pl.col("answered") | (pl.col("unit_index") != (best or 0))), language
    )
    typical = mine.sort(["centrality", "call_id"], descending=[True, False])
    examples = typical["call_id"].head(settings.examples).to_list()
    titles = rank_titles(questions, phrasings, label, language, weights)
    return {
        "reason_id": reason_id,
        "label": label,
        "calls": n,
        "coverage": round(coverage, 3),
        "touched": round(touched, 3),
        "best_doc_id": best_unit.get("url"),
        "best_doc_title": best_unit.get("page_title"),
        "best_unit_id": best_unit.get("unit_id"),
        "best_url": best_unit.get("url"),
        "best_question": best_unit.get("question"),
        "similarity": float(mine["score"].median()) if best is not None else None,  # type: ignore[arg-type]
        "margin": float(mine["page_score"].median()) if best is not None else None,  # type: ignore[arg-type]
        "suggested_title": titles[0] if titles else "",
        "_titles": titles,
        "_asked": asked_by,
        "customer_phrasings": phrasings,
        "unanswered_questions": open_questions[: settings.phrasings_per_reason],
        "language": language,
        "caller_languages": ", ".join(f"{lang} {share:.0%}" for lang, share in languages[:3]),
        "page_date": best_unit.get("page_date"),
        "page_date_source": best_unit.get("page_date_source"),
        "example_call_ids": examples,
    }


RECENT_WEEKS = 4
"""The trend compares the last this-many weeks with the ones before; savings use their rate."""


def _volume(mine: pl.DataFrame, all_weeks: list[str], weeks: int, page_date: date | None) -> dict:
    per_week = mine.height / max(weeks, 1)
    counts = Counter(mine["week"].to_list()) if "week" in mine.columns else Counter()
    series = [counts.get(w, 0) for w in all_weeks]
    recent, earlier = series[-RECENT_WEEKS:], series[-2 * RECENT_WEEKS : -RECENT_WEEKS]
    trend, trend_pct = "steady", None
    if earlier and sum(earlier) == 0 and sum(recent) > 0:
        trend = "new"
    elif earlier:
        change = (float(np.mean(recent)) - float(np.mean(earlier))) / float(np.mean(earlier))
        trend_pct = round(change * 100, 1)
        trend = "rising" if change >= 0.25 else "falling" if change <= -0.25 else "steady"
    before = after = None
    if page_date is not None and all_weeks:
        start = iso_week_of(page_date)
        pre = [n for w, n in zip(all_weeks, series, strict=True) if w < start]
        post = [n for w, n in zip(all_weeks, series, strict=True) if w >= start]
        before = round(float(np.mean(pre)), 2) if pre else None
        after = round(float(np.mean(post)), 2) if post else None
    unanswered = 0
    if "answered_call" in mine.columns:
        unanswered = int((~mine["answered_call"].fill_null(True)).sum())
    return {
        "calls_per_week": round(per_week, 2),
        # The calls a page can save are those still to come: the rate of the trend's last
        # weeks, not the window's mean (an emerging reason's mean is a fraction of its rate).
        "_recent_per_week": float(np.mean(recent)) if recent else per_week,
        "trend": trend,
        "trend_pct": trend_pct,
        "unanswered_calls_per_week": round(unanswered / max(weeks, 1), 2),
        "calls_per_week_before": before,
        "calls_per_week_after": after,
    }


def _kind_and_savings(row: dict, busy: float, settings: FaqSettings) -> dict:
    """The kind of gap, and the calls a page could save a week with its assumption in words."""
    per_week, coverage = row["calls_per_week"], row["coverage"]
    before, after = row["calls_per_week_before"], row["calls_per_week_after"]
    now = row["_recent_per_week"]  # the rate savings are figured on (`_volume`)
    if coverage >= 0.5:
        # Answered, yet callers still call: judged by the page's own before/after where the
        # window has both, else by whether the reason is among the busier half.
        if before and after is not None:
            stays_high = after >= settings.findability_remaining * before
        else:
            stays_high = per_week >= busy
        kind = "findability" if stays_high else "covered"
    elif row["touched"] >= 0.5:
        kind = "improve_page"
    else:
        kind = "new_page"
    open_calls = now * (1 - coverage)
    if kind == "new_page":
        rate, base, what = settings.deflection_new_page, open_calls, "a new page answers"
    elif kind == "improve_page":
        rate, base, what = settings.deflection_improve_page, open_calls, "a better page answers"
    elif kind == "findability":
        rate = settings.deflection_findability
        base, what = now * coverage, "linking the page where people look answers"
    else:
        rate, base, what = 0.0, 0.0, "nothing to gain:"
    saved = round(base * rate, 1)
    if kind == "covered":
        assumption = "the FAQ answers these calls and their number fell or is low"
    else:
        assumption = f"{what} {rate:.0%} of the {base:.1f} calls/week " + (
            "that reach a page which answers them" if kind == "findability" else "no unit answers"
        )
        assumption += f" (the rate of the last {RECENT_WEEKS} weeks)"
    lost = row["unanswered_calls_per_week"]
    if lost and kind != "covered":
        assumption += (
            f"; {lost:.1f} calls/week more go unanswered, and {NEVER_CALL_BACK:.0%} of callers "
            "who are not answered never call back, so a page also reaches demand the phone loses"
        )
    return {
        "recommendation": kind,
        "estimated_calls_saved": saved,
        "savings_assumption": assumption,
    }


def _languages(mine: pl.DataFrame) -> list[tuple[str, float]]:
    if "detected_language" not in mine.columns:
        return []
    found = [_LANGUAGE_GROUP.get(x, x) for x in mine["detected_language"].drop_nulls().to_list()]
    counts = Counter(found)
    total = sum(counts.values())
    return [(lang, n / total) for lang, n in counts.most_common()] if total else []


def _sentences(text: str | None) -> list[str]:
    if not text:
        return []
    out = []
    for raw in split_sentences(text.replace(",  ", ", ")):
        sentence = _FILLER.sub("", raw.strip()).strip(" ,;:-")
        if sentence:
            out.append(sentence)
    return out


def _is_question(sentence: str, language: str | None) -> bool:
    if sentence.endswith("?"):
        return True
    pattern = _INTERROGATIVE.get(language or "", "")
    return bool(pattern) and re.match(rf"^(?:{pattern})\b", sentence, re.IGNORECASE) is not None


def _questions(mine: pl.DataFrame, language: str | None) -> list[str]:
    """The callers' own question-form sentences, in `language` first, most frequent first."""
    return list(_asked(mine, language))


def _asked(mine: pl.DataFrame, language: str | None) -> dict[str, int]:
    """`_questions`, each with the number of the reason's calls that ask it."""
    texts = mine["customer_text"].to_list() if "customer_text" in mine.columns else []
    langs = (
        [_LANGUAGE_GROUP.get(x, x) for x in mine["detected_language"].to_list()]
        if "detected_language" in mine.columns
        else [None] * len(texts)
    )
    found: Counter[str] = Counter()
    first: dict[str, str] = {}
    for text, lang in zip(texts, langs, strict=True):
        if language is not None and lang != language:
            continue
        for sentence in _sentences(text):
            words = sentence.split()
            if 4 <= len(words) <= 22 and _is_question(sentence, lang):
                key = sentence.lower().rstrip("?. ")
                found[key] += 1
                first[key] = min(first.get(key, sentence), sentence)  # whatever the order
    # Ties by the question's text, not by which call came first: the window's calls come
    # in another order from a run that stored them than from one that read them.
    ranked = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    return {_as_question(first[k]): n for k, n in ranked}


def _in_language(questions: list[str], language: str | None) -> list[str]:
    """The questions written in `language` (callers switch languages mid-call), else all."""
    if not questions or language is None:
        return questions
    detected = detect_languages(questions)
    same = [q for q, lang in zip(questions, detected, strict=True) if _group(lang) == language]
    return same or questions


_INDIRECT = re.compile(
    r"^(hvordan|hvorfor|hvornår|hvor|hvad|hva|når|om|how|why|when|where|what|whether|if)\s+"
    r"(jeg|man|vi|du|dere|we|you)\s+(\w+)\b",
    re.IGNORECASE,
)


def _as_question(sentence: str) -> str:
    """A sentence as a direct question: "hvordan jeg sier opp" becomes "hvordan sier jeg opp"."""
    sentence = sentence.strip().rstrip(".!,; ")
    indirect = _INDIRECT.match(sentence)
    if indirect and indirect[1].lower() not in ("om", "whether", "if"):
        sentence = f"{indirect[1]} {indirect[3]} {indirect[2]}" + sentence[indirect.end() :]
    sentence = sentence.rstrip("?!. ") + "?"  # "... for lang??" reads as one question
    return sentence[0].upper() + sentence[1:]


def _phrasings(mine: pl.DataFrame, n: int, weights: Mapping[str, float] | None = None) -> list[str]:
    """The customers' own words, the reason's most typical calls first, distinct, short enough.

    With `weights` (as `suggest_title` takes them), a call is the more typical the more its
    caller's words weigh; else, the nearer it is to the reason's centre (`centrality`).
    """
    out: list[str] = []
    if weights is not None and "customer_text" in mine.columns:
        typical = [_text_weight(t or "", weights) for t in mine["customer_text"].to_list()]
        mine = mine.with_columns(pl.Series("typical", typical, dtype=pl.Float64))
        ordered = mine.sort(["typical", "centrality", "call_id"], descending=[True, True, False])
    else:
        ordered = mine.sort(["centrality", "call_id"], descending=[True, False])
    own = ordered["customer_text"].to_list() if "customer_text" in ordered.columns else []
    noted = ordered["reason_text"].to_list() if "reason_text" in ordered.columns else []
    kept: list[str] = []
    for text in [*(t for t in own if t), *(t for t in noted if t)]:
        text = " ".join(str(text).split())
        if len(text) > 220:
            text = text[:217].rsplit(" ", 1)[0] + "..."
        key = _phrasing_key(text)
        if text and not any(_near(key, other) for other in kept):  # the same key is near
            kept.append(key)
            out.append(text)
        if len(out) >= n:
            break
    return out


def _phrasing_key(text: str) -> str:
    """A phrasing as phrasings compare it: lower case, its words only."""
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def _near(a: str, b: str, ratio: float = 0.9) -> bool:
    """Whether two phrasings are one said twice, the same words but for a typo or two.

    ("returnummer" / "retrunummer"): a web team should read three different phrasings.
    """
    if a == b:
        return True
    if abs(len(a) - len(b)) > (1 - ratio) * max(len(a), len(b)):
        return False
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # quick_ratio bounds ratio from above and costs a character count, not a match search.
    return matcher.quick_ratio() >= ratio and matcher.ratio() >= ratio


def suggest_title(
    questions: Sequence[str],
    phrasings: Sequence[str],
    label: str,
    language: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> str:
    """Suggest a page title: the callers' own most typical question, in their language.

    With `weights` (word -> how typical it is of the reason's callers: tf-idf over their own
    words against all callers'), the question whose words weigh most is taken. Without, among
    the callers' question-form sentences (most frequent first), the one sharing most words with
    the others: the question most callers ask in some form. Without any question, the first
    customer phrasing that reads as a sentence becomes a question; only without phrasings is
    the reason's label used.
    """
    ranked = rank_titles(questions, phrasings, label, language, weights)
    return ranked[0] if ranked else ""


def rank_titles(
    questions: Sequence[str],
    phrasings: Sequence[str],
    label: str,
    language: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> list[str]:
    """Every title `suggest_title` could give, best first (it gives the first).

    The next ones serve a reason whose best title another reason's callers ask more
    (`distinct_titles`).
    """
    pool = list(questions[:40])
    order: list[int] = []
    if pool and weights is not None:
        order = sorted(range(len(pool)), key=lambda i: (-_text_weight(pool[i], weights), i))
    elif pool:
        bags = [_content_words(q, language) for q in pool]
        totals = Counter(w for bag in bags for w in bag)

        def typical(i: int) -> float:
            bag = bags[i]
            if not bag:
                return 0.0
            return sum(totals[w] - 1 for w in bag) / math.sqrt(len(bag)) - 0.01 * i

        order = sorted(range(len(pool)), key=lambda i: -typical(i))
    ranked = [pool[i] for i in order]
    for text in phrasings:
        for sentence in _sentences(text):
            if len(sentence.split()) >= 4:
                ranked.append(_as_question(sentence[:140]))
                break
    if label:
        ranked.append(_as_question(label))
    # A caller's question with a redaction placeholder in it ("Kan du lige rette min adresse,
    # det er [ADDRESS]?") is no page title: it goes after every title without one.
    return sorted(ranked, key=has_placeholder)


def distinct_titles(rows: list[dict[str, Any]]) -> None:
    """Give every gap its own suggested title, in place.

    An over-split or mixed reason's best title can be another reason's question: the demo's
    "Kan jeg si opp forsikringen fra 1. januar, har fått et bedre tilbud?" headed both the
    cancellations and a mixed reason of slow orders. A title the callers of several reasons
    ask stays with the reason whose calls ask it most (ties: more calls, then the lower id);
    the others take their next title no other reason keeps. A reason with nothing else left
    keeps its title. Rows need `_titles` (`rank_titles`) and `_asked` (question -> calls).
    """
    choice = {id(row): 0 for row in rows}

    def key(row: dict[str, Any]) -> str:
        titles = row["_titles"]
        return _phrasing_key(titles[choice[id(row)]]) if titles else ""

    def strength(row: dict[str, Any]) -> tuple[int, int, int]:
        title = row["_titles"][choice[id(row)]]
        return (row["_asked"].get(title, 0), row["calls"], -row["reason_id"])

    for _ in range(max((len(r["_titles"]) for r in rows), default=0)):
        holders: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row["_titles"]:
                holders.setdefault(key(row), []).append(row)
        moved = False
        kept = {k for k, group in holders.items() if len(group) == 1}
        for k, group in holders.items():
            if len(group) < 2:
                continue
            winner = max(group, key=strength)
            kept.add(k)
            for row in group:
                if row is winner:
                    continue
                nxt = next(
                    (
                        i
                        for i in range(choice[id(row)] + 1, len(row["_titles"]))
                        if _phrasing_key(row["_titles"][i]) not in kept
                        and _phrasing_key(row["_titles"][i]) not in holders
                    ),
                    None,
                )
                if nxt is not None:
                    choice[id(row)] = nxt
                    moved = True
        if not moved:
            break
    for row in rows:
        if row["_titles"]:
            row["suggested_title"] = row["_titles"][choice[id(row)]]


def _text_weight(text: str, weights: Mapping[str, float]) -> float:
    """How much a text's words weigh (a question for a title, a call for a phrasing)."""
    bag = _content_words(text)
    # fsum: a set's order follows the string hash, which changes from process to process.
    return math.fsum(weights.get(w, 0.0) for w in bag) / math.sqrt(len(bag)) if bag else 0.0


@functools.lru_cache(maxsize=1 << 18)
def _content_words(text: str, language: str | None = None) -> frozenset[str]:
    # Cached: each call's text is counted for the window's word frequencies and again for its
    # reason's (reason texts and the callers' own words), and texts repeat. Emptied at the
    # end of each `faq_recommendations`.
    words = re.findall(r"[^\W\d_][^\W_]{2,}", text.lower())
    return frozenset(w for w in words if w not in STOPWORDS)


def _document_frequencies(
    frame: pl.DataFrame, column: str = "reason_text"
) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    for text in frame[column].to_list() if column in frame.columns else []:
        counts.update(_content_words(text or "", None))
    return counts, max(frame.height, 1)


def _typical_words(
    mine: pl.DataFrame, document_freq: tuple[Counter[str], int], column: str
) -> dict[str, float]:
    """Each word's tf-idf in the reason: how much more its calls use it than calls in general."""
    df, total = document_freq
    counts: Counter[str] = Counter()
    for text in mine[column].to_list() if column in mine.columns else []:
        counts.update(_content_words(text or "", None))
    return {w: (c / mine.height) * math.log(total / df[w]) for w, c in counts.items() if df.get(w)}


def _key_terms(mine: pl.DataFrame, document_freq: tuple[Counter[str], int], n: int) -> list[str]:
    """Words the reason's calls use far more than calls in general (tf-idf over its calls).

    Words with a digit are left out: a return or order number ("rt5531") that a few callers
    repeat is no term a page is written about.
    """
    scored = _typical_words(mine, document_freq, "reason_text")
    words = [(w, v) for w, v in scored.items() if not any(ch.isdigit() for ch in w)]
    return [w for w, _ in sorted(words, key=lambda kv: (-kv[1], kv[0]))[:n]]


_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "reason_id": pl.Int32,
    "label": pl.String,
    "calls": pl.Int64,
    "coverage": pl.Float64,
    "touched": pl.Float64,
    "best_doc_id": pl.String,
    "best_doc_title": pl.String,
    "best_unit_id": pl.String,
    "best_url": pl.String,
    "best_question": pl.String,
    "similarity": pl.Float64,
    "margin": pl.Float64,
    "suggested_title": pl.String,
    "customer_phrasings": pl.List(pl.String),
    "unanswered_questions": pl.List(pl.String),
    "language": pl.String,
    "caller_languages": pl.String,
    "page_date": pl.Date,
    "page_date_source": pl.String,
    "example_call_ids": pl.List(pl.String),
    "calls_per_week": pl.Float64,
    "trend": pl.String,
    "trend_pct": pl.Float64,
    "unanswered_calls_per_week": pl.Float64,
    "key_terms": pl.List(pl.String),
}


def empty_recommendations() -> pl.DataFrame:
    """An empty frame with the columns of the `faq_recommendations` table."""
    return pl.DataFrame(
        schema={
            "rank": pl.Int32,
            "reason_id": pl.Int32,
            "label": pl.String,
            "recommendation": pl.String,
            "calls": pl.Int64,
            "calls_per_week": pl.Float64,
            "estimated_calls_saved": pl.Float64,
            "best_doc_id": pl.String,
            "best_doc_title": pl.String,
            "similarity": pl.Float64,
            "margin": pl.Float64,
            "suggested_title": pl.String,
            "customer_phrasings": pl.List(pl.String),
            "coverage": pl.Float64,
            "touched": pl.Float64,
            "best_unit_id": pl.String,
            "best_url": pl.String,
            "best_question": pl.String,
            "unanswered_questions": pl.List(pl.String),
            "key_terms": pl.List(pl.String),
            "trend": pl.String,
            "trend_pct": pl.Float64,
            "language": pl.String,
            "caller_languages": pl.String,
            "unanswered_calls_per_week": pl.Float64,
            "savings_assumption": pl.String,
            "page_date": pl.Date,
            "page_date_source": pl.String,
            "calls_per_week_before": pl.Float64,
            "calls_per_week_after": pl.Float64,
            "example_call_ids": pl.List(pl.String),
        }
    )
