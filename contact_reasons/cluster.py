"""Discover contact reasons: BERTopic composed with a clusterer that never needs K.

The clusterer (`ReasonClusterer`) sits behind BERTopic's `fit`/`predict` contract and does the
work on the full embeddings (BERTopic's own reduction step is the identity):

1. centre and re-normalise the vectors (removes the shared direction that makes e5 cosines all
   high), then UMAP to a few dimensions with cosine distance and a seeded `random_state`;
2. HDBSCAN on the reduced vectors, only to propose how many reasons there are (K is never
   given): with `min_cluster_size` from 1/300 of the texts up to 4 times that (five sizes),
   'eom' and 'leaf' selection each;
3. Ward agglomerative clustering (one tree, cut at each proposed count) on the same reduced
   vectors, so every text gets its nearest reason instead of HDBSCAN's 10-20 % noise. The
   count kept is the one whose partition has the highest cosine silhouette on the full
   vectors; near ties (within `count_tolerance`) go to the highest silhouette on the reduced
   vectors. A fixed share over-split call mixes with few, big reasons (400 texts, 10
   reasons: 17 found); the silhouette on the full vectors lets the data choose the scale,
   where the reduced one alone prefers a few far-apart groups (300 texts, 15 reasons: 3).
   `WardTree`: beyond `ward_max_texts` the tree is built on a seeded sample and the other
   texts join the nearest group's mean, since Ward needs every pairwise distance (40 GB at
   100,000 texts);
3b. discriminant refinement (`refine_rounds`, default 2): a shrunk LDA fitted on those reasons
   projects the full vectors onto the directions that separate reasons, and UMAP + Ward run
   again there with the same count;
4. a text stays unexplained (-1) only where HDBSCAN called it noise AND it lies further from its
   reason's centre than almost every member does (a quantile, so it holds for any model's
   cosine scale).
5. beyond `fit_max_texts` (20,000) texts, `discover_reasons` finds the reasons on a seeded
   sample of that many and assigns the others to the nearest reason (unexplained when none is
   close), as an update assigns a week: fitted on all of 100,000 generated calls, UMAP's
   15-neighbour layout broke each reason into far-apart pieces and the count rule kept 2
   reasons (NMI 0.047); on the 110,000-call window a 25,000 sample gave NMI 0.507, a 20,000
   one 0.552 (two seeds).

On BANKING77 and CLINC150 the Ward step gave +4 NMI / +15 ARI points over HDBSCAN's own
labels with outliers reassigned to the nearest centroid (see docs/benchmarks.md). BERTopic then
builds the keywords (c-TF-IDF, KeyBERTInspired, MMR) over the final labels.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from contact_reasons.cluster_settings import ClusterSettings
from contact_reasons.errors import InputError
from contact_reasons.naming import NameRule, name_reasons, phrase_labels
from contact_reasons.stopwords import ALL as STOP_WORDS
from contact_reasons.stopwords import TOKEN_PATTERN

log = logging.getLogger(__name__)

UNEXPLAINED = -1
MIN_TEXTS = 10
"""Fewer texts than this cannot hold two reasons of HDBSCAN's smallest size."""


