"""Short human labels for reasons, in the calls' own language.

No language model is available, so a label is a phrase the calls themselves use: the n-gram (up
to four words, not starting or ending with a stop word, never across punctuation or a number)
that many of the reason's calls contain and few other calls do, completed where the calls
always continue it the same way ("apple pay to top" -> "apple pay to top up"), and among the
best candidates the one whose embedding is closest to the reason's centre. With the texts'
vectors, the reason's short calls nearest its centre compete too: a call summary of a few words
("Why hasn't my card arrived yet", "Opsigelse af abonnement") often says what the calls are
about better than any fragment of it. Examples: "Top up didn't work", "Gebyr ved sent afbud",
"Skift til vinterdæk". Words come verbatim from the (redacted) texts, so the label is in their
language. A reason without such a phrase falls back to its keywords ("card arrival / card
delivery").
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from contact_reasons.distinct import map_distinct
from contact_reasons.stopwords import ALL as STOP_WORDS

if TYPE_CHECKING:
    from contact_reasons.cluster_settings import ClusterSettings

SEPARATOR = " / "


@dataclass(frozen=True)
class NameRule:
    """Every knob of the rule that names a reason, in one place (docs/names.md).

    The knobs are `ClusterSettings`' `label_*` and `name_*` settings (`SETTING_OF`). Discovery,
    seeded discovery, the weekly naming and the benchmarks all name reasons with
    `NameRule.from_settings(settings)`, so the rule cannot drift between them. The defaults
    are `ClusterSettings`' defaults (`DEFAULT_RULE`).

    Attributes:
        max_words: longest n-gram considered (completion may add up to six words in all).
        candidates: best-ranked phrases per reason considered.
        cover_weight: weight of coverage against closeness (`choose_name`).
        contrast: closeness is the cosine to the reason's centre less this times the highest
            cosine to another reason's centre: a phrase that could name a neighbour too is
            less of a name for this one.
        closeness_weight: weight of the plain cosine to the reason's centre (without the
            contrast) beside the margin and coverage (`choose_name`).
        calls: short calls per reason considered as names (`call_candidates`; 0: phrases only).
        call_words: longest call (in words) considered as a name.
        min_calls: calls a reason needs in a language for a name in it (`language_names`).
        weak_share: a name covering less than this share of its calls is weak evidence.
    """

    max_words: int = 4
    candidates: int = 10
    cover_weight: float = 1.0
    contrast: float = 1.0
    closeness_weight: float = 0.15
    calls: int = 10
    call_words: int = 8
    min_calls: int = 5
    weak_share: float = 0.2

    @classmethod
    def from_settings(cls, settings: ClusterSettings) -> NameRule:
        """The rule `settings` set (`label_max_words` -> `max_words`, ...)."""
        return cls(**{f.name: getattr(settings, SETTING_OF[f.name]) for f in fields(cls)})


SETTING_OF = {
    "max_words": "label_max_words",
    "candidates": "label_candidates",
    "cover_weight": "label_cover_weight",
    "contrast": "label_contrast",
    "closeness_weight": "label_closeness_weight",
    "calls": "label_calls",
    "call_words": "label_call_words",
    "min_calls": "name_min_calls",
    "weak_share": "name_weak_share",
}
"""`NameRule` field -> the `ClusterSettings` field that sets it."""
DEFAULT_RULE = NameRule()
"""The default settings' rule (`NameRule.from_settings(ClusterSettings())`)."""


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
    only: Collection[int] | None = None,
) -> dict[int, list[str]]:
    """Rank each reason's phrases: sqrt(coverage) x precision x length bonus, best first.

    Coverage is the share of the reason's texts that contain the phrase; precision is the share
    of all texts containing it that belong to the reason. A phrase must occur in two of the
    reason's texts. Fragments are completed (see `_extend`). Unexplained texts (-1) count for
    precision but get no candidates. `only` ranks just those reasons (every text still counts
    for precision, so their candidates are the same as without it).
    """
    ids = np.asarray(labels)

    def split(text: str) -> tuple[list[list[str]], dict[str, str]]:
        segs = _segments(text)
        return segs, _ngrams(segs, max_words)

    pairs = map_distinct(split, texts)
    segments = [segs for segs, _ in pairs]
    grams = [gs for _, gs in pairs]
    total: Counter[str] = Counter(g for gs in grams for g in gs)
    members: defaultdict[int, list[int]] = defaultdict(list)
    for i, rid in enumerate(ids.tolist()):
        members[int(rid)].append(i)
    ranked: dict[int, list[str]] = {}
    for rid in sorted(r for r in members if r != -1 and (only is None or r in only)):
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


