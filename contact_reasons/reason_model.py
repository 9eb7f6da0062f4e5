"""Fitted reason models on disk: BERTopic's safetensors format plus a manifest. Never pickle.

The manifest names the embedding model the reasons were fitted with; loading the model with a
different embedding model is refused, because its vectors would not mean the same thing.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel

from contact_reasons.errors import ModelMismatchError, StorageError

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
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


def save_reason_model(
    discovery: Any,
    model_dir: Path,
    *,
    embedding_model_id: str,
    settings: BaseModel,
    window: pl.DataFrame,
) -> dict[str, Any]:
    """Save a fitted reason model with its manifest; return `created_at` and the manifest JSON.

    A folder that already holds this model (same content id) is left as it is.
    """
    model_dir = Path(model_dir)
    manifest_path = model_dir / MANIFEST
    if manifest_path.exists():
        text = manifest_path.read_text(encoding="utf-8")
        data = json.loads(text)
        return {"created_at": datetime.fromisoformat(data["created_at"]), "json": text}
    topic_model = getattr(discovery, "topic_model", None)
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
        "reasons": [
            {"reason_id": int(r["reason_id"]), "label": r["label"], "keywords": r["keywords"]}
            for r in discovery.reasons.iter_rows(named=True)
        ],
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
