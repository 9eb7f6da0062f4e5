import numpy as np
import pytest

from contact_reasons.evaluate import hungarian_accuracy, score


def test_perfect_match_under_renamed_ids():
    result = score(["a", "a", "b", "b", "c"], [7, 7, 3, 3, 0])
    assert result["nmi"] == pytest.approx(1.0)
    assert result["ari"] == pytest.approx(1.0)
    assert result["accuracy"] == pytest.approx(1.0)
    assert result["reasons"] == 3
    assert result["outlier_share"] == 0.0


def test_outliers_count_as_one_cluster():
    # All of label "a" unexplained: as one cluster that is still a perfect partition.
    result = score(["a", "a", "b", "b"], [-1, -1, 0, 0])
    assert result["nmi"] == pytest.approx(1.0)
    assert result["accuracy"] == pytest.approx(1.0)
    assert result["reasons"] == 1
    assert result["outlier_share"] == pytest.approx(0.5)


def test_outliers_spread_over_labels_are_penalised():
    truth = ["a", "a", "b", "b", "c", "c"]
    result = score(truth, [0, -1, 1, -1, 2, -1])
    # 0->a, 1->b, 2->c; the outlier cluster has no label left to match.
    assert result["accuracy"] == pytest.approx(3 / 6)
    assert result["ari"] < 0.5
    assert result["outlier_share"] == pytest.approx(0.5)


def test_hungarian_is_one_to_one():
    # Two clusters cannot both be matched to label "a".
    assert hungarian_accuracy(["a", "a", "a", "b"], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert hungarian_accuracy(["a", "a", "a", "a"], [0, 0, 1, 2]) == pytest.approx(0.5)


def test_all_unexplained():
    result = score(["a", "a", "a", "b"], np.array([-1, -1, -1, -1]))
    assert result["reasons"] == 0
    assert result["outlier_share"] == 1.0
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["ari"] == pytest.approx(0.0)


def test_length_mismatch_names_both_lengths():
    with pytest.raises(ValueError, match="3 items but labels_pred has 2"):
        score(["a", "b", "c"], [0, 1])


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="zero texts"):
        score([], [])
