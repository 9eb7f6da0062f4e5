from pathlib import Path

import numpy as np
import pytest

from contact_reasons.embed import HashingEmbedder
from contact_reasons.errors import ModelMismatchError, StorageError
from contact_reasons.reason_model import load_reason_model, model_path, read_manifest
from contact_reasons.storage import Database


def test_model_folder_stays_inside_its_root(tmp_path: Path):
    assert model_path(tmp_path, "rm-0123abcd") == (tmp_path / "rm-0123abcd").resolve()
    for bad in ("../outside", "a/../../b", "/etc", "", ".hidden/..", "x/y"):
        with pytest.raises(StorageError):
            model_path(tmp_path, bad)


def test_missing_manifest_is_a_clear_error(tmp_path: Path):
    with pytest.raises(StorageError, match="not a saved reason model"):
        read_manifest(tmp_path)


def test_saved_model_refuses_another_embedding_model(weekly_run):
    _, summary, overrides, _ = weekly_run
    folder = Path(overrides["storage"]["model_dir"]) / summary["reason_model_id"]
    assert read_manifest(folder)["embedding_model_id"] == summary["embedding_model_id"]
    with pytest.raises(ModelMismatchError, match="hashing-256"):
        load_reason_model(folder, HashingEmbedder())


def test_saved_model_loads_with_its_own_embedding_model(weekly_run):
    from contact_reasons.config import EmbeddingSettings
    from contact_reasons.embed import load_embedder

    _, summary, overrides, _ = weekly_run
    folder = Path(overrides["storage"]["model_dir"]) / summary["reason_model_id"]
    embedder = load_embedder(EmbeddingSettings(model=overrides["embedding"]["model"]))
    model = load_reason_model(folder, embedder)
    reasons = read_manifest(folder)["reasons"]
    assert {r["topic"] for r in reasons} <= set(model.get_topic_info()["Topic"])
    # its `transform` puts the window's calls in the reasons the run gave them
    db, _, _, _ = weekly_run
    with Database(db, read_only=True) as database:
        calls = database.table("calls").join(database.table("call_reasons"), on="call_id")
    predicted, _ = model.transform(calls["reason_text"].to_list())
    reason_of = {r["topic"]: r["reason_id"] for r in reasons}
    same = np.mean(
        [reason_of.get(int(p), -1) == r for p, r in zip(predicted, calls["reason_id"], strict=True)]
    )
    assert same >= 0.8, f"{same:.3f} of the calls in the reason the run gave them"
