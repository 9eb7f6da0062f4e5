"""A refit's hysteresis (issue 14): a call leaves its former reason only for a clearly better one.

"Clearly" is measured in the spread of the reasons' own members (the interquartile range of
their cosines to their centre), so the rule means the same in a space whose cosines are all
compressed towards 1, as e5's are before centring. Synthetic vectors, no model.
"""

from __future__ import annotations

import numpy as np

from contact_reasons import catalogue as cat
from contact_reasons.cluster import centroids

DIM = 16


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def two_reasons(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reasons 1 and 2 (30 calls each around their own axis), then two calls the refit puts in
    reason 2 that were reason 1's: one barely nearer reason 2, one far nearer.

    Returns the vectors, the refit's labels and the former labels.
    """
    rng = np.random.default_rng(seed)
    eye = np.eye(DIM)
    members = [
        _unit(eye[axis] + 0.6 * rng.normal(size=(30, DIM)) * (np.arange(DIM) >= 4))
        for axis in (0, 1)
    ]
    borderline = _unit(0.48 * eye[0] + 0.52 * eye[1] + 0.3 * eye[5])
    clear = _unit(0.1 * eye[0] + 0.9 * eye[1] + 0.3 * eye[5])
    vectors = np.vstack([*members, borderline, clear]).astype(np.float32)
    refit = np.asarray([1] * 30 + [2] * 30 + [2, 2], np.int64)
    former = np.asarray([1] * 30 + [2] * 30 + [1, 1], np.int64)
    return vectors, refit, former


def compressed(vectors: np.ndarray, k: float = 3.0) -> np.ndarray:
    """The same vectors with a strong shared direction: every cosine is pulled towards 1."""
    shared = np.zeros(vectors.shape[1], np.float32)
    shared[-1] = 1.0
    return _unit(vectors + k * shared).astype(np.float32)


def gain(vectors: np.ndarray, labels: np.ndarray, row: int) -> float:
    """How much nearer row `row` is to reason 2's centre than to reason 1's."""
    ids, cents = centroids(vectors, labels)
    index = {int(r): i for i, r in enumerate(ids)}
    return float(vectors[row] @ cents[index[2]] - vectors[row] @ cents[index[1]])


def test_a_borderline_call_keeps_its_reason_and_a_clear_one_moves():
    vectors, refit, former = two_reasons()
    kept = cat.keep_where_close(vectors, refit, former, 1.0)
    assert kept[60] == 1, "a call only slightly nearer the new reason stays"
    assert kept[61] == 2, "a call far nearer the new reason moves"
    assert (kept[:60] == refit[:60]).all(), "calls the refit did not move stay where they are"
    assert gain(vectors, refit, 60) < cat.own_spread(vectors, refit) < gain(vectors, refit, 61)


def test_the_margin_follows_the_spaces_cosine_scale():
    vectors, refit, former = two_reasons()
    squeezed = compressed(vectors)
    # the clear call's gain shrinks below what a fixed cosine margin of 0.05 would demand ...
    assert gain(squeezed, refit, 61) < 0.05 < gain(vectors, refit, 61)
    # ... and the spread shrinks with it, so the decisions are the same in both spaces
    assert cat.own_spread(squeezed, refit) < cat.own_spread(vectors, refit) / 5
    kept = cat.keep_where_close(squeezed, refit, former, 1.0)
    assert kept[60] == 1
    assert kept[61] == 2


def test_negative_spreads_turn_the_hysteresis_off_and_unexplained_calls_keep_their_reason():
    vectors, refit, former = two_reasons()
    assert (cat.keep_where_close(vectors, refit, former, -1.0) == refit).all()
    left = refit.copy()
    left[5] = cat.UNEXPLAINED
    assert cat.keep_where_close(vectors, left, former, 1.0)[5] == 1


def test_a_reason_the_refit_dropped_does_not_keep_calls():
    vectors, refit, former = two_reasons()
    former = former.copy()
    former[60] = 7  # a catalogue reason the refit found no calls for
    kept = cat.keep_where_close(vectors, refit, former, 10.0)
    assert kept[60] == 2
