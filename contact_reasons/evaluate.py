"""Score discovered reasons against known labels: NMI, ARI and Hungarian-matched accuracy.

Unexplained texts (label -1) count as ONE cluster of their own, because that is what a user
sees: a bucket of calls without a reason. Leaving them out would flatter a method that explains
little.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

UNEXPLAINED = -1


def hungarian_accuracy(
    labels_true: Sequence[Any] | np.ndarray, labels_pred: Sequence[int] | np.ndarray
) -> float:
    """Share of texts whose cluster is matched one-to-one to their true label.

    The matching maximises the number of agreeing texts (Hungarian algorithm); clusters or labels
    left without a partner count as wrong.
    """
    table = contingency_matrix(np.asarray(labels_true), np.asarray(labels_pred))
    rows, cols = linear_sum_assignment(table, maximize=True)
    total = table.sum()
    return float(table[rows, cols].sum() / total) if total else 0.0


def score(labels_true: Sequence[Any], labels_pred: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """Compare predicted reason ids with true labels.

    Args:
        labels_true: the true label of each text (any hashable values).
        labels_pred: the reason id of each text; -1 means unexplained and is scored as one
            cluster.

    Returns:
        `nmi`, `ari`, `accuracy` (Hungarian-matched), `reasons` (clusters found, -1 excluded)
        and `outlier_share` (share of texts labelled -1).

    Raises:
        ValueError: the two sequences differ in length or are empty.
    """
    truth = np.asarray([str(x) for x in labels_true])
    pred = np.asarray(labels_pred, dtype=np.int64)
    if truth.shape[0] != pred.shape[0]:
        raise ValueError(
            f"labels_true has {truth.shape[0]} items but labels_pred has {pred.shape[0]}"
        )
    if truth.shape[0] == 0:
        raise ValueError("cannot score zero texts")
    return {
        "nmi": float(normalized_mutual_info_score(truth, pred)),
        "ari": float(adjusted_rand_score(truth, pred)),
        "accuracy": hungarian_accuracy(truth, pred),
        "reasons": int(np.unique(pred[pred != UNEXPLAINED]).size),
        "outlier_share": float(np.mean(pred == UNEXPLAINED)),
    }
