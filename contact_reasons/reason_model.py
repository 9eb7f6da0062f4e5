"""Fitted reason models on disk: BERTopic's safetensors format plus a manifest. Never pickle.

The manifest names the embedding model the reasons were fitted with; loading the model with a
different embedding model is refused, because its vectors would not mean the same thing.

The saved model holds the reasons the refit decided, not the clusters its BERTopic fit found
first: seeds (`catalogue_seeds`) regroup the discovered clusters, and the alignment to the
catalogue gives them catalogue ids, so the fitted model's own topics are not the reasons the
catalogue lists. `refit_topics` makes the model's topics the refit's reasons: one topic per
catalogue reason with calls in the window (topic numbers 0.. in reason id order; -1 the
unexplained calls), named by the catalogue's shown name, with the catalogue's keywords, and
with each reason's centroid of its calls' vectors as its topic embedding, so that the loaded
model's `transform` puts a text in the reason whose calls it is nearest. The manifest lists the
same reasons with their catalogue id and topic number.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel

from contact_reasons.cluster import UNEXPLAINED
from contact_reasons.errors import ModelMismatchError, StorageError

MANIFEST = "manifest.json"
MANIFEST_VERSION = 2
#: The saved model's name of the topic of unexplained calls (-1).
UNEXPLAINED_LABEL = "unexplained"
_PACKAGES = ("contact-reasons", "bertopic", "sentence-transformers", "torch", "umap-learn")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def model_path(root: Path, model_id: str) -> Path:
    """Return the folder of a reason model under `root`, refusing ids that would leave it.

    Raises:
        StorageError: the id is not a plain name, or its folder is not inside `root`.
    """
    if not _MODEL_ID.match(model_id) or ".." in model_id:
        raise StorageError(f"reason model id {model_id!r} is not a plain folder name")
    base = Path(root).resolve()
    path = (base / model_id).resolve()
    if not path.is_relative_to(base):
        raise StorageError(f"reason model folder {path} is outside {base}")
    return path


def _private_dir(path: Path) -> None:
    # A folder this package creates is readable by its owner only: models keep texts.
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        path.chmod(0o700)


def refit_topics(
    topic_model: Any,
    docs: Sequence[str],
    vectors: np.ndarray,
    labels: np.ndarray,
    catalogue: pl.DataFrame,
) -> list[dict[str, Any]]:
    """Make a fitted BERTopic model's topics the refit's reasons; return the manifest's reasons.

    Args:
        topic_model: the BERTopic model the refit's discovery fitted (changed in place).
        docs: the window's reason texts, as the discovery read them.
        vectors: their embeddings (the embedding model's own vectors, as the loaded model's
            `transform` embeds a text).
        labels: each window call's catalogue reason id after the refit (-1: unexplained).
        catalogue: the catalogue after the refit (`reason_id`, `label`, `keywords`).

    Returns:
        One row per reason with calls: `reason_id`, `topic`, `label`, `keywords`, `calls`.

    The topics' c-TF-IDF is fitted afresh on the reasons' calls; a reason's representation is
    its catalogue keywords with their c-TF-IDF weights in it (a reason without keywords takes
    its top c-TF-IDF words).
    """
    import pandas as pd
    from bertopic._bertopic import TopicMapper

    labels = np.asarray(labels, dtype=np.int64)
    if len(docs) != labels.size or vectors.shape[0] != labels.size:
        raise ValueError(f"{len(docs)} texts, {vectors.shape[0]} vectors, {labels.size} labels")
    rows = {int(r["reason_id"]): r for r in catalogue.iter_rows(named=True)}
    ids = sorted(int(r) for r in np.unique(labels) if r != UNEXPLAINED)
    missing = [r for r in ids if r not in rows]
    if missing:
        raise ValueError(f"reasons {missing} have calls but no catalogue row")
    topic_of = {rid: t for t, rid in enumerate(ids)}
    topics = [topic_of.get(int(r), -1) for r in labels.tolist()]
    frame = pd.DataFrame({"Document": list(docs), "Topic": topics, "ID": range(len(topics))})
    per_topic = frame.groupby("Topic", as_index=False).agg({"Document": " ".join})
    c_tf_idf, words = topic_model._c_tf_idf(per_topic)
    words = np.asarray(words)
    vocabulary = {str(w): i for i, w in enumerate(words)}
    order = per_topic["Topic"].tolist()  # ascending, -1 first when there are unexplained calls
    top_n = int(getattr(topic_model, "top_n_words", 10))
    unit = np.asarray(vectors, dtype=np.float32)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    topic_arr = np.asarray(topics)
    representations: dict[int, list[tuple[str, float]]] = {}
    embeddings: list[np.ndarray] = []
    custom: list[str] = []
    for row_index, topic in enumerate(order):
        weights = c_tf_idf[row_index].toarray().ravel()
        rid = ids[topic] if topic >= 0 else None
        keywords = [str(k) for k in (rows[rid]["keywords"] or [])] if rid is not None else []
        if keywords:
            words_of = [
                (k, float(weights[vocabulary[k]]) if k in vocabulary else 0.0) for k in keywords
            ]
        else:
            best = np.argsort(-weights, kind="stable")[:top_n]
            words_of = [(str(words[j]), float(weights[j])) for j in best if weights[j] > 0]
        representations[int(topic)] = words_of or [("", 0.0)]
        centre = unit[topic_arr == topic].mean(axis=0)
        embeddings.append(centre / max(float(np.linalg.norm(centre)), 1e-12))
        if rid is None:
            custom.append(UNEXPLAINED_LABEL)
            continue
        custom.append(str(rows[rid]["label"] or rid))
    topic_model.c_tf_idf_ = c_tf_idf
    topic_model.topics_ = topics
    topic_model.topic_sizes_ = Counter(topics)
    topic_model.topic_representations_ = representations
    topic_model.topic_embeddings_ = np.stack(embeddings).astype(np.float32)
    topic_model.topic_mapper_ = TopicMapper(topics)
    topic_model.custom_labels_ = custom
    topic_model.topic_aspects_ = {}
    topic_model.representative_docs_ = {}
    return _reason_rows(labels, catalogue)


def save_reason_model(
    topic_model: Any,
    model_dir: Path,
    *,
    docs: Sequence[str],
    vectors: np.ndarray,
    labels: np.ndarray,
    catalogue: pl.DataFrame,
    embedding_model_id: str,
    settings: BaseModel,
    window: pl.DataFrame,
) -> dict[str, Any]:
    """Save the refit's reasons as a BERTopic model with its manifest (`refit_topics`).

    Returns `created_at` and the manifest JSON. A folder that already holds this model (same
    content id) is left as it is. Without a topic model only the manifest is written.
    """
    model_dir = Path(model_dir)
    manifest_path = model_dir / MANIFEST
    if manifest_path.exists():
        text = manifest_path.read_text(encoding="utf-8")
        data = json.loads(text)
        return {"created_at": datetime.fromisoformat(data["created_at"]), "json": text}
    if topic_model is not None:
        reasons = refit_topics(topic_model, docs, vectors, labels, catalogue)
    else:
        reasons = _reason_rows(labels, catalogue)
    _private_dir(model_dir.parent)
    _private_dir(model_dir)
    if topic_model is not None:
        topic_model.save(
            str(model_dir / "bertopic"),
            serialization="safetensors",
            save_ctfidf=True,
            save_embedding_model=embedding_model_id,
        )
    data_hash = hashlib.sha256()
    for call_id, h in zip(window["call_id"], window["text_hash"], strict=True):
        data_hash.update(f"{call_id}\t{h}\n".encode())
    created = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    start, end = window["started_at"].min(), window["started_at"].max()
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "model_id": model_dir.name,
        "created_at": created.isoformat(),
        "embedding_model_id": embedding_model_id,
        "packages": {p: _version(p) for p in _PACKAGES},
        "settings": settings.model_dump(mode="json"),
        "training_window": {"start": str(start), "end": str(end), "calls": window.height},
        "data_sha256": data_hash.hexdigest(),
        "unexplained_calls": int((np.asarray(labels) == UNEXPLAINED).sum()),
        "reasons": reasons,
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2, default=str)
    manifest_path.write_text(text, encoding="utf-8")
    return {"created_at": created, "json": text}


def rewrite_manifest(model_dir: Path | str | None, text: str) -> bool:
    """Replace a saved model's manifest with `text` (as `reason_models.manifest` now holds it).

    `purge` does this when the reason names in it were said only by purged calls. A folder
    without a manifest (moved, deleted, or never saved) is left alone; returns whether the
    file was written.
    """
    if not model_dir:
        return False
    path = Path(model_dir) / MANIFEST
    if not path.is_file():
        return False
    partial = path.with_name(MANIFEST + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return True


def _reason_rows(labels: np.ndarray, catalogue: pl.DataFrame) -> list[dict[str, Any]]:
    """The manifest's reasons: one per reason with calls, topics numbered in reason-id order."""
    rows = {int(r["reason_id"]): r for r in catalogue.iter_rows(named=True)}
    labels = np.asarray(labels, dtype=np.int64)
    ids = sorted(int(r) for r in np.unique(labels) if r != UNEXPLAINED)
    return [
        {
            "reason_id": rid,
            "topic": t,
            "label": str(rows[rid]["label"] or rid),
            "keywords": [str(k) for k in (rows[rid]["keywords"] or [])],
            "calls": int((labels == rid).sum()),
        }
        for t, rid in enumerate(ids)
    ]


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """Return a saved model's manifest.

    Raises:
        StorageError: no manifest in the folder.
    """
    path = Path(model_dir) / MANIFEST
    if not path.exists():
        raise StorageError(f"{model_dir}: not a saved reason model (no {MANIFEST})")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_reason_model(model_dir: Path, embedder: Any) -> Any:
    """Load a saved BERTopic reason model for use with `embedder`.

    Raises:
        ModelMismatchError: the model was fitted with another embedding model.
    """
    manifest = read_manifest(model_dir)
    if manifest["embedding_model_id"] != embedder.model_id:
        raise ModelMismatchError(
            f"{model_dir}: reason model was fitted with embedding model "
            f"{manifest['embedding_model_id']!r}, not {embedder.model_id!r}; refit it "
            "(run the weekly flow) or configure that embedding model"
        )
    from bertopic import BERTopic

    from contact_reasons.cluster import bertopic_embedder

    return BERTopic.load(
        str(Path(model_dir) / "bertopic"), embedding_model=bertopic_embedder(embedder)
    )
