"""Evaluation variants: call mixes unlike the two test sets, built from the sets we hold.

Issue 17: the count of reasons must follow the data, not one share of it. Each variant is a
labelled set drawn with a fixed seed from BANKING77, CLINC150 or the sample:

- few reasons: 10, 15 and 20 intents of a test set, all their texts;
- Zipf: a few big reasons and a long tail (size of the r-th reason proportional to 1 / r);
- small: 300 texts, as a small clinic has in a month;
- large: BANKING77 train + test (13,083 texts), CLINC150 in-scope (22,500, 20,000 drawn);
- the three sets of the main table as they are.

`benchmarks/quality.py` runs the default clusterer and plain `BERTopic()` on the same vectors for
each (`--variants`, `--variants-only`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

VARIANT_SEED = 17
"""The seed every variant is drawn with."""

#: Issue 17's targets per variant, against plain BERTopic() on the same vectors.
NMI_MARGIN = 0.03


@dataclass(frozen=True)
class Variant:
    """A labelled set: `texts` (raw) and a `label` per text."""

    name: str
    frame: pl.DataFrame
    """Columns `text`, `label` (and `language` when the source has one)."""

    @property
    def reasons(self) -> int:
        """The number of distinct labels."""
        return int(self.frame["label"].n_unique())


def read_banking_full(folder: Path) -> pl.DataFrame:
    """BANKING77 train + test (`text,category` CSVs) as `text,label`."""
    parts = [pl.read_csv(folder / f"{split}.csv") for split in ("train", "test")]
    return pl.concat(parts).select(
        pl.col("text").fill_null(""), pl.col("category").cast(pl.String).alias("label")
    )


def read_clinc_full(path: Path) -> pl.DataFrame:
    """CLINC150's in-scope texts (every split; `intent != "oos"`) as `text,label`."""
    frame = pl.read_ndjson(path)
    return frame.filter(pl.col("intent") != "oos").select(
        pl.col("text").fill_null(""), pl.col("intent").cast(pl.String).alias("label")
    )


def _labels_in_order(frame: pl.DataFrame) -> list[str]:
    return sorted(frame["label"].unique().to_list())


def intent_subset(frame: pl.DataFrame, k: int, seed: int) -> pl.DataFrame:
    """All texts of `k` labels drawn at random (seeded)."""
    rng = np.random.default_rng(seed)
    labels = _labels_in_order(frame)
    if k > len(labels):
        raise ValueError(f"{k} intents asked, the set has {len(labels)}")
    chosen = set(rng.choice(labels, size=k, replace=False).tolist())
    return frame.filter(pl.col("label").is_in(sorted(chosen)))


def zipf_sizes(k: int, largest: int, exponent: float = 1.0, least: int = 5) -> list[int]:
    """Reason sizes `largest / r ** exponent` for ranks 1..k, never below `least`."""
    return [max(least, round(largest / r**exponent)) for r in range(1, k + 1)]


def zipf_subset(
    frame: pl.DataFrame, k: int, largest: int, seed: int, exponent: float = 1.0
) -> pl.DataFrame:
    """`k` labels drawn at random, the r-th keeping `largest / r ** exponent` of its texts.

    Ranks go to the drawn labels by how many texts they have (most first), so that a big
    reason is one that can be big; a label with fewer texts than its size keeps all it has.
    """
    rng = np.random.default_rng(seed)
    labels = _labels_in_order(frame)
    drawn = rng.choice(labels, size=k, replace=False).tolist()
    counts = dict(frame["label"].value_counts().iter_rows())
    chosen = sorted(drawn, key=lambda label: (-counts[label], label))
    parts = []
    for label, size in zip(chosen, zipf_sizes(k, largest, exponent), strict=True):
        rows = frame.filter(pl.col("label") == label)
        take = rng.choice(rows.height, size=min(size, rows.height), replace=False)
        parts.append(rows[np.sort(take).tolist()])
    return pl.concat(parts)


