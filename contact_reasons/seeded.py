"""Seeded discovery: reasons people already know guide the reasons found; new ones are still found.

Some rows carry a seed: the name of a reason someone already knows (a wrap-up code, a reason
confirmed in the catalogue). `discover_seeded` gives every row a reason id:

1. **A metric learned on the seeds.** The vectors are put in the clusterer's space (language
   and overall means removed, `cluster.fit_space`), then whitened by the seeds' within-reason
   covariance, shrunk half-way towards the identity (`SeededSettings.shrinkage`). Directions in
   which calls of ONE known reason differ (wording, politeness, length) are squeezed; every
   direction is kept, so reasons no seed names still separate. An LDA fitted on the seeds
   would keep only the known reasons' directions and fold the new ones together.
2. **Discovery in that space**, by the K-free `ReasonClusterer` (HDBSCAN counts, Ward assigns,
   discriminant refinement); the count is never given and seeds do not change it.
3. **Seed vote.** A cluster holding no seed is a new reason. A cluster holding seeds of one
   known reason becomes that reason; one holding seeds of several is split between them by the
   nearest seed centre. A seed itself always keeps its own reason.
4. **Self-training** (`SeededSettings.rounds`): a few rounds of spherical k-means over all
   reasons, seeds held fixed, so that rows of a known reason that the clusterer put next door
   move to it.

Reason ids: the known reasons are 0..k-1 in the sorted order of their names (`known`), new
reasons follow, -1 is unexplained. Measured in docs/reason_discovery.md ("Seeded discovery").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from contact_reasons.cluster import UNEXPLAINED, ReasonClusterer, _unit, centroids, fit_space
from contact_reasons.cluster_settings import ClusterSettings
from contact_reasons.config import SeededSettings
from contact_reasons.errors import InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeededDiscovery:
    """The result of `discover_seeded`.

    Attributes:
        labels: reason id per row (-1 unexplained).
        known: the known reasons' names; reason id i < len(known) is `known[i]`.
        space: the learned vectors (unit rows) the reasons were found in.
    """

    labels: np.ndarray
    known: list[str]
    space: np.ndarray

    def label_of(self, reason_id: int) -> str | None:
        """The seed name of a known reason id; None for a new reason or -1."""
        return self.known[reason_id] if 0 <= reason_id < len(self.known) else None


def clean_seeds(seeds: Sequence[object | None], n: int) -> np.ndarray:
    """Seed names as an object array: stripped strings, None where a row has no seed.

    Raises:
        InputError: not one seed value per row.
    """
    if len(seeds) != n:
        raise InputError(f"{len(seeds)} seed values for {n} rows: need one per row")
    out = np.empty(n, dtype=object)
    for i, value in enumerate(seeds):
        text = "" if value is None else str(value).strip()
        out[i] = text or None
    return out


def seed_metric(
    vectors: np.ndarray, seed_rows: np.ndarray, seed_names: np.ndarray, shrinkage: float
) -> np.ndarray:
    """The whitening matrix of the seeds' within-reason covariance, shrunk towards identity.

    Identity when the seeds give no within-reason spread (each known reason seen once).
    """
    dim = vectors.shape[1]
    names, index = np.unique(seed_names, return_inverse=True)
    seeded = vectors[seed_rows]
    means = np.stack([seeded[index == i].mean(axis=0) for i in range(names.size)])
    residual = seeded - means[index]
    dof = seed_rows.size - names.size
    if dof < 1:
        return np.eye(dim, dtype=np.float32)
    within = residual.T @ residual / dof
    scale = float(np.trace(within)) / dim
    if scale <= 1e-12:
        return np.eye(dim, dtype=np.float32)
    shrunk = (1 - shrinkage) * within + shrinkage * scale * np.eye(dim)
    values, basis = np.linalg.eigh(shrunk)
    return (basis @ np.diag(values**-0.5) @ basis.T).astype(np.float32)


def _vote(
    space: np.ndarray,
    clusters: np.ndarray,
    seed_index: np.ndarray,
    n_known: int,
    absorb_margin: float | None = None,
) -> np.ndarray:
    """Known reason by the seeds in each cluster; a cluster without seeds is a new reason.

    With `absorb_margin`, a cluster without seeds is a piece of known reason j instead (a part
    of j that no seed shows) when its centre is closer to j's seed centre than j's nearest
    other known reason is, and closer to j than to any other known reason by more than
    `absorb_margin` (cosine). See `SeededSettings.absorb_margin`.
    """
    seeded = seed_index >= 0
    _, centres = centroids(space, seed_index)  # known reasons 0 ... n_known-1, each seeded
    between = centres @ centres.T
    np.fill_diagonal(between, -np.inf)
    nearest_other = between.max(axis=1) if n_known > 1 else np.full(n_known, np.inf)
    labels = np.full(space.shape[0], UNEXPLAINED, dtype=np.int64)
    next_id = n_known
    for cluster in np.unique(clusters):
        if cluster == UNEXPLAINED:
            continue
        members = clusters == cluster
        present = np.unique(seed_index[members & seeded])
        if present.size == 0:
            piece = _piece_of(space[members], centres, nearest_other, absorb_margin)
            if piece is None:
                labels[members] = next_id
                next_id += 1
            else:
                labels[members] = piece
        else:
            labels[members] = present[np.argmax(space[members] @ centres[present].T, axis=1)]
    labels[seeded] = seed_index[seeded]
    return labels


def _piece_of(
    members: np.ndarray,
    centres: np.ndarray,
    nearest_other: np.ndarray,
    margin: float | None,
) -> int | None:
    """The known reason a seedless cluster is a piece of (`_vote`), or None: a new reason."""
    if margin is None or centres.shape[0] < 2:
        return None
    sims = centres @ _unit(members.mean(axis=0, keepdims=True))[0]
    order = np.argsort(sims)
    j, second = int(order[-1]), int(order[-2])
    if sims[j] > nearest_other[j] and sims[j] - sims[second] > margin:
        return j
    return None


def _self_train(
    space: np.ndarray, labels: np.ndarray, seed_index: np.ndarray, rounds: int
) -> np.ndarray:
    """Spherical k-means over the current reasons; seeds and unexplained rows stay put."""
    fixed = (seed_index >= 0) | (labels == UNEXPLAINED)
    for _ in range(rounds):
        ids, centres = centroids(space, labels)
        moved = ids[np.argmax(space @ centres.T, axis=1)]
        moved[fixed] = labels[fixed]
        if np.array_equal(moved, labels):
            break
        labels = moved
    return labels


def _compact(labels: np.ndarray, n_known: int) -> np.ndarray:
    """Renumber new reasons n_known, n_known+1, ... (k-means can empty one)."""
    out = labels.copy()
    new_ids = np.unique(labels[labels >= n_known])
    for offset, rid in enumerate(new_ids):
        out[labels == rid] = n_known + offset
    return out


def discover_seeded(
    vectors: np.ndarray,
    seeds: Sequence[object | None],
    cluster: ClusterSettings,
    seeded: SeededSettings | None = None,
    *,
    languages: Sequence[str | None] | None = None,
) -> SeededDiscovery:
    """Give every row a reason: a known one (seed name) where it is like one, else a new one.

    Args:
        vectors: one embedding per row (any scale; normalised here).
        seeds: per row, the name of the known reason it is an example of, or None / "".
        cluster: settings of the K-free clusterer that finds the reasons.
        seeded: settings of the learned metric and self-training (defaults when None).
        languages: each row's language (None where unknown), for language centring.

    Returns:
        Labels (known reasons first, then new ones, -1 unexplained), the known names and the
        learned space.

    Raises:
        InputError: vectors and seeds differ in length, or too few rows.
    """
    settings = seeded or SeededSettings()
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise InputError(f"embeddings have shape {vectors.shape}, expected (rows, dim)")
    n = vectors.shape[0]
    names = clean_seeds(seeds, n)
    if n < 10:
        raise InputError(f"need at least 10 texts to discover reasons, got {n}")
    space = fit_space(vectors, languages, cluster).transform(vectors, languages)
    seed_rows = np.flatnonzero(names != None)  # noqa: E711 - object array
    known = sorted({str(x) for x in names[seed_rows]})
    seed_index = np.full(n, -1, dtype=np.int64)
    if known:
        seed_index[seed_rows] = np.searchsorted(known, names[seed_rows].astype(str))
        space = _unit(
            space @ seed_metric(space, seed_rows, seed_index[seed_rows], settings.shrinkage)
        )
        space = _unit(space - space.mean(axis=0))
    clusterer = ReasonClusterer(cluster.model_copy(update={"center_embeddings": False}))
    clusters = clusterer.fit(space).labels_
    log.info(
        "seeded discovery: %d seeds of %d known reasons, %d clusters in %d rows",
        seed_rows.size,
        len(known),
        int(np.unique(clusters[clusters != UNEXPLAINED]).size),
        n,
    )
    if not known:
        return SeededDiscovery(labels=np.asarray(clusters, dtype=np.int64), known=[], space=space)
    labels = _vote(space, clusters, seed_index, len(known), settings.absorb_margin)
    labels = _self_train(space, labels, seed_index, settings.rounds)
    return SeededDiscovery(labels=_compact(labels, len(known)), known=known, space=space)


def name_seeded(
    texts: Sequence[str],
    vectors: np.ndarray,
    found: SeededDiscovery,
    settings: ClusterSettings,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    languages: Sequence[str | None] | None = None,
) -> dict[int, str]:
    """Reason id -> name: the seed name of a known reason; a phrase its calls use for a new one.

    New reasons are named as `discover_reasons` names its reasons: `naming.phrase_names` with
    the settings' `naming.NameRule`, over the whole partition (the known reasons' calls count
    for a phrase's precision and their centres for its contrast), short calls only in a
    reason's most common of `languages`. One without a candidate is 'New reason N'.
    """
    from contact_reasons.naming import NameRule, phrase_names

    names = {i: name for i, name in enumerate(found.known)}
    ids, cents = centroids(_unit(vectors), found.labels)
    new = [int(rid) for rid in ids if rid >= len(found.known)]
    if not new:
        return names
    named = phrase_names(
        list(texts),
        found.labels,
        centres={int(rid): cents[i] for i, rid in enumerate(ids)},
        embed=embed,
        rule=NameRule.from_settings(settings),
        only=new,
        vectors=vectors,
        languages=languages,
    )
    for rid in new:
        names[rid] = named[rid].name if rid in named else f"New reason {rid - len(found.known) + 1}"
    return names
