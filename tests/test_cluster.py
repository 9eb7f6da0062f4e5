import inspect

import numpy as np
import pytest
from pydantic import ValidationError

from contact_reasons.cluster import (
    ClusterSettings,
    ReasonClusterer,
    TransformedRows,
    WardTree,
    _fit_rows,
    discover_reasons,
    fit_space,
)
from contact_reasons.embed import HashingEmbedder
from contact_reasons.errors import InputError
from contact_reasons.evaluate import score
from contact_reasons.naming import reason_label

TOPICS = [
    ("adresseændring", "flytning", "ny adresse"),
    ("faktura", "højere", "regning"),
    ("card", "arrival", "delivery"),
    ("måler", "aflæsning", "strøm"),
]


def _blobs(seed: int = 0, per_blob: int = 75, dim: int = 32):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(TOPICS), dim)) * 3.0
    vectors, texts, truth = [], [], []
    for k, words in enumerate(TOPICS):
        points = centres[k] + rng.normal(scale=0.3, size=(per_blob, dim))
        vectors.append(points)
        for i in range(per_blob):
            texts.append(f"{words[i % 3]} {words[(i + 1) % 3]} opkald nummer {i}")
            truth.append(k)
    order = rng.permutation(len(truth))
    vectors_all = np.concatenate(vectors)[order].astype(np.float32)
    return [texts[i] for i in order], vectors_all, np.asarray(truth)[order]


@pytest.fixture(scope="module")
def blobs():
    return _blobs()


@pytest.fixture(scope="module")
def discovery(blobs):
    texts, vectors, _ = blobs
    return discover_reasons(texts, vectors, ClusterSettings(), embedding_model=HashingEmbedder())


def test_recovers_blobs(blobs, discovery):
    _, _, truth = blobs
    result = score(truth, discovery.labels)
    assert result["reasons"] == len(TOPICS)
    assert result["ari"] > 0.95
    assert result["outlier_share"] <= 0.10


def test_reasons_frame(discovery):
    reasons = discovery.reasons
    assert reasons.columns == ["reason_id", "label", "keywords", "size", "representative_idx"]
    assert -1 not in reasons["reason_id"].to_list()
    assert reasons["size"].sum() == int((discovery.labels != -1).sum())
    for row in reasons.iter_rows(named=True):
        assert row["label"]
        assert row["keywords"]
        assert all(discovery.labels[i] == row["reason_id"] for i in row["representative_idx"])


def test_keywords_keep_danish_letters(discovery):
    words = {w for kws in discovery.reasons["keywords"].to_list() for w in kws}
    assert any(ch in w for w in words for ch in "æøå")
    assert "opkald" not in words  # a Danish stop word


def test_same_seed_same_reasons(blobs, discovery):
    texts, vectors, _ = blobs
    again = discover_reasons(texts, vectors, ClusterSettings())  # c-TF-IDF keywords only
    np.testing.assert_array_equal(again.labels, discovery.labels)


def test_never_receives_k():
    assert "n_clusters" not in inspect.signature(discover_reasons).parameters
    assert not any("n_clusters" in f or "nr_topics" in f for f in ClusterSettings.model_fields)
    with pytest.raises(ValidationError):
        ClusterSettings(n_clusters=4)  # type: ignore[call-arg]


def test_min_cluster_size_scales_with_texts():
    clusterer = ReasonClusterer(ClusterSettings())
    assert clusterer.min_cluster_size(300) == 5
    assert clusterer.min_cluster_size(3000) == 10
    assert clusterer.min_cluster_size(30000) == 100


def test_min_cluster_sizes_span_from_the_share_up():
    clusterer = ReasonClusterer(ClusterSettings())
    assert clusterer.min_cluster_sizes(300) == [5, 7, 10, 14, 20]
    assert clusterer.min_cluster_sizes(3000) == [10, 14, 20, 28, 40]
    # never so large that two reasons cannot fit
    assert clusterer.min_cluster_sizes(24) == [5, 7, 10]
    assert ReasonClusterer(ClusterSettings(min_cluster_span=1.0)).min_cluster_sizes(3000) == [10]


def test_choose_takes_the_reduced_silhouette_among_near_ties():
    clusterer = ReasonClusterer(ClusterSettings(count_tolerance=0.005))
    none = np.zeros(3, dtype=np.int64)
    tried = [
        ((0.160, 0.65), np.array([0, 0, 1]), none),
        ((0.164, 0.60), np.array([0, 1, 1]), none),
        ((0.161, 0.70), np.array([0, 1, 2]), none),  # within 0.005 of 0.164: a tie, best reduced
        ((0.150, 0.90), np.array([1, 1, 1]), none),  # far below: its reduced silhouette is moot
    ]
    assert clusterer.choose(tried)[1].tolist() == [0, 1, 2]
    strict = ReasonClusterer(ClusterSettings(count_tolerance=0.0))
    assert strict.choose(tried)[1].tolist() == [0, 1, 1]


