"""Peak memory and time of reason discovery (a refit's `discover` stage) on many calls.

What a `run --refit` at 100,000 stored calls spends beyond embedding is, almost all of it,
`cluster.discover_reasons` over the window: UMAP three times (the first reduction and two
refinement rounds), HDBSCAN twice, Ward, the LDA, BERTopic's keywords and the names. This
runs exactly that function on `--calls N` generated calls, without the rest of the weekly run,
so that its memory can be checked at sizes where embedding the calls with the real model and
redacting them would take hours on a shared 2-core machine.

Texts: the generator's (`contact_reasons.sample_data`, `--seed`) answered calls' summaries,
leaving out every summary the generator planted personal data in, so nothing here needs
redaction. Vectors: `--model hashing-384` (`embed.HashingEmbedder(384)`, as wide as
e5-small's) or a model folder (its vectors embedded here, which is slow). The languages are
the generator's.

`--keyword-model FOLDER` holds that model in the process and hands it to discovery for the
keywords and names (KeyBERT, MMR, phrase labels embed their words and phrases with it), as a
refit does with e5, so the model's memory and that work are in the figures even where the
vectors are hashed (their width must match the model's: e5-small's 384).

Prints (and with `--json FILE` writes) the seconds, the number of reasons, the process's peak
RSS from the end of the generation on (the generated calls with their transcripts are freed
first; Linux `VmHWM`, reset through `/proc/self/clear_refs`) and its RSS sampled every
`--sample-every` seconds, so the stage that peaks can be found from the log lines' times.

    python benchmarks/discovery_scale.py --calls 100000 --model hashing-384 --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SOURCE = ROOT / "data" / "sample" / "source" / "reasons"


def rss_mb() -> float:
    """This process's resident memory now, MiB."""
    with Path("/proc/self/status").open(encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """This process's peak resident memory since the reset in `main`, MiB (`VmHWM`)."""
    with Path("/proc/self/status").open(encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def generated_texts(n: int, seed: int) -> tuple[list[str], list[str]]:
    """`n` answered calls' summaries and languages, none with personal data planted in it."""
    from contact_reasons import sample_data

    reasons = sample_data.load_reasons(SOURCE)
    texts: list[str] = []
    languages: list[str] = []
    size = n
    while len(texts) < n:
        size = int(size * 1.2) + 1000
        calls = sample_data.generate(reasons, size, seed)
        texts, languages = [], []
        for call in calls:
            planted = any(field == "summary" for field, _, _ in call.pii)
            if call.answered and call.summary and not planted:
                texts.append(call.summary)
                languages.append(call.language)
    return texts[:n], languages[:n]


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", default="hashing-384")
    parser.add_argument("--keyword-model", default=None, help="model for keywords and names")
    parser.add_argument("--sample-every", type=float, default=10.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    log = logging.getLogger("discovery_scale")

    import numpy as np

    from contact_reasons import cluster, naming
    from contact_reasons.config import Settings
    from contact_reasons.embed import HashingEmbedder, load_embedder

    samples: list[tuple[float, float]] = []
    started = time.perf_counter()
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(args.sample_every):
            samples.append((round(time.perf_counter() - started, 1), round(rss_mb(), 1)))
            log.info("rss %.0f MB", samples[-1][1])

    threading.Thread(target=sample, daemon=True).start()
    texts, languages = generated_texts(args.calls, args.seed)
    log.info("%d texts, %d distinct; rss %.0f MB", len(texts), len(set(texts)), rss_mb())
    # The generator's calls (with transcripts) are gone; the peak counts from here.
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    settings = Settings().with_overrides({"embedding": {"model": args.model}})
    embedder: Any = (
        HashingEmbedder(int(args.model.split("-", 1)[1]))
        if args.model.startswith("hashing-")
        else load_embedder(settings.embedding)
    )
    start = time.perf_counter()
    distinct = list(dict.fromkeys(texts))
    index = {t: i for i, t in enumerate(distinct)}
    vectors = embedder.embed(distinct)[[index[t] for t in texts]].astype(np.float32)
    embed_s = time.perf_counter() - start
    log.info("embedded in %.1f s; rss %.0f MB", embed_s, rss_mb())
    words: Any = embedder
    if args.keyword_model:
        words = load_embedder(settings.embedding.model_copy(update={"model": args.keyword_model}))
        words.embed(["warm up"])
        log.info("keyword model loaded; rss %.0f MB", rss_mb())
    start = time.perf_counter()
    found = cluster.discover_reasons(
        texts, vectors, settings.cluster, embedding_model=words, languages=languages
    )
    discover_s = time.perf_counter() - start
    log.info("discovered in %.1f s; rss %.0f MB", discover_s, rss_mb())
    # The refit's next heavy stage: names per language, chosen afresh (`weekly.reason_names`).
    start = time.perf_counter()
    names = naming.language_names(
        texts,
        languages,
        found.labels,
        vectors,
        dict(found.reasons.select("reason_id", "label").iter_rows()),
        embed=lambda phrases: words.embed(phrases, kind="query"),
        rule=naming.NameRule.from_settings(settings.cluster),
        rename=True,
    )
    names_s = time.perf_counter() - start
    stop.set()
    result = {
        "calls": len(texts),
        "distinct_texts": len(distinct),
        "model": args.model,
        "keyword_model": args.keyword_model,
        "embed_seconds": round(embed_s, 1),
        "discover_seconds": round(discover_s, 1),
        "names_seconds": round(names_s, 1),
        "names": names.height,
        "reasons": int(found.reasons.height),
        "unexplained_share": round(float((found.labels == -1).mean()), 4),
        "peak_rss_mb": peak_rss_mb(),
        "rss_samples": samples,
        "ward_max_texts": settings.cluster.ward_max_texts,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "rss_samples"}))  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
