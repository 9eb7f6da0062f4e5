import polars as pl
import pytest

from contact_reasons.alerts import (
    benjamini_hochberg,
    detect_alerts,
    flag_emerging,
    markdown,
    related_groups,
)
from contact_reasons.config import AlertSettings

WEEKS = [f"2026-W{w:02d}" for w in range(36, 48)]
#: Steady reasons with ordinary Poisson-like noise, as a background for the tested reason.
STEADY = {
    101: [20, 22, 19, 21, 20, 23, 18, 21, 20, 22, 19, 21],
    102: [9, 11, 10, 8, 10, 9, 11, 10, 9, 10, 8, 10],
    103: [14, 15, 13, 16, 14, 15, 13, 14, 16, 15, 14, 13],
}


def _weekly(series: dict[int, list[int]]) -> pl.DataFrame:
    rows = [
        (week, rid, n)
        for rid, counts in series.items()
        for week, n in zip(WEEKS[: len(counts)], counts, strict=True)
    ]
    return pl.DataFrame(rows, schema=["week", "reason_id", "calls"], orient="row")


def _alerts(series: dict[int, list[int]], **settings) -> pl.DataFrame:
    return detect_alerts(_weekly({**STEADY, **series}), None, AlertSettings(**settings))


def test_steady_series_give_no_alert():
    assert _alerts({}).height == 0


def test_overdispersed_steady_series_is_no_alert_though_poisson_would_raise_one():
    swinging = {1: [10, 31, 12, 29, 11, 30, 10, 31, 12, 30, 11, 32]}
    assert _alerts(swinging).height == 0
    assert _alerts(swinging, model="poisson").filter(pl.col("reason_id") == 1).height > 0


def test_clear_surge_is_rising_with_evidence():
    alerts = _alerts({1: [20, 21, 19, 22, 20, 21, 19, 20, 21, 20, 22, 60]})
    row = alerts.row(0, named=True)
    assert alerts.height == 1
    assert (row["week"], row["reason_id"], row["kind"], row["calls"]) == (
        "2026-W47",
        1,
        "rising",
        60,
    )
    assert row["expected_calls"] == pytest.approx(20.625, abs=0.01)
    assert row["q_value"] <= 0.1
    assert row["evidence"].startswith("60 calls against 20.6 expected (x2.9); 8 weeks of history")


def test_new_reason_is_new_once_then_rising():
    alerts = _alerts({2: [0, 0, 0, 0, 0, 0, 0, 1, 0, 15, 40, 41]})
    rows = alerts.filter(pl.col("reason_id") == 2).select("week", "kind").rows()
    assert rows[0] == ("2026-W45", "new")
    assert [kind for _, kind in rows].count("new") == 1
    assert ("2026-W46", "rising") in rows
    assert "first seen W43" in alerts.filter(pl.col("kind") == "new")["evidence"][0]


def test_small_new_reason_waits_until_it_is_large_enough():
    alerts = _alerts({2: [0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 7, 12]}, new_min_calls=10)
    assert alerts.select("week", "kind").rows() == [("2026-W47", "new")]


def test_catalogue_first_seen_long_ago_is_not_new():
    weekly = _weekly({**STEADY, 2: [0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 1, 0]})
    reasons = pl.DataFrame(
        {"reason_id": [2], "label": ["Julens åbningstider"], "first_seen_week": ["2025-W50"]}
    )
    alerts = detect_alerts(weekly, reasons, AlertSettings())
    assert "new" not in alerts["kind"].to_list()
    assert alerts.filter(pl.col("reason_id") == 2)["label"].to_list() == ["Julens åbningstider"]
    without = detect_alerts(weekly, reasons.drop("first_seen_week"), AlertSettings())
    assert without.filter(pl.col("reason_id") == 2)["kind"].to_list() == ["new"]


def test_drop_is_falling():
    alerts = _alerts({3: [20, 21, 19, 22, 20, 5, 6, 5, 6, 5, 6, 5]})
    falling = alerts.filter(pl.col("kind") == "falling")
    assert falling["week"][0] == "2026-W41"
    assert set(falling["reason_id"]) == {3}
    assert "(-75%)" in falling["evidence"][0]


def test_no_week_is_tested_before_the_minimum_history():
    alerts = _alerts({1: [20, 21, 80, 20, 20, 21, 19, 20, 21, 20, 22, 20]})
    assert alerts.filter(pl.col("week") <= "2026-W39").height == 0


def test_unexplained_calls_are_never_alerted():
    assert _alerts({-1: [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 90]}).height == 0


def test_benjamini_hochberg_adjusts_and_keeps_input_order():
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.2])
    assert q == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])
    assert benjamini_hochberg([]) == []


def test_a_bump_that_passes_alone_does_not_among_many_tested_reasons():
    bump = {1: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 20]}
    alone = detect_alerts(_weekly(bump), None, AlertSettings())
    assert alone.height == 1
    assert alone["q_value"][0] == pytest.approx(alone["p_value"][0])
    crowd = {100 + i: [10 + (i + w) % 3 for w in range(12)] for i in range(60)}
    among = detect_alerts(_weekly({**crowd, **bump}), None, AlertSettings())
    assert among.filter(pl.col("reason_id") == 1).height == 0


def test_flag_emerging_marks_new_and_rising_only():
    stats = pl.DataFrame(
        {
            "week": ["2026-W47"] * 3,
            "reason_id": pl.Series([1, 2, 3], dtype=pl.Int32),
            "is_emerging": [True, False, False],
        }
    )
    alerts = pl.DataFrame(
        {"week": ["2026-W47"] * 2, "reason_id": [2, 3], "kind": ["rising", "falling"]},
        schema_overrides={"reason_id": pl.Int32},
    )
    flagged = flag_emerging(stats, alerts)
    assert flagged["is_emerging"].to_list() == [False, True, False]
    assert flagged.columns == stats.columns


