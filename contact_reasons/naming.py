"""Short human labels for reasons, in the calls' own language.

No language model is available, so a label is a phrase the calls themselves use: the n-gram (up
to four words, not starting or ending with a stop word, never across punctuation or a number)
that many of the reason's calls contain and few other calls do, completed where the calls
always continue it the same way ("apple pay to top" -> "apple pay to top up"), and among the
best candidates the one whose embedding is closest to the reason's centre. Examples: "Top up
didn't work", "Gebyr ved sent afbud", "Skift til vinterdæk". Words come verbatim from the
(redacted) texts, so the label is in their language. A reason without such a phrase falls back
to its keywords ("card arrival / card delivery").
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from contact_reasons.stopwords import ALL as STOP_WORDS

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


# Phrases never cross punctuation, a number or a redaction placeholder ("[PHONE]").
_SEGMENT = re.compile(r"\[[A-ZÆØÅ_]+\]|[.,;:!?()\[\]{}/+|–—\"“”«»]|\s-\s|\d+(?:[.,:]\d+)*")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_LENGTH_BONUS = 0.3
"""Each word beyond the first adds this share to a phrase's score: 'skift til vinterdæk' over
'vinterdæk' when nearly as many calls use it."""
_EXTEND_SHARE = 0.6
"""A phrase followed by the same word in this share of its uses is a fragment and is completed."""
_MAX_EXTENDED_WORDS = 6
_PARTICLES = frozenset(
    "up out off down back away op opp ud ut af av inn ind tilbage tilbake".split()
)
"""Stop words that may end a phrase: verb particles ('top up', 'si opp', 'melde av')."""


def _segments(text: str) -> list[list[str]]:
    """The text's word runs between punctuation, numbers and placeholders (surface forms)."""
    return [words for part in _SEGMENT.split(text) if (words := _WORD.findall(part))]


def _edge_ok(word: str) -> bool:
    low = word.lower()
    return low not in STOP_WORDS and (len(low) >= 3 or word.isupper())


def _ngrams(segments: list[list[str]], max_words: int) -> dict[str, str]:
    """Lower-cased n-gram -> its surface form, for every n-gram with content words at both ends."""
    found: dict[str, str] = {}
    for words in segments:
        for i in range(len(words)):
            if not _edge_ok(words[i]):
                continue
            for n in range(1, max_words + 1):
                if i + n > len(words):
                    break
                if _edge_ok(words[i + n - 1]):
                    surface = " ".join(words[i : i + n])
                    found.setdefault(surface.lower(), surface)
    return found


def _extend(phrase: str, segments: Sequence[list[list[str]]]) -> str:
    """Complete a fragment: append the next word while most of the phrase's uses continue so."""
    words = phrase.split()
    while len(words) < _MAX_EXTENDED_WORDS:
        low = [w.lower() for w in words]
        following: Counter[str] = Counter()
        uses = 0
        for text in segments:
            for seg in text:
                seg_low = [w.lower() for w in seg]
                for i in range(len(seg) - len(low) + 1):
                    if seg_low[i : i + len(low)] == low:
                        uses += 1
                        if i + len(low) < len(seg):
                            following[seg[i + len(low)]] += 1
        if not following:
            break
        word, count = following.most_common(1)[0]
        if count < _EXTEND_SHARE * uses:
            break
        words.append(word)
    # "confirm my reservation for" -> "confirm my reservation"; "top up", "si opp" stay.
    while not _edge_ok(words[-1]) and words[-1].lower() not in _PARTICLES:
        words.pop()
    return " ".join(words)


def phrase_candidates(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    max_words: int = 4,
    per_reason: int = 10,
) -> dict[int, list[str]]:
    """Rank each reason's phrases: sqrt(coverage) x precision x length bonus, best first.

    Coverage is the share of the reason's texts that contain the phrase; precision is the share
    of all texts containing it that belong to the reason. A phrase must occur in two of the
    reason's texts. Fragments are completed (see `_extend`). Unexplained texts (-1) count for
    precision but get no candidates.
    """
    ids = np.asarray(labels)
    segments = [_segments(t) for t in texts]
    grams = [_ngrams(segs, max_words) for segs in segments]
    total: Counter[str] = Counter(g for gs in grams for g in gs)
    members: defaultdict[int, list[int]] = defaultdict(list)
    for i, rid in enumerate(ids.tolist()):
        members[int(rid)].append(i)
    ranked: dict[int, list[str]] = {}
    for rid in sorted(r for r in members if r != -1):
        rows = members[rid]
        inside: Counter[str] = Counter(g for i in rows for g in grams[i])
        surface: dict[str, str] = {}
        for i in rows:
            for low, form in grams[i].items():
                surface.setdefault(low, form)
        scored = sorted(
            (
                -np.sqrt(count / len(rows))
                * (count / total[g])
                * (1 + _LENGTH_BONUS * g.count(" ")),
                g,
            )
            for g, count in inside.items()
            if count >= 2
        )
        member_segments = [segments[i] for i in rows]
        phrases = [_extend(surface[g], member_segments) for _, g in scored[:per_reason]]
        ranked[rid] = list(dict.fromkeys(phrases))
    return ranked


def phrase_labels(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    centres: dict[int, np.ndarray] | None = None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    max_words: int = 4,
    candidates: int = 10,
) -> dict[int, str]:
    """Label each reason with one of its phrases (see the module docstring).

    Args:
        texts: the (redacted) texts.
        labels: each text's reason id (-1 unexplained).
        centres: reason id -> unit centre of its texts' vectors; with `embed`, the candidate
            closest to the centre wins, else the best-ranked one.
        embed: embeds a list of phrases with the model that embedded the texts (one call).
        max_words: longest n-gram considered (completion may add up to six words in all).
        candidates: phrases per reason compared with the centre.

    Returns:
        reason id -> label with a capital first letter; reasons without a phrase are missing.
    """
    ranked = phrase_candidates(texts, labels, max_words=max_words, per_reason=candidates)
    chosen = {rid: phrases[0] for rid, phrases in ranked.items() if phrases}
    if embed is not None and centres:
        pool = sorted({p for rid, ps in ranked.items() if rid in centres for p in ps})
        if pool:
            vectors = np.asarray(embed(pool), dtype=np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            index = {p: i for i, p in enumerate(pool)}
            width = next(iter(centres.values())).shape[0]
            for rid, phrases in ranked.items():
                # Centres from another model (another width) cannot be compared: keep the rank.
                if phrases and rid in centres and vectors.shape[1] == width:
                    sims = vectors[[index[p] for p in phrases]] @ centres[rid]
                    chosen[rid] = phrases[int(np.argmax(sims))]
    return {rid: label[:1].upper() + label[1:] for rid, label in chosen.items()}