def test_ward_tree_cuts_and_samples_large_inputs():
    rng = np.random.default_rng(3)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    truth = np.repeat(np.arange(3), 200)
    points = centres[truth] + rng.normal(scale=0.5, size=(600, 2))
    for max_points in (1000, 150):  # the whole tree, and a tree on a sample of 150
        tree = WardTree(points, max_points, seed=0)
        labels = tree.cut(3)
        assert labels.shape == (600,)
        assert score(truth, labels)["ari"] == 1.0
        assert sorted(np.unique(tree.cut(2)).tolist()) == [0, 1]
    assert WardTree(points, 150, seed=0).sample.size == 150


def test_topic_model_predicts_new_texts(blobs, discovery):
    texts, vectors, _ = blobs
    clusterer = discovery.topic_model.hdbscan_model
    predicted = clusterer.predict(vectors[:20])
    assert (predicted >= 0).mean() > 0.9


def test_bad_shapes_and_tiny_inputs_are_refused():
    with pytest.raises(InputError, match=r"one row per text"):
        discover_reasons(["a", "b"], np.zeros((3, 4)), ClusterSettings())
    with pytest.raises(InputError, match="at least"):
        discover_reasons(["a"] * 3, np.ones((3, 4)), ClusterSettings())


@pytest.mark.parametrize(
    ("keywords", "expected"),
    [
        (["arrival", "card arrival", "card delivery"], "Card arrival / card delivery"),
        (["identity verify", "identity verification", "pin"], "Identity verify / pin"),
        (["adresseændring", "flytning"], "Adresseændring / flytning"),
        ([], ""),
    ],
)
def test_reason_label(keywords, expected):
    assert reason_label(keywords) == expected


def test_masked_out_texts_join_the_reason_of_their_neighbours(blobs):
    texts, vectors, truth = blobs
    fit = np.arange(len(texts)) % 5 != 0  # every fifth text does not shape the reasons
    found = discover_reasons(
        texts, vectors, ClusterSettings(), embedding_model=HashingEmbedder(), fit_mask=fit
    )
    assert score(truth[fit], found.labels[fit])["ari"] > 0.95
    held_out = np.flatnonzero(~fit)
    for i in held_out:  # its neighbours' reason, or unexplained when none is close enough
        mates = found.labels[fit & (truth == truth[i])]
        assert found.labels[i] in (np.bincount(mates[mates >= 0]).argmax(), -1)
    assert (found.labels[held_out] == -1).mean() <= 0.10


def test_beyond_fit_max_texts_a_seeded_sample_shapes_the_reasons(blobs, monkeypatch):
    texts, vectors, truth = blobs
    fitted: list[int] = []
    real_fit = ReasonClusterer.fit

    def counting_fit(self, X, y=None):  # noqa: N803
        fitted.append(X.shape[0])
        return real_fit(self, X, y)

    monkeypatch.setattr(ReasonClusterer, "fit", counting_fit)
    settings = ClusterSettings(fit_max_texts=200)
    assert len(texts) > 200
    found = discover_reasons(texts, vectors, settings)
    assert fitted == [200]
    # every text still gets its reason: the sample's reasons, the rest by the nearest one
    assert found.labels.shape == (len(texts),)
    kept = found.labels != -1
    assert kept.mean() >= 0.9
    assert score(truth[kept], found.labels[kept])["ari"] > 0.95
    # the same texts draw the same sample, so the same reasons
    again = discover_reasons(texts, vectors, settings)
    assert np.array_equal(again.labels, found.labels)
    # the space the catalogue compares in is centred on the same sample
    sample = np.zeros(len(texts), dtype=bool)
    sample[_fit_rows(None, len(texts), 200, settings.seed)] = True
    capped = fit_space(vectors, None, settings)
    masked = fit_space(vectors, None, ClusterSettings(), fit_mask=sample)
    whole = fit_space(vectors, None, ClusterSettings())
    assert np.allclose(capped.centre_mean, masked.centre_mean, atol=1e-6)
    assert not np.allclose(capped.centre_mean, whole.centre_mean, atol=1e-6)


def test_fit_mask_of_the_wrong_length_is_an_error(blobs):
    texts, vectors, _ = blobs
    with pytest.raises(InputError, match="fit_mask"):
        discover_reasons(texts, vectors, ClusterSettings(), fit_mask=[True, False])


def test_refinement_keeps_the_count_and_is_deterministic():
    # Overlapping blobs, so that the refinement has boundary texts to move.
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(6, 24))
    truth = np.repeat(np.arange(6), 50)
    vectors = (centres[truth] + rng.normal(scale=0.45, size=(300, 24))).astype(np.float32)
    plain = ReasonClusterer(ClusterSettings(refine_rounds=0)).fit(vectors).labels_
    refined = ReasonClusterer(ClusterSettings(refine_rounds=2)).fit(vectors).labels_
    again = ReasonClusterer(ClusterSettings(refine_rounds=2)).fit(vectors).labels_
    np.testing.assert_array_equal(refined, again)
    assert np.unique(refined[refined >= 0]).size == np.unique(plain[plain >= 0]).size
    assert score(truth, refined)["ari"] > 0.8