@dataclass(frozen=True)
class ReasonDiscovery:
    """The result of `discover_reasons`.

    Attributes:
        labels: reason id per text; -1 means unexplained.
        reasons: one row per reason (-1 excluded): `reason_id`, `label`, `keywords`, `size`,
            `representative_idx` (indices of the most central texts).
        topic_model: the fitted BERTopic model, for saving.
    """

    labels: np.ndarray
    reasons: pl.DataFrame
    topic_model: Any


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def centroids(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the reason ids in `labels` (sorted, -1 left out) and each one's unit mean vector.

    The one centroid helper of the package: the clusterer, the weekly assignment, the catalogue
    and the FAQ stage all use it.
    """
    labels = np.asarray(labels)
    ids = np.unique(labels[labels != UNEXPLAINED])
    if ids.size == 0:
        width = vectors.shape[1] if vectors.ndim == 2 else 0
        return ids, np.zeros((0, width), dtype=np.float32)
    return ids, _unit(np.stack([vectors[labels == i].mean(axis=0) for i in ids]))


class WardTree:
    """Ward's hierarchy of points, cut into any number of groups.

    Built once and cut for every count tried. Ward needs all pairwise distances (n^2 / 2
    doubles: 1.6 GB for 20,000 texts), so beyond `max_points` the tree is built on a seeded
    sample of that many points and every other point joins the group whose mean is nearest.
    """

    def __init__(self, points: np.ndarray, max_points: int, seed: int) -> None:
        from scipy.cluster.hierarchy import ward

        self.points = np.asarray(points, dtype=np.float64)
        n = self.points.shape[0]
        self.sample = (
            np.arange(n)
            if n <= max_points
            else np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
        )
        self.linkage = ward(self.points[self.sample]) if self.sample.size > 1 else None

    def cut(self, n_groups: int) -> np.ndarray:
        """Group id (0 ... k-1) per point; k is `n_groups` unless ties merge some."""
        from scipy.cluster.hierarchy import fcluster

        n = self.points.shape[0]
        if self.linkage is None or n_groups < 2:
            return np.zeros(n, dtype=np.int64)
        sub = np.asarray(fcluster(self.linkage, n_groups, criterion="maxclust"), dtype=np.int64)
        sub = np.unique(sub, return_inverse=True)[1].astype(np.int64)
        if self.sample.size == n:
            return sub
        inside = self.points[self.sample]
        k = int(sub.max()) + 1
        means = np.stack([inside[sub == g].mean(axis=0) for g in range(k)])
        labels = np.empty(n, dtype=np.int64)
        for start in range(0, n, 4096):
            block = self.points[start : start + 4096]
            dist = (block**2).sum(axis=1)[:, None] - 2 * block @ means.T + (means**2).sum(axis=1)
            labels[start : start + 4096] = np.argmin(dist, axis=1)
        labels[self.sample] = sub
        return labels


class ReasonClusterer:
    """Clusterer for BERTopic's `hdbscan_model` slot: fit on full embeddings, never given K.

    See the module docstring for the steps. After `fit`, `labels_` holds a reason id per text
    (-1 unexplained); `predict` sends new vectors to the nearest reason centre, or -1 when they
    are further from it than the fitted threshold.
    """

    def __init__(self, settings: ClusterSettings) -> None:
        self.settings = settings
        self.labels_: np.ndarray = np.zeros(0, dtype=np.int64)
        self.mean_: np.ndarray | None = None
        self.centroids_: np.ndarray = np.zeros((0, 0), dtype=np.float32)
        self.centroid_ids_: np.ndarray = np.zeros(0, dtype=np.int64)
        self.threshold_: float = -1.0

    def _prepare(self, embeddings: np.ndarray) -> np.ndarray:
        vectors = _unit(embeddings)
        if self.mean_ is not None:
            vectors = _unit(vectors - self.mean_)
        return vectors

    def min_cluster_size(self, n: int) -> int:
        """HDBSCAN's smallest `min_cluster_size` tried for `n` texts."""
        s = self.settings
        return max(s.min_cluster_size_floor, round(n * s.min_cluster_share))

    def min_cluster_sizes(self, n: int) -> list[int]:
        """The `min_cluster_size` values tried for `n` texts, smallest first.

        From `min_cluster_size(n)` up to `min_cluster_span` times it in `count_steps` geometric
        steps, never so large that two reasons cannot fit.
        """
        s = self.settings
        low = self.min_cluster_size(n)
        steps = max(1, s.count_steps)
        sizes = [
            round(low * s.min_cluster_span ** (i / (steps - 1))) if steps > 1 else low
            for i in range(steps)
        ]
        kept = sorted({m for m in sizes if 2 * m <= n})
        return kept or [low]

    def count_candidates(self, reduced: np.ndarray) -> list[tuple[int, str, np.ndarray]]:
        """HDBSCAN's labels (-1 noise) for every size and selection method tried.

        Returns (min_cluster_size, method, labels) for each run that found two or more reasons.
        """
        import hdbscan

        s = self.settings
        methods = (
            ("eom", "leaf")
            if s.cluster_selection_method == "auto"
            else (s.cluster_selection_method,)
        )
        out: list[tuple[int, str, np.ndarray]] = []
        for mcs in self.min_cluster_sizes(reduced.shape[0]):
            for method in methods:
                labels = (
                    hdbscan.HDBSCAN(min_cluster_size=mcs, cluster_selection_method=method)
                    .fit(reduced)
                    .labels_
                )
                found = int(np.unique(labels[labels != UNEXPLAINED]).size)
                log.info(
                    "HDBSCAN %s (min_cluster_size=%d): %d reasons in %d texts",
                    method,
                    mcs,
                    found,
                    reduced.shape[0],
                )
                if found >= 2:
                    out.append((mcs, method, np.asarray(labels)))
        return out

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> ReasonClusterer:  # noqa: N803
        """Find the reasons in `X` (one embedding per row); `y` is ignored."""
        s = self.settings
        n = X.shape[0]
        self.mean_ = _unit(X).mean(axis=0) if s.center_embeddings else None
        vectors = self._prepare(X)
        reduced = self.reduce(vectors)
        candidates = self.count_candidates(reduced)
        if not candidates:
            self.labels_ = np.full(n, UNEXPLAINED, dtype=np.int64)
            return self
        tree = WardTree(reduced, s.ward_max_texts, s.seed) if s.partition == "ward" else None
        scored: dict[int, tuple[tuple[float, float], np.ndarray]] = {}
        tried: list[tuple[tuple[float, float], np.ndarray, np.ndarray]] = []
        for mcs, method, noise_labels in candidates:
            n_reasons = int(np.unique(noise_labels[noise_labels != UNEXPLAINED]).size)
            if tree is not None:
                if n_reasons not in scored:
                    labels = tree.cut(n_reasons)
                    quality = self._quality(vectors, reduced, labels, len(candidates))
                    scored[n_reasons] = (quality, labels)
                quality, labels = scored[n_reasons]
            else:
                labels = noise_labels.copy()
                ids, cents = centroids(vectors, labels)
                noise = np.flatnonzero(labels == UNEXPLAINED)
                if noise.size:
                    labels[noise] = ids[np.argmax(vectors[noise] @ cents.T, axis=1)]
                quality = self._quality(vectors, reduced, labels, len(candidates))
            log.info(
                "count %d (%s, min_cluster_size=%d): silhouette %.4f (reduced %.4f)",
                n_reasons,
                method,
                mcs,
                quality[0],
                quality[1],
            )
            tried.append((quality, np.asarray(labels), noise_labels))
        _, labels, noise_labels = self.choose(tried)
        labels = np.asarray(labels, dtype=np.int64)
        if s.partition == "ward":
            for _ in range(s.refine_rounds):
                labels = self._refine(vectors, labels)
        self.centroid_ids_, self.centroids_ = centroids(vectors, labels)
        index = np.searchsorted(self.centroid_ids_, labels)
        own = np.einsum("ij,ij->i", vectors, self.centroids_[index])
        self.threshold_ = float(np.quantile(own, s.unexplained_quantile))
        labels[(noise_labels == UNEXPLAINED) & (own < self.threshold_)] = UNEXPLAINED
        self.labels_ = labels
        return self

    def reduce(self, vectors: np.ndarray) -> np.ndarray:
        """The clusterer's UMAP (cosine, seeded) of `vectors` to a few dimensions.

        Identical rows (the same summary written for many calls) are reduced once and share
        their point. With them, UMAP's neighbour lists fill with exact ties, and the layout
        then differed between processes on the same input (the sample's weekly run: ARI 0.84
        between two runs); without them it is the same in every process.
        """
        from umap import UMAP

        s = self.settings
        unique, inverse = np.unique(np.asarray(vectors), axis=0, return_inverse=True)
        n = unique.shape[0]
        if n < 4:  # too few distinct texts for a layout: every text is its own point
            unique, inverse, n = np.asarray(vectors), np.arange(vectors.shape[0]), vectors.shape[0]
        reduced = UMAP(
            n_neighbors=min(s.umap_n_neighbors, n - 1),
            n_components=min(s.umap_n_components, n - 2),
            min_dist=s.umap_min_dist,
            metric="cosine",
            random_state=s.seed,
        ).fit_transform(unique)
        return np.asarray(reduced)[np.asarray(inverse).ravel()]

    def _refine(self, vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """One round of discriminant refinement: re-partition in the reasons' own directions.

        A shrunk LDA fitted on the current reasons stretches the directions that tell them
        apart and squeezes those that vary within a reason (speaker style, politeness,
        length); UMAP and Ward then run again, with the same count, on that projection.
        With the default e5 model, BANKING77: NMI 0.793 -> 0.813, ARI 0.513 -> 0.546 (two
        rounds); CLINC150 and the sample within 0.01 (docs/benchmarks.md, ablation rows).
        """
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        ids = np.unique(labels)
        if ids.size < 3 or vectors.shape[0] <= ids.size + 2:
            return labels
        lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage=self.settings.refine_shrinkage)
        projected = _unit(lda.fit(vectors, labels).transform(vectors))
        reduced = self.reduce(projected)
        s = self.settings
        return WardTree(reduced, s.ward_max_texts, s.seed).cut(int(ids.size))

    def choose(
        self, tried: Sequence[tuple[tuple[float, float], np.ndarray, np.ndarray]]
    ) -> tuple[tuple[float, float], np.ndarray, np.ndarray]:
        """The count to keep of `tried` ((silhouette, silhouette reduced), labels, noise labels).

        Of those within `count_tolerance` of the best silhouette, the one with the best
        silhouette on the reduced vectors (the first of equals: smallest size first).
        """
        top = max(quality[0] for quality, _, _ in tried)
        close = [t for t in tried if t[0][0] >= top - self.settings.count_tolerance]
        best = max(t[0][1] for t in close)
        return next(t for t in close if t[0][1] == best)

    def _quality(
        self, vectors: np.ndarray, reduced: np.ndarray, labels: np.ndarray, candidates: int
    ) -> tuple[float, float]:
        """How well `labels` separates the texts: silhouettes on a seeded sample.

        First by cosine on the full vectors (`count_space` 'full', the default) or by
        Euclidean distance on UMAP's reduced ones ('reduced'); second always on the reduced
        ones (the tie-break of `choose`). With one candidate nothing is computed.
        """
        from sklearn.metrics import silhouette_score

        if candidates < 2:
            return (0.0, 0.0)
        if np.unique(labels).size < 2:
            return (-1.0, -1.0)
        size = min(self.settings.silhouette_sample, vectors.shape[0])
        seed = self.settings.seed
        on_reduced = float(silhouette_score(reduced, labels, sample_size=size, random_state=seed))
        if self.settings.count_space == "reduced":
            return (on_reduced, on_reduced)
        on_full = float(
            silhouette_score(vectors, labels, metric="cosine", sample_size=size, random_state=seed)
        )
        return (on_full, on_reduced)

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        """Nearest reason centre for each row of `X`, or -1 when below the fitted threshold."""
        if self.centroids_.shape[0] == 0:
            return np.full(X.shape[0], UNEXPLAINED, dtype=np.int64)
        sims = self._prepare(X) @ self.centroids_.T
        best = np.argmax(sims, axis=1)
        labels = self.centroid_ids_[best].astype(np.int64)
        labels[sims[np.arange(len(best)), best] < self.threshold_] = UNEXPLAINED
        return labels


def bertopic_embedder(embedder: Any) -> Any:
    """Wrap our `Embedder` (`embed(texts, kind)`) as a BERTopic `BaseEmbedder`.

    Passing an embedder, rather than only precomputed vectors, also keeps BERTopic from
    stripping every character outside a-z (æ, ø, å) from the topic words. Embedded strings are
    memoised (`remember` seeds the memo with vectors computed earlier), since KeyBERTInspired
    embeds representative documents we already have vectors for, and MMR embeds the same
    candidate words again. A `BaseEmbedder` is returned unchanged.
    """
    from bertopic.backend import BaseEmbedder

    if isinstance(embedder, BaseEmbedder):
        return embedder

    class _Adapter(BaseEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.model_id = getattr(embedder, "model_id", type(embedder).__name__)
            self._memo: dict[str, np.ndarray] = {}

        def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
            # Vectors from another model (another width) must not mix with this one's.
            if len(texts) and self.embed([texts[0]]).shape[1] == vectors.shape[1]:
                self._memo.update(zip(texts, vectors, strict=True))

        def forget(self) -> None:
            self._memo.clear()

        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            todo = list(dict.fromkeys(d for d in documents if d not in self._memo))
            if todo:
                for text, vector in zip(todo, embedder.embed(todo), strict=True):
                    self._memo[text] = vector
            if not documents:
                return np.zeros((0, 0), dtype=np.float32)
            return np.stack([self._memo[d] for d in documents])

    return _Adapter()


def _batched_mmr(diversity: float, top_n_words: int) -> Any:
    """MMR over keywords that embeds every topic's words in ONE call.

    BERTopic's `MaximalMarginalRelevance` embeds each topic's words and their joined string one
    topic at a time (two model calls per reason, a minute for 100 reasons on 2 cores); here the
    topic is represented by the score-weighted mean of its word vectors instead.
    """
    from bertopic.representation import BaseRepresentation
    from bertopic.representation._mmr import mmr

    class _BatchedMMR(BaseRepresentation):
        def extract_topics(
            self, topic_model: Any, documents: Any, c_tf_idf: Any, topics: dict[int, Any]
        ) -> dict[int, Any]:
            vocab = sorted({w for pairs in topics.values() for w, _ in pairs if w})
            if not vocab:
                return topics
            vectors = _unit(topic_model.embedding_model.embed_words(vocab))
            index = {w: i for i, w in enumerate(vocab)}
            updated: dict[int, Any] = {}
            for topic, pairs in topics.items():
                pairs = [(w, v) for w, v in pairs if w]
                if len(pairs) < 2:
                    updated[topic] = pairs
                    continue
                words = [w for w, _ in pairs]
                emb = vectors[[index[w] for w in words]]
                weights = np.maximum(np.asarray([v for _, v in pairs], dtype=np.float32), 1e-6)
                centre = _unit((weights[:, None] * emb).sum(axis=0, keepdims=True))
                keep = set(mmr(centre, emb, words, diversity, min(top_n_words, len(words))))
                updated[topic] = [(w, v) for w, v in pairs if w in keep]
            return updated

    return _BatchedMMR()


def _fit_rows(
    fit_mask: Sequence[bool] | np.ndarray | None,
    n: int,
    max_texts: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Indices of the texts to fit on, sorted.

    All of them without a mask, or when too few are left; beyond `max_texts`, a sample of that
    many drawn with `seed` (the same texts give the same sample).
    """
    if fit_mask is None:
        rows = np.arange(n)
    else:
        mask = np.asarray(fit_mask, dtype=bool)
        if mask.shape != (n,):
            raise InputError(f"fit_mask has shape {mask.shape}, expected ({n},)")
        if mask.sum() < MIN_TEXTS:
            log.warning("only %d texts to fit on; fitting on all %d", int(mask.sum()), n)
            rows = np.arange(n)
        else:
            rows = np.flatnonzero(mask)
    if max_texts is not None and rows.size > max_texts:
        log.info("discovering reasons on a sample of %d of %d texts", max_texts, rows.size)
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_texts, replace=False))
    return rows


@dataclass(frozen=True)
class ReasonSpace:
    """The space reasons are found and compared in: the embeddings with shared directions removed.

    Multilingual models group texts by language before reason, and e5's cosines are all high
    from one shared direction. The clusterer therefore removes each language's mean vector
    (`center_by_language`), then the overall mean (`ReasonClusterer._prepare`). A `ReasonSpace`
    holds those means as fitted on one window, so that calls of later weeks land in the same
    space as the catalogue's centres.

    Attributes:
        language_means: unit-mean vector per language with enough texts.
        overall_mean: the mean for rare or unknown languages (and without language centring).
        centre_mean: the clusterer's mean after language centring; None when not centred.
    """

    language_means: dict[str, np.ndarray]
    overall_mean: np.ndarray
    centre_mean: np.ndarray | None

    def center(self, vectors: np.ndarray, languages: Sequence[str | None] | None) -> np.ndarray:
        """Remove the language means (what `center_by_language` does on the fitted window)."""
        unit = _unit(vectors)
        out = unit - self.overall_mean
        if languages is not None:
            if len(languages) != vectors.shape[0]:
                raise InputError(f"{len(languages)} languages for {vectors.shape[0]} texts")
            codes = np.array([lang or "" for lang in languages], dtype=object)
            for lang, mean in self.language_means.items():
                mask = codes == lang
                if mask.any():
                    out[mask] = unit[mask] - mean
        return _unit(out)

    def transform(self, vectors: np.ndarray, languages: Sequence[str | None] | None) -> np.ndarray:
        """Vectors as the clusterer compares them: language-centred, then centred, unit length."""
        centred = self.center(vectors, languages)
        if self.centre_mean is None:
            return centred
        return _unit(centred - self.centre_mean)


class TransformedRows:
    """`space.transform(vectors, languages)`, each row computed when it is first indexed.

    A weekly update reads the new calls, a sample of the window for the novelty test and the
    unexplained calls, not every call of the window: transforming all 100,000 rows of a big
    window cost seconds for rows it never read. `transform` works row by row, so a row is the
    same whichever rows are computed with it. Index it like an array (`rows[idx]`, an int, an
    index array, a boolean mask or a slice); `shape` is the whole transform's.
    """

    def __init__(
        self, space: ReasonSpace, vectors: np.ndarray, languages: Sequence[str | None] | None
    ) -> None:
        """Rows of `space.transform(vectors, languages)`, none computed yet."""
        if languages is not None and len(languages) != vectors.shape[0]:
            raise InputError(f"{len(languages)} languages for {vectors.shape[0]} texts")
        self.space = space
        self.vectors = vectors
        self.languages = None if languages is None else list(languages)
        self.shape = vectors.shape
        self._done = np.zeros(vectors.shape[0], dtype=bool)
        self._rows = np.zeros(vectors.shape, dtype=np.float32)

    def __getitem__(self, index: Any) -> np.ndarray:
        """The transformed rows at `index`."""
        rows = np.arange(self.shape[0])[index]
        flat = np.atleast_1d(rows)
        todo = np.unique(flat[~self._done[flat]])
        if todo.size:
            langs = None if self.languages is None else [self.languages[i] for i in todo]
            self._rows[todo] = self.space.transform(self.vectors[todo], langs)
            self._done[todo] = True
        return self._rows[rows]


def fit_space(
    vectors: np.ndarray,
    languages: Sequence[str | None] | None,
    settings: ClusterSettings,
    fit_mask: Sequence[bool] | np.ndarray | None = None,
) -> ReasonSpace:
    """Fit the space `discover_reasons` clusters in, on the same texts and with the same rules.

    Language means come from all texts (languages below `language_min_share` of them, or
    unknown, take the overall mean); the clusterer's mean from the texts it is fitted on.
    """
    unit = _unit(vectors)
    overall = unit.mean(axis=0)
    means: dict[str, np.ndarray] = {}
    if languages is not None and settings.center_by_language:
        if len(languages) != vectors.shape[0]:
            raise InputError(f"{len(languages)} languages for {vectors.shape[0]} texts")
        codes = np.array([lang or "" for lang in languages], dtype=object)
        for lang in sorted(set(codes.tolist()) - {""}):
            mask = codes == lang
            if mask.sum() >= max(2, settings.language_min_share * len(codes)):
                means[str(lang)] = unit[mask].mean(axis=0)
    space = ReasonSpace(means, overall, None)
    if not settings.center_embeddings:
        return space
    fit = _fit_rows(fit_mask, vectors.shape[0], settings.fit_max_texts, settings.seed)
    centre_mean = _unit(space.center(vectors, languages)[fit]).mean(axis=0)
    return ReasonSpace(means, overall, centre_mean)


def center_by_language(
    vectors: np.ndarray, languages: Sequence[str | None], min_share: float = 0.02
) -> np.ndarray:
    """Remove each language's mean vector (rare or unknown languages: the overall mean)."""
    if len(languages) != vectors.shape[0]:
        raise InputError(f"{len(languages)} languages for {vectors.shape[0]} texts")
    settings = ClusterSettings(language_min_share=min_share, center_embeddings=False)
    return fit_space(vectors, languages, settings).center(vectors, languages)


def build_topic_model(settings: ClusterSettings, embedding_model: Any | None = None) -> Any:
    """Compose the BERTopic model: identity reduction, `ReasonClusterer`, keyword pipeline.

    Without an embedding model the keywords are c-TF-IDF only (KeyBERT and MMR must embed
    words).
    """
    from bertopic import BERTopic
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.representation import KeyBERTInspired
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    s = settings
    backend = bertopic_embedder(embedding_model) if embedding_model is not None else None
    representation: list[Any] | None = None
    if backend is not None:
        representation = [
            KeyBERTInspired(
                top_n_words=s.top_n_words,
                nr_repr_docs=s.representative_docs,
                nr_candidate_words=s.keybert_candidate_words,
                random_state=s.seed,
            ),
            _batched_mmr(s.mmr_diversity, s.top_n_words),
        ]
    model = BERTopic(
        embedding_model=backend,
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=ReasonClusterer(s),
        vectorizer_model=CountVectorizer(
            stop_words=sorted(STOP_WORDS),
            token_pattern=TOKEN_PATTERN,
            ngram_range=(1, s.ngram_max),
            lowercase=True,
        ),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model=representation,
        top_n_words=s.top_n_words,
        calculate_probabilities=False,
    )
    # Without an embedding model BERTopic sets language="english", which deletes æ/ø/å from
    # the texts before the vectorizer sees them.
    model.language = None
    return model


def discover_reasons(
    texts: Sequence[str],
    embeddings: np.ndarray,
    settings: ClusterSettings,
    *,
    embedding_model: object | None = None,
    languages: Sequence[str | None] | None = None,
    fit_mask: Sequence[bool] | np.ndarray | None = None,
) -> ReasonDiscovery:
    """Find the contact reasons in `texts`; the number of reasons is discovered, never given.

    Args:
        texts: redacted reason texts, one per call.
        embeddings: one vector per text (any scale; normalised here).
        settings: clustering and keyword settings.
        embedding_model: our `Embedder` or a BERTopic `BaseEmbedder`, used to embed keyword
            candidates (KeyBERTInspired, MMR) and for `transform` later; None: c-TF-IDF
            keywords only.
        languages: each text's language (None where unknown); with
            `settings.center_by_language`, each language's mean vector is removed first.
        fit_mask: which texts shape the reasons (default all); the others are assigned to the
            nearest reason, or left unexplained when no reason is close. Used for unanswered
            calls, whose only text is a queue note. Beyond `settings.fit_max_texts`, a seeded
            sample of them shapes the reasons and the rest are assigned the same way.

    Returns:
        Labels per text (-1 unexplained), a reasons frame and the fitted BERTopic model.

    Raises:
        InputError: texts and embeddings differ in length, or too few texts.
    """
    vectors = np.asarray(embeddings, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise InputError(
            f"embeddings have shape {vectors.shape}, expected ({len(texts)}, dim): one row per text"
        )
    if len(texts) < MIN_TEXTS:
        raise InputError(f"need at least {MIN_TEXTS} texts to discover reasons, got {len(texts)}")
    docs = [t if t.strip() else "(empty)" for t in texts]
    topic_model = build_topic_model(settings, embedding_model)
    backend = topic_model.embedding_model
    if hasattr(backend, "remember"):  # keyword scoring compares with uncentred word vectors
        backend.remember(docs, vectors)
    fit_vectors = vectors
    if languages is not None and settings.center_by_language:
        fit_vectors = center_by_language(vectors, languages, settings.language_min_share)
    fit = _fit_rows(fit_mask, len(texts), settings.fit_max_texts, settings.seed)
    topics, _ = topic_model.fit_transform([docs[i] for i in fit], embeddings=fit_vectors[fit])
    if hasattr(backend, "forget"):
        backend.forget()
    labels = np.full(len(texts), UNEXPLAINED, dtype=np.int64)
    labels[fit] = np.asarray(topics, dtype=np.int64)
    rest = np.setdiff1d(np.arange(len(texts)), fit)
    if rest.size:
        raw = topic_model.hdbscan_model.predict(fit_vectors[rest])
        mapping = topic_model.topic_mapper_.get_mappings(original_topics=True)
        labels[rest] = [mapping.get(int(r), UNEXPLAINED) for r in raw]

    unit = _unit(vectors)
    ids, cents = centroids(unit, labels)
    rows: list[dict[str, Any]] = []
    for i, rid in enumerate(ids):
        members = np.flatnonzero(labels == rid)
        order = members[np.argsort(-(unit[members] @ cents[i]), kind="stable")]
        words = [w for w, _ in (topic_model.get_topic(int(rid)) or []) if w]
        rows.append(
            {
                "reason_id": int(rid),
                "keywords": words,
                "size": int(members.size),
                "representative_idx": [int(j) for j in order[: settings.representative_docs]],
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "reason_id": pl.Int64,
            "keywords": pl.List(pl.String),
            "size": pl.Int64,
            "representative_idx": pl.List(pl.Int64),
        },
    )
    named = name_reasons(frame, max_terms=settings.label_terms)
    if settings.label_phrases:
        embed = backend.embed if embedding_model is not None and backend is not None else None
        phrases = phrase_labels(
            docs,
            labels,
            centres={int(rid): cents[i] for i, rid in enumerate(ids)},
            embed=embed,
            rule=NameRule.from_settings(settings),
            vectors=unit,
            languages=languages,
        )
        named = named.with_columns(
            pl.Series(
                "label",
                [
                    phrases.get(int(rid), str(kw_label))
                    for rid, kw_label in zip(named["reason_id"], named["label"], strict=True)
                ],
                dtype=pl.String,
            )
        )
    reasons = named.select("reason_id", "label", "keywords", "size", "representative_idx")
    return ReasonDiscovery(labels=labels, reasons=reasons, topic_model=topic_model)