def random_subset(frame: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """`n` texts drawn at random (all of them when the set is smaller), in their order."""
    if n >= frame.height:
        return frame
    rng = np.random.default_rng(seed)
    return frame[np.sort(rng.choice(frame.height, size=n, replace=False)).tolist()]


def build_variants(
    sets: dict[str, pl.DataFrame],
    banking_full: pl.DataFrame | None = None,
    clinc_full: pl.DataFrame | None = None,
    seed: int = VARIANT_SEED,
    large: bool = True,
) -> list[Variant]:
    """The variants, in table order.

    Args:
        sets: the main table's sets by name (`BANKING77`, `CLINC150`, optionally `sample`).
        banking_full: BANKING77 train + test (`read_banking_full`); None leaves its variants out.
        clinc_full: CLINC150 in-scope (`read_clinc_full`); None leaves its variants out.
        seed: the seed every draw uses (offset per variant, so variants are independent).
        large: include the 13,000-20,000-text variants.
    """
    out: list[Variant] = [Variant(name, frame) for name, frame in sets.items()]
    for i, (name, frame) in enumerate(sets.items()):
        if name == "sample":
            continue
        for k in (10, 15, 20):
            out.append(Variant(f"{name}, {k} intents", intent_subset(frame, k, seed + 10 * i + k)))
    if banking_full is not None:
        out.append(
            Variant(
                "BANKING77 Zipf (40 intents, 200 ... 5)",
                zipf_subset(banking_full, 40, 200, seed + 101),
            )
        )
        out.append(
            Variant(
                "BANKING77 300 texts (15 intents, Zipf)",
                random_subset(
                    zipf_subset(banking_full, 15, 72, seed + 102, exponent=0.8), 300, seed + 107
                ),
            )
        )
    if clinc_full is not None:
        out.append(
            Variant(
                "CLINC150 Zipf (40 intents, 150 ... 5)",
                zipf_subset(clinc_full, 40, 150, seed + 103),
            )
        )
    if "sample" in sets:
        sample = sets["sample"]
        out.append(
            Variant(
                "sample Zipf (25 reasons, 250 ... 10)",
                zipf_subset(sample, 25, 250, seed + 104),
            )
        )
        out.append(Variant("sample, 300 calls", random_subset(sample, 300, seed + 105)))
    if large and banking_full is not None:
        out.append(Variant("BANKING77 train+test", banking_full))
    if large and clinc_full is not None:
        out.append(
            Variant("CLINC150 in-scope, 20,000", random_subset(clinc_full, 20000, seed + 106))
        )
    return out


def variant_lines(rows: Sequence[dict[str, object]], ours: str, plain: str) -> list[str]:
    """Markdown: per variant, ours and plain BERTopic() and whether issue 17's targets hold."""
    lines = [
        "",
        "## Evaluation variants (issue 17)",
        "",
        "Call mixes unlike the test sets, drawn with a fixed seed (`benchmarks/variants.py`), with",
        "the default model. Targets per variant: NMI at least plain `BERTopic()`'s + "
        f"{NMI_MARGIN:.2f} and ACC at least its ACC",
        "(plain: mean of its three UMAP seeds on the same vectors).",
        "",
        "| variant | texts | true reasons | method | NMI | ARI | ACC | reasons | outlier % "
        "| seconds | targets |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    by = {(str(r["variant"]), str(r["method"])): r for r in rows}
    met = 0
    total = 0
    for (variant, method), r in by.items():
        verdict = ""
        if method == ours and (variant, plain) in by:
            p = by[(variant, plain)]
            ok_nmi = float(r["nmi"]) >= float(p["nmi"]) + NMI_MARGIN  # type: ignore[arg-type]
            ok_acc = float(r["accuracy"]) >= float(p["accuracy"])  # type: ignore[arg-type]
            total += 1
            met += ok_nmi and ok_acc
            verdict = (
                f"NMI {float(r['nmi']) - float(p['nmi']):+.3f} "  # type: ignore[arg-type]
                f"{'yes' if ok_nmi else '**no**'}, "
                f"ACC {float(r['accuracy']) - float(p['accuracy']):+.3f} "  # type: ignore[arg-type]
                f"{'yes' if ok_acc else '**no**'}"
            )
        lines.append(
            f"| {variant} | {r['texts']} | {r['true_reasons']} | {method} | {float(r['nmi']):.3f} "  # type: ignore[arg-type]
            f"| {float(r['ari']):.3f} | {float(r['accuracy']):.3f} | {r['reasons']} "  # type: ignore[arg-type]
            f"| {100 * float(r['outlier_share']):.1f} | {float(r['seconds']):.1f} | {verdict} |"  # type: ignore[arg-type]
        )
    lines += ["", f"Both targets met on {met} of {total} variants."]
    return lines