def test_refinement_settings_are_bounded():
    assert ClusterSettings().refine_rounds >= 1  # on by default: one code path for all data
    with pytest.raises(ValidationError):
        ClusterSettings(refine_rounds=-1)
    with pytest.raises(ValidationError):
        ClusterSettings(refine_shrinkage=0.0)


def test_identical_texts_share_one_point_in_the_reduction(blobs):
    _, vectors, _ = blobs
    doubled = np.concatenate([vectors, vectors[:50]])
    reduced = ReasonClusterer(ClusterSettings()).reduce(doubled)
    assert reduced.shape == (len(doubled), ClusterSettings().umap_n_components)
    np.testing.assert_array_equal(reduced[len(vectors) :], reduced[:50])


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when `a` and `b` group the points alike (ids may differ)."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_ward_tree_matches_sklearn_ward_below_max_points():
    from sklearn.cluster import AgglomerativeClustering

    from contact_reasons.cluster import WardTree

    rng = np.random.default_rng(3)
    points = np.concatenate(
        [rng.normal(loc=c, scale=1.0, size=(60, 5)) for c in (0.0, 2.5, 5.0, 7.5)]
    ).astype(np.float32)
    tree = WardTree(points, max_points=len(points), seed=42)
    assert tree.sample.size == len(points)
    for k in (2, 3, 4, 7, 12):
        ours = tree.cut(k)
        theirs = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(points)
        assert np.unique(ours).size == k
        assert _same_partition(ours, np.asarray(theirs))


def test_ward_tree_on_a_sample_joins_the_rest_to_the_nearest_group():
    from contact_reasons.cluster import WardTree

    rng = np.random.default_rng(5)
    centres = rng.normal(size=(5, 4)) * 10.0
    truth = rng.integers(0, 5, size=1000)
    points = centres[truth] + rng.normal(scale=0.5, size=(1000, 4))
    full = WardTree(points, max_points=1000, seed=42).cut(5)
    sampled_tree = WardTree(points, max_points=150, seed=42)
    sampled = sampled_tree.cut(5)
    assert sampled_tree.sample.size == 150
    assert sampled_tree.linkage is not None
    assert sampled_tree.linkage.shape == (149, 4)
    assert np.unique(sampled).size == 5
    assert _same_partition(sampled, full)
    assert _same_partition(sampled, truth)
    # the same seed draws the same sample
    assert np.array_equal(WardTree(points, max_points=150, seed=42).sample, sampled_tree.sample)
    # the sampled points keep the tree's own cut
    from scipy.cluster.hierarchy import fcluster

    sub = fcluster(sampled_tree.linkage, 5, criterion="maxclust")
    assert _same_partition(sampled[sampled_tree.sample], np.asarray(sub))


def test_clusterer_never_builds_ward_over_more_than_ward_max_texts(monkeypatch):
    import scipy.cluster.hierarchy as hierarchy

    sizes: list[int] = []
    real_ward = hierarchy.ward

    def counting_ward(points):
        sizes.append(len(points))
        return real_ward(points)

    monkeypatch.setattr(hierarchy, "ward", counting_ward)
    _, vectors, truth = _blobs(seed=1, per_blob=100)
    settings = ClusterSettings(ward_max_texts=150, min_cluster_size_floor=10)
    labels = ReasonClusterer(settings).fit(vectors).labels_
    assert sizes
    assert max(sizes) == 150
    kept = labels != -1
    assert score(truth[kept], labels[kept])["ari"] > 0.9


def test_transformed_rows_are_the_whole_transform_whichever_rows_are_read_first(blobs):
    """An update reads a few rows of the window's transform; each equals the whole's row."""
    _, vectors, _ = blobs
    rng = np.random.default_rng(3)
    languages = list(rng.choice(["da", "nb", "en", None], size=len(vectors)))
    space = fit_space(vectors, languages, ClusterSettings())
    whole = space.transform(vectors, languages)
    rows = TransformedRows(space, vectors, languages)
    assert rows.shape == whole.shape
    picked = np.array([5, 1, 5, 40])
    assert np.array_equal(rows[picked], whole[picked])
    assert np.array_equal(rows[7], whole[7])
    mask = np.zeros(len(vectors), dtype=bool)
    mask[::3] = True
    assert np.array_equal(rows[mask], whole[mask])
    assert np.array_equal(rows[10:20], whole[10:20])
    assert np.array_equal(rows[np.arange(len(vectors))], whole)
    with pytest.raises(InputError, match="languages"):
        TransformedRows(space, vectors, languages[:-1])
