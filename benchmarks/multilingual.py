"""Danish and Norwegian reason discovery: the multilingual default against an English model.

Runs the same code path as `contact-reasons evaluate` (redact, embed, `discover_reasons` with the
default settings) on the sample's Danish and Norwegian call summaries, once per embedding model,
and writes a Markdown table.

    python benchmarks/multilingual.py [--sample data/sample/truth/summaries_eval.csv]
        [--output docs/multilingual.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import polars as pl

from contact_reasons.batch import cluster_texts
from contact_reasons.config import DEFAULT_MODEL_DIR, Settings
from contact_reasons.embed import load_embedder
from contact_reasons.evaluate import score

MODELS = {
    "multilingual-e5-small (default)": str(DEFAULT_MODEL_DIR),
    "all-MiniLM-L6-v2 (English)": "sentence-transformers/all-MiniLM-L6-v2",
}


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("data/sample/truth/summaries_eval.csv"))
    parser.add_argument("--languages", default="da,no")
    parser.add_argument("--output", type=Path, default=Path("docs/multilingual.md"))
    args = parser.parse_args(argv)
    languages = args.languages.split(",")
    data = pl.read_csv(args.sample).filter(pl.col("language").is_in(languages))
    texts, labels = data["text"].to_list(), data["label"].to_list()
    rows = []
    for name, model in MODELS.items():
        settings = Settings().with_overrides({"embedding": {"model": model}})
        start = time.perf_counter()
        predicted, _, timings = cluster_texts(texts, settings, load_embedder(settings.embedding))
        result = score(labels, predicted)
        rows.append(
            f"| {name} | {result['nmi']:.3f} | {result['ari']:.3f} | {result['accuracy']:.3f} | "
            f"{result['reasons']} | {100 * result['outlier_share']:.1f} | "
            f"{timings['embed_seconds']:.0f} | {time.perf_counter() - start:.0f} |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(
        [
            "# Danish and Norwegian: multilingual default vs English model",
            "",
            f"{data.height} sample call summaries in {', '.join(languages)}, "
            f"{data['label'].n_unique()} true reasons; default clustering settings, "
            "the number of reasons not given. Outliers count as one cluster.",
            "",
            "| embedding model | NMI | ARI | ACC | reasons | outlier % | embed s | total s |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Produced by `python benchmarks/multilingual.py "
            f"--sample {args.sample} --languages {args.languages}`.",
            "",
        ]
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table, encoding="utf-8")
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