def test_markdown_lists_the_weeks_alerts_and_escapes_pipes():
    alerts = _alerts({1: [20, 21, 19, 22, 20, 21, 19, 20, 21, 20, 22, 60]})
    alerts = alerts.with_columns(pl.lit("Faktura | rykker").alias("label"))
    text = markdown(alerts, "2026-W47")
    assert "| rising | Faktura \\| rykker | 60 |" in text
    assert "No reason" in markdown(alerts, "2026-W40")


def test_empty_input_gives_empty_alerts():
    empty = pl.DataFrame(schema={"week": pl.String, "reason_id": pl.Int32, "calls": pl.Int64})
    assert detect_alerts(empty, None, AlertSettings()).height == 0


def test_settings_refuse_a_minimum_history_longer_than_the_history():
    with pytest.raises(ValueError, match="min_history_weeks"):
        AlertSettings(history_weeks=4, min_history_weeks=6)


def test_a_surge_that_goes_on_stays_alerted_when_alerted_weeks_leave_the_history():
    surge = {1: [20, 21, 19, 22, 20, 21, 19, 20, 21, 60, 65, 62]}
    kept = _alerts(surge).filter(pl.col("reason_id") == 1)["week"].to_list()
    left_out = _alerts(surge, exclude_alerted_weeks=True).filter(pl.col("reason_id") == 1)
    assert "2026-W47" not in kept  # the surge weeks in its history hide the third
    assert left_out["week"].to_list() == ["2026-W45", "2026-W46", "2026-W47"]
    assert left_out["expected_calls"][-1] == pytest.approx(20.5, abs=0.01)
    assert "6 weeks of history" in left_out["evidence"][-1]


def _reasons_with_centres(centres: dict[int, list[float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "reason_id": list(centres),
            "label": [f"r{r}" for r in centres],
            "centre": [[float(x) for x in c] for c in centres.values()],
        }
    )


#: Three reasons close together (one topic the clustering cut in three), and far ones.
RELATED = {
    1: [1.0, 0.1, 0.0, 0.0],
    2: [1.0, 0.0, 0.1, 0.0],
    3: [1.0, 0.0, 0.0, 0.1],
    101: [0.0, 1.0, 0.0, 0.0],
    102: [0.0, 0.0, 1.0, 0.0],
    103: [0.0, 0.0, 0.0, 1.0],
}
#: Each piece rises from about 4 to 8 calls in W47: not enough alone, clear together.
PIECES = {
    1: [4, 5, 3, 4, 4, 5, 3, 4, 4, 5, 3, 8],
    2: [3, 4, 5, 4, 3, 4, 5, 4, 4, 3, 5, 8],
    3: [5, 4, 4, 3, 5, 4, 4, 3, 5, 4, 4, 8],
}


def test_a_surge_spread_over_related_reasons_is_alerted_once_as_their_group():
    weekly = _weekly({**STEADY, **PIECES})
    assert detect_alerts(weekly, None, AlertSettings()).height == 0  # no piece rises enough alone
    # Six reasons only: two neighbours each keep the far reasons out of the pieces' group.
    alerts = detect_alerts(
        weekly, _reasons_with_centres(RELATED), AlertSettings(related_neighbours=2)
    )
    assert alerts.height == 1
    row = alerts.row(0, named=True)
    assert (row["week"], row["kind"], row["calls"]) == ("2026-W47", "rising", 24)
    assert row["reason_id"] in (1, 2, 3)
    assert row["q_value"] <= 0.1
    assert "together with related reasons (3: r1 8 vs" in row["evidence"]
    off = detect_alerts(weekly, _reasons_with_centres(RELATED), AlertSettings(related_neighbours=0))
    assert off.height == 0


def test_unrelated_reasons_rising_a_little_together_are_no_group_alert():
    far = {1: [1.0, 0, 0, 0], 2: [0, 1.0, 0, 0], 3: [0, 0, 1.0, 0]} | {
        101: [0, 0, 0, 1.0],
        102: [0.5, 0.5, 0.5, 0.5],
        103: [-1.0, 0, 0, 0],
    }
    groups = related_groups(_reasons_with_centres(far), [1, 2, 3, 101, 102, 103], 1)
    assert all(not {1, 2, 3} <= set(g) for g in groups)
    alerts = detect_alerts(
        _weekly({**STEADY, **PIECES}),
        _reasons_with_centres(far),
        AlertSettings(related_neighbours=1),
    )
    assert alerts.height == 0


def test_one_reason_surging_is_its_own_alert_not_its_groups():
    series = {**PIECES, 1: [4, 5, 3, 4, 4, 5, 3, 4, 4, 5, 3, 30], 2: PIECES[2][:11] + [4]}
    series[3] = PIECES[3][:11] + [4]
    alerts = detect_alerts(
        _weekly({**STEADY, **series}), _reasons_with_centres(RELATED), AlertSettings()
    )
    assert alerts.select("reason_id", "kind").rows() == [(1, "rising")]
    assert "related" not in alerts["evidence"][0]


def test_related_groups_are_mutual_nearest_reasons():
    groups = related_groups(_reasons_with_centres(RELATED), list(RELATED), 2)
    assert (1, 2, 3) in groups
    assert related_groups(None, list(RELATED), 3) == []
    assert related_groups(_reasons_with_centres(RELATED), list(RELATED), 0) == []