def _call_name(text: str) -> str:
    """A call's text as a name: one line, without trailing punctuation."""
    return " ".join(text.split()).strip(" .!?,;:")


def _one_clause(name: str) -> bool:
    """True for a name without punctuation, numbers or placeholders inside (as phrases are)."""
    return _SEGMENT.search(name) is None


def merged_candidates(phrases: Sequence[str], calls: Sequence[str]) -> list[str]:
    """A reason's name candidates: its phrases, then its short calls, each wording once."""
    merged: dict[str, str] = {}
    for candidate in [*phrases, *calls]:
        merged.setdefault(candidate.lower(), candidate)
    return list(merged.values())


def reason_candidates(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    rule: NameRule,
    *,
    vectors: np.ndarray | None = None,
    centres: dict[int, np.ndarray] | None = None,
    languages: Sequence[str | None] | None = None,
    only: Collection[int] | None = None,
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Each reason's name candidates by `rule`, as two lists: its phrases and its short calls.

    Short calls need `vectors` and `centres` (and `rule.calls`); without them there are none.
    `merged_candidates` makes one list of a reason's two, as `phrase_names` does.
    """
    ids = np.asarray(labels)
    ranked = phrase_candidates(
        texts, ids, max_words=rule.max_words, per_reason=rule.candidates, only=only
    )
    short: dict[int, list[str]] = {}
    if vectors is not None and centres and rule.calls:
        short = call_candidates(
            texts,
            ids,
            vectors,
            centres,
            max_words=rule.call_words,
            per_reason=rule.calls,
            contrast=rule.contrast,
            languages=languages,
            only=only,
        )
    return ranked, short


def call_candidates(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    vectors: np.ndarray,
    centres: dict[int, np.ndarray],
    *,
    max_words: int = 8,
    per_reason: int = 10,
    contrast: float = 0.0,
    languages: Sequence[str | None] | None = None,
    only: Collection[int] | None = None,
) -> dict[int, list[str]]:
    """Each reason's short calls as name candidates, those nearest its centre first.

    A call qualifies with one to `max_words` words, a word of letters and, as a phrase, no
    punctuation, number or redaction placeholder ("[PHONE]") inside: one clause ("Why hasn't my
    card arrived yet", not "Luggage in, delivery arranged. Ticket 4518714"). It is ranked by
    its vector's cosine to its reason's centre less `contrast` times its highest cosine to
    another reason's centre (as `phrase_names` ranks phrases). Texts are given as `_call_name`
    writes them; repeats are dropped. With `languages`, only calls in the reason's most common
    language compete (nynorsk counts as bokmål): a name is in the language most of its calls
    are in, not in a distinctive minority's.

    Args:
        texts: the (redacted) texts.
        labels: each text's reason id (-1 unexplained).
        vectors: the texts' embeddings (rows as `texts`).
        centres: reason id -> unit centre of its texts' vectors; reasons without one get none.
        max_words: longest call considered.
        per_reason: calls kept per reason.
        contrast: weight of the closeness to the nearest other reason.
        languages: each text's detected language (None where unknown).
        only: candidates for just these reasons (every centre still counts for `contrast`).
    """
    ids = np.asarray(labels)
    codes = (
        np.asarray([name_language(lang) or (lang or "") for lang in languages], dtype=object)
        if languages is not None
        else None
    )
    order = sorted(centres)
    if not order or vectors.shape[1] != centres[order[0]].shape[0]:
        return {}
    matrix = np.stack([centres[r] for r in order])
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    out: dict[int, list[str]] = {}
    for j, rid in enumerate(order):
        if only is not None and rid not in only:
            continue
        rows = np.flatnonzero(ids == rid)
        if rows.size and codes is not None:
            majority = Counter(codes[rows].tolist()).most_common(1)[0][0]
            rows = rows[codes[rows] == majority]
        if rows.size == 0:
            continue
        sims = unit[rows] @ matrix.T
        score = sims[:, j]
        if contrast and len(order) > 1:
            score = score - contrast * np.delete(sims, j, axis=1).max(axis=1)
        chosen: dict[str, str] = {}
        for i in rows[np.argsort(-score, kind="stable")].tolist():
            name = _call_name(texts[i])
            if 1 <= len(name.split()) <= max_words and _WORD.search(name) and _one_clause(name):
                chosen.setdefault(name.lower(), name)
                if len(chosen) == per_reason:
                    break
        out[int(rid)] = list(chosen.values())
    return out


# Words that say who calls or when, not why ("pårørende", "kunde", "torsdag", "før jul"): a
# phrase made only of them is no name while another candidate exists, and one that holds any
# of them ranks lower.
_WHO_WORDS = frozenset(
    """
    pårørende pårørande kunde kunden kunder kundens kunderne customer customers customer's
    caller callers client clients innringer innringeren borger borgeren borgere patient
    patienten pasient pasienten mor moren mother mum mom far faren father dad datter datteren
    daughter søn sønn sønnen son bror søster brother sister kone konen wife mand manden mann
    mannen husband ægtefælle ektefelle ektefellen partner nabo naboen neighbour neighbor
    ringer ringte ringede ringet calls called calling caller henvender henvendte kontakter
    kontaktede kontaktet contacted
    """.split()
)
_TIME_WORDS = frozenset(
    """
    mandag tirsdag onsdag torsdag fredag lørdag søndag monday tuesday wednesday thursday
    friday saturday sunday mandagen tirsdagen onsdagen torsdagen fredagen lørdagen søndagen
    idag igår imorgen today yesterday tomorrow morgen morgenen i_dag aften aftenen kveld
    kvelden evening morning formiddag eftermiddag ettermiddag afternoon weekend weekenden
    helg helgen jul julen jula christmas xmas nytår nyttår nytårsaften nyttårsaften påske
    påsken easter sommer sommeren summer vinter vinteren winter januar februar marts mars
    april maj mai juni juli august september oktober november december desember january
    february march may june july october uge ugen uke uken week
    """.split()
)


def who_or_time(word: str) -> bool:
    """True for a word that names who calls or only a time ('pårørende', 'torsdag', 'jul')."""
    low = word.lower()
    return low in _WHO_WORDS or low in _TIME_WORDS


def _content_words(phrase: str) -> list[str]:
    return [w for w in _WORD.findall(phrase) if w.lower() not in STOP_WORDS]


def about_nothing(phrase: str) -> bool:
    """True when the phrase's content words all say who calls or when: no reason's name.

    'Pårørende ringer for mor', 'før jul', 'Customer called Thursday'.
    """
    words = _content_words(phrase)
    return not words or all(who_or_time(w) for w in words)


# Evidence is measured as issue 19 defines it (and `benchmarks/names.py` counts it): a call is
# covered when its text shares a content word with the name, words of at least four letters
# compared on their first five.
_EVIDENCE_WORD = re.compile(r"[^\W\d_]+")


def content_stems(text: str) -> frozenset[str]:
    """First five letters of each word of at least four letters, lower-cased."""
    return frozenset(w[:5] for w in _EVIDENCE_WORD.findall(text.lower()) if len(w) >= 4)


def name_share(name: str, stems: Sequence[frozenset[str]]) -> float:
    """Share of the texts (given as `content_stems`) that share a content word with `name`."""
    own = content_stems(name)
    if not stems:
        return 0.0
    return sum(bool(own & s) for s in stems) / len(stems)


@dataclass(frozen=True)
class Name:
    """A reason's name and the share of its calls the name covers (its evidence)."""

    name: str
    share: float
    calls: int


def choose_name(
    phrases: Sequence[str],
    stems: Sequence[frozenset[str]],
    sims: Sequence[float] | np.ndarray | None = None,
    *,
    cover_weight: float = 1.0,
    closeness: Sequence[float] | np.ndarray | None = None,
    closeness_weight: float = 0.0,
) -> tuple[str, float]:
    """Pick one of a reason's ranked phrases: close to its centre and covering its calls.

    Each candidate scores its rank's closeness to the reason's centre (`sims`, cosines, as a
    rule less the contrast with the nearest other reason; without them, its rank) plus
    `cover_weight` times the share of the reason's calls it covers, both scaled to 0..1 over
    the candidates, plus `closeness_weight` times its plain `closeness` (cosine to the centre,
    without the contrast) scaled so: among candidates of about the same margin and coverage,
    the one nearer the centre. Phrases that only say who calls or when lose to any
    other ('Pårørende ringer for mor', 'Pakke ventet torsdag' against 'Pakke ikke modtaget').

    Returns:
        The chosen phrase (capitalised) and its share.
    """
    if not phrases:
        raise ValueError("no phrases to choose from")
    shares = np.asarray([name_share(p, stems) for p in phrases])
    if sims is None:
        close = np.linspace(1.0, 0.0, num=len(phrases)) if len(phrases) > 1 else np.ones(1)
    else:
        close = np.asarray(sims, dtype=np.float64)
    close = _scaled(close)
    score = close + cover_weight * _scaled(shares)
    if closeness is not None and closeness_weight:
        score = score + closeness_weight * _scaled(np.asarray(closeness, dtype=np.float64))
    penalty = np.asarray(
        [
            2.0 if about_nothing(p) else (0.5 if any(map(who_or_time, p.split())) else 0.0)
            for p in phrases
        ]
    )
    best = int(np.argmax(score - penalty))
    label = phrases[best]
    return label[:1].upper() + label[1:], float(shares[best])


def _scaled(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.zeros_like(values, dtype=np.float64)
    return (values - low) / (high - low)


def phrase_names(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    centres: dict[int, np.ndarray] | None = None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    rule: NameRule = DEFAULT_RULE,
    only: Collection[int] | None = None,
    vectors: np.ndarray | None = None,
    languages: Sequence[str | None] | None = None,
) -> dict[int, Name]:
    """Name each reason with one of its phrases, with the share of its texts the name covers.

    Args:
        texts: the (redacted) texts.
        labels: each text's reason id (-1 unexplained).
        centres: reason id -> unit centre of its texts' vectors; with `embed`, closeness to the
            centre counts (see `choose_name`), else the phrases' rank.
        embed: embeds a list of phrases with the model that embedded the texts (one call).
        rule: the naming rule (`NameRule`: candidates, their weights, short calls).
        only: name just these reasons (the others still count for precision and, through
            their centres, for contrast, so each of these gets the name it gets without it).
        vectors: the texts' embeddings (rows as `texts`); with `centres`, `embed` and
            `rule.calls`, each reason's `rule.calls` short calls nearest its centre
            (`call_candidates`, at most `rule.call_words` words) are candidates beside its
            phrases.
        languages: each text's detected language; only short calls in a reason's most common
            language compete (`call_candidates`).

    Returns:
        reason id -> `Name`; reasons without a candidate are missing.
    """
    ids = np.asarray(labels)
    ranked, short = reason_candidates(
        texts,
        ids,
        rule,
        vectors=vectors if embed is not None else None,
        centres=centres,
        languages=languages,
        only=only,
    )
    for rid, names in short.items():
        ranked[rid] = merged_candidates(ranked.get(rid, []), names)
    sims: dict[int, np.ndarray] = {}
    plain: dict[int, np.ndarray] = {}
    if embed is not None and centres:
        pool = sorted({p for rid, ps in ranked.items() if rid in centres for p in ps})
        if pool:
            pooled = np.asarray(embed(pool), dtype=np.float32)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            index = {p: i for i, p in enumerate(pool)}
            order = sorted(centres)
            matrix = np.stack([centres[r] for r in order])
            column = {r: i for i, r in enumerate(order)}
            for rid, phrases in ranked.items():
                # Centres from another model (another width) cannot be compared: keep the rank.
                if phrases and rid in centres and pooled.shape[1] == matrix.shape[1]:
                    all_sims = pooled[[index[p] for p in phrases]] @ matrix.T
                    own = all_sims[:, column[rid]]
                    plain[rid] = own
                    others = np.delete(all_sims, column[rid], axis=1)
                    if rule.contrast and others.shape[1]:
                        own = own - rule.contrast * others.max(axis=1)
                    sims[rid] = own
    out: dict[int, Name] = {}
    for rid, phrases in ranked.items():
        if not phrases:
            continue
        rows = np.flatnonzero(ids == rid)
        member = map_distinct(content_stems, (texts[i] for i in rows.tolist()))
        name, share = choose_name(
            phrases,
            member,
            sims.get(rid),
            cover_weight=rule.cover_weight,
            closeness=plain.get(rid),
            closeness_weight=rule.closeness_weight,
        )
        out[rid] = Name(name, share, int(rows.size))
    return out


def phrase_labels(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    centres: dict[int, np.ndarray] | None = None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    rule: NameRule = DEFAULT_RULE,
    vectors: np.ndarray | None = None,
    languages: Sequence[str | None] | None = None,
) -> dict[int, str]:
    """Label each reason with one of its phrases (`phrase_names` without the evidence)."""
    named = phrase_names(
        texts,
        labels,
        centres=centres,
        embed=embed,
        rule=rule,
        vectors=vectors,
        languages=languages,
    )
    return {rid: n.name for rid, n in named.items()}


NAME_LANGUAGES = ("da", "nb", "en")
"""Languages a reason is named in (`report.language`)."""
_NAME_LANGUAGE = {"da": "da", "nb": "nb", "nn": "nb", "no": "nb", "en": "en"}
"""A detected language -> the language of the name its readers get (nynorsk reads bokmål)."""
DEFAULT_LANGUAGE = "all"
"""`reason_names.language` of the default name (`reasons.label`), measured over all calls."""

NAMES_SCHEMA = {
    "reason_id": pl.Int32,
    "language": pl.String,
    "name": pl.String,
    "calls": pl.Int64,
    "share": pl.Float64,
    "weak": pl.Boolean,
}


def name_language(detected: str | None) -> str | None:
    """The name language for a call's detected language ('nn' -> 'nb'); None when unnamed."""
    return _NAME_LANGUAGE.get(detected or "")


def language_names(
    texts: Sequence[str],
    languages: Sequence[str | None],
    labels: Sequence[int] | np.ndarray,
    vectors: np.ndarray,
    default_names: dict[int, str],
    *,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    rule: NameRule = DEFAULT_RULE,
    rename: bool = True,
    keep: Mapping[tuple[int, str], str] | None = None,
    fixed: Collection[int] = (),
) -> pl.DataFrame:
    """A name per reason and language, and the evidence of each name and of the default one.

    For each language of `NAME_LANGUAGES`, the reasons with at least `rule.min_calls` calls in it
    are named from those calls alone (`phrase_names` on the language's texts, so a phrase's
    precision is measured against the other reasons' calls in the same language). Every reason
    of `default_names` with calls also gets a row in `DEFAULT_LANGUAGE`: its default name, or
    (with `rename`) a name chosen afresh from all its calls where that covers more of them.

    Args:
        texts: the (redacted) reason texts of the window.
        languages: each text's detected language.
        labels: each text's reason id (-1 unexplained).
        vectors: the texts' embeddings (rows as `texts`).
        default_names: reason id -> its default name (`reasons.label`).
        embed: embeds phrases with the texts' model; None ranks by phrase rank and coverage.
        rule: the naming rule, as `phrase_names` (a language's name from its own calls, its
            contrast against the language's other named reasons); a reason needs
            `rule.min_calls` calls in a language for a name in it, and a name covering less
            than `rule.weak_share` of its calls is `weak`.
        rename: name the reasons afresh over all their calls, and keep a fresh default name
            where it covers more calls than the given one (a refit); else the default names
            stay as given (a weekly update keeps names, as it keeps ids).
        keep: (reason id, language) -> the name it has (stored `reason_names`). Without
            `rename`, such a reason keeps its name in that language while it still has
            `rule.min_calls` calls in it; its evidence (calls, share, weak) is measured afresh. Only
            the reasons without a name in a language are named from the texts, so a weekly
            update pays for its new reasons, not for naming every reason again. Ignored with
            `rename`.
        fixed: reasons whose default name is a seed's (a wrap-up code,
            `catalogue_seeds.code_names`): it is kept even with `rename`, and they get no name
            in a single language, so the code is shown in every report language.

    Returns:
        A frame with `NAMES_SCHEMA`'s columns, by reason and language.
    """
    ids = np.asarray(labels)
    langs = np.asarray([name_language(lang) or "" for lang in languages], dtype=object)
    stems = map_distinct(content_stems, texts)
    kept_names = dict(keep or {}) if not rename else {}
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    present = [r for r in default_names if (ids == r).any()]
    # The default name is named afresh from all the reason's calls, and replaces the stored one
    # where it covers more of them (so a name follows what the calls are about, and does not
    # change for nothing).
    fresh = (
        phrase_names(
            texts,
            ids,
            centres={r: _unit_mean(unit[ids == r]) for r in present},
            embed=embed,
            rule=rule,
            vectors=unit,
            languages=languages,
        )
        if rename
        else {}
    )
    rows: list[dict[str, object]] = []
    for rid in sorted(present):
        members = [stems[i] for i in np.flatnonzero(ids == rid)]
        default = default_names[rid]
        share = name_share(default, members)
        new = fresh.get(rid) if rid not in fixed else None
        # A who-or-when name gives way only to one that is not weak evidence itself.
        better = (
            _better_subject(new.name, default) and new.share >= rule.weak_share if new else False
        )
        if new is not None and (new.share > share or better):
            default, share = new.name, new.share
        rows.append(_name_row(rid, DEFAULT_LANGUAGE, default, len(members), share, rule.weak_share))
    for lang in NAME_LANGUAGES:
        subset = np.flatnonzero(langs == lang)
        if subset.size == 0:
            continue
        sub_ids = ids[subset]
        counts = Counter(int(r) for r in sub_ids.tolist() if r != -1)
        named = [
            r
            for r, n in counts.items()
            if n >= rule.min_calls and r in default_names and r not in fixed
        ]
        if not named:
            continue
        kept = {r: kept_names[(r, lang)] for r in named if (r, lang) in kept_names}
        found: dict[int, Name] = {}
        if len(kept) < len(named):
            # Reasons with too few calls in the language still compete for its phrases'
            # precision; named reasons kept as they are still count for contrast.
            centres = {r: _unit_mean(unit[subset[sub_ids == r]]) for r in named}
            found = phrase_names(
                [texts[i] for i in subset.tolist()],
                sub_ids,
                centres=centres,
                embed=embed,
                rule=rule,
                only=None if not kept else [r for r in named if r not in kept],
                vectors=unit[subset],
            )
        for rid in sorted(named):
            if rid in kept:
                own = [stems[i] for i in subset[sub_ids == rid].tolist()]
                share = name_share(kept[rid], own)
                rows.append(_name_row(rid, lang, kept[rid], len(own), share, rule.weak_share))
            elif rid in found:
                n = found[rid]
                rows.append(_name_row(rid, lang, n.name, n.calls, n.share, rule.weak_share))
    return pl.DataFrame(rows, schema=NAMES_SCHEMA).sort("reason_id", "language")


def _better_subject(new: str, old: str) -> bool:
    """True when `old` says who calls or when and `new` does not: a name says why.

    'Pårørende ringer for mor', 'Pakke ventet torsdag' give way at some cost in coverage.
    """

    def who_when(name: str) -> bool:
        return any(who_or_time(w) for w in _content_words(name))

    return who_when(old) and not who_when(new)


def _unit_mean(rows: np.ndarray) -> np.ndarray:
    mean = rows.mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


def _name_row(
    rid: int, lang: str, name: str, calls: int, share: float, weak_share: float
) -> dict[str, object]:
    return {
        "reason_id": rid,
        "language": lang,
        "name": name,
        "calls": calls,
        "share": round(share, 4),
        "weak": share < weak_share,
    }


def shown_names(
    reasons: pl.DataFrame, names: pl.DataFrame | None, language: str | None
) -> pl.DataFrame:
    """The name a reader of `language` is shown for each reason, with its evidence.

    A human name (`reasons.name`) always wins and carries no evidence share (a person chose
    it); else the reason's name in `language` (`reason_names`); else the default name
    (`reasons.label`) with the evidence measured over all its calls.

    Args:
        reasons: `reason_id`, `label` and, when curated, `name` (the human name).
        names: `reason_names` rows (NAMES_SCHEMA); None when there are none.
        language: da, nb or en; None shows the default name.

    Returns:
        `reason_id`, `label` (the name shown), `name_share` (null when unknown) and
        `weak_name` (true when the evidence is weak).
    """
    by: dict[tuple[int, str], dict[str, object]] = {}
    if names is not None:
        for row in names.iter_rows(named=True):
            by[(int(row["reason_id"]), str(row["language"]))] = row
    human = reasons["name"].to_list() if "name" in reasons.columns else [None] * reasons.height
    rows = []
    for rid, label, person in zip(
        reasons["reason_id"].to_list(), reasons["label"].to_list(), human, strict=True
    ):
        rid = int(rid)
        shown: dict[str, object] = {"reason_id": rid, "label": label, "name_share": None}
        shown["weak_name"] = False
        own = by.get((rid, language)) if language else None
        default = by.get((rid, DEFAULT_LANGUAGE))
        if person:
            shown["label"] = person
        elif own is not None:
            shown |= {"label": own["name"], "name_share": own["share"], "weak_name": own["weak"]}
        elif default is not None:
            shown |= {"name_share": default["share"], "weak_name": default["weak"]}
        rows.append(shown)
    return pl.DataFrame(
        rows,
        schema={
            "reason_id": pl.Int64,
            "label": pl.String,
            "name_share": pl.Float64,
            "weak_name": pl.Boolean,
        },
    )


WEAK_MARKER = " (?)"
"""Appended to a name shown with weak evidence: few of its calls use the name's words."""


def mark_weak(label: str, weak: bool | None) -> str:
    """The label as a report shows it: `WEAK_MARKER` after a name with weak evidence."""
    return f"{label}{WEAK_MARKER}" if weak else label
