import polars as pl
import pytest

from contact_reasons.config import StatsSettings
from contact_reasons.stats import weekly_reason_stats


def _calls(per_week: dict[int, dict[int, int]]) -> pl.DataFrame:
    rows = []
    for week, counts in per_week.items():
        for reason, n in counts.items():
            rows += [
                (f"{week}-{reason}-{i}", f"2026-W{week:02d}", reason, 1.0 - i / 100)
                for i in range(n)
            ]
    return pl.DataFrame(rows, schema=["call_id", "week", "reason_id", "similarity"], orient="row")


REASONS = pl.DataFrame({"reason_id": [1, 2], "label": ["Faktura", "Ny app"]})


def test_counts_shares_and_examples():
    table = weekly_reason_stats(
        _calls({1: {1: 3, 2: 1}}), REASONS, StatsSettings(examples_per_reason=2)
    )
    row = table.filter(pl.col("reason_id") == 1).row(0, named=True)
    assert row["calls"] == 3
    assert row["share"] == pytest.approx(0.75)
    assert row["example_call_ids"] == ["1-1-0", "1-1-1"]
    assert row["baseline_calls"] is None
    assert not row["is_emerging"]


def test_answered_calls_are_the_examples_before_more_central_unanswered_ones():
    calls = _calls({1: {1: 3}}).with_columns(pl.Series("answered", [False, True, True]))
    table = weekly_reason_stats(calls, REASONS, StatsSettings(examples_per_reason=2))
    assert table.row(0, named=True)["example_call_ids"] == ["1-1-1", "1-1-2"]


def test_new_growing_reason_is_emerging_and_steady_one_is_not():
    weeks = {w: {1: 30} for w in range(1, 9)}
    weeks.update({9: {1: 31, 2: 12}, 10: {1: 29, 2: 25}})
    table = weekly_reason_stats(_calls(weeks), REASONS, StatsSettings())
    emerging = table.filter(pl.col("is_emerging"))
    assert set(emerging["reason_id"]) == {2}
    assert set(emerging["week"]) == {"2026-W09", "2026-W10"}


def test_small_bumps_are_not_emerging():
    weeks = {w: {1: 20} for w in range(1, 6)}
    weeks[6] = {1: 26}  # +30 %: noise, not an alert
    table = weekly_reason_stats(_calls(weeks), REASONS, StatsSettings())
    assert table.filter(pl.col("is_emerging")).height == 0


def test_empty_input_gives_empty_table():
    empty = pl.DataFrame(
        schema={
            "call_id": pl.String,
            "week": pl.String,
            "reason_id": pl.Int32,
            "similarity": pl.Float64,
        }
    )
    assert weekly_reason_stats(empty, REASONS, StatsSettings()).height == 0


def test_calls_with_the_same_text_give_one_example():
    call_reasons = pl.DataFrame(
        {
            "call_id": ["a", "b", "c"],
            "week": ["2026-W47"] * 3,
            "reason_id": pl.Series([1, 1, 1], dtype=pl.Int32),
            "similarity": [0.9, 0.9, 0.8],
            "text_hash": ["same", "same", "other"],
        }
    )
    reasons = pl.DataFrame({"reason_id": pl.Series([1], dtype=pl.Int32), "label": ["Faktura"]})
    table = weekly_reason_stats(call_reasons, reasons, StatsSettings())
    assert table["example_call_ids"][0].to_list() == ["a", "c"]
    assert table["calls"][0] == 3


def test_texts_that_differ_only_in_case_and_punctuation_give_one_example():
    call_reasons = pl.DataFrame(
        {
            "call_id": ["a", "b", "c", "d"],
            "week": ["2026-W47"] * 4,
            "reason_id": pl.Series([1, 1, 1, 1], dtype=pl.Int32),
            "similarity": [0.9, 0.85, 0.8, 0.7],
            "reason_text": [
                "Router blinker rødt efter genstart, virker igen.",
                "router blinker rødt efter genstart - virker igen",
                "Fiberboks uden lys.",
                "Router blinker grønt efter genstart, virker igen.",
            ],
        }
    )
    reasons = pl.DataFrame({"reason_id": pl.Series([1], dtype=pl.Int32), "label": ["Router"]})
    table = weekly_reason_stats(call_reasons, reasons, StatsSettings(examples_per_reason=3))
    assert table["example_call_ids"][0].to_list() == ["a", "c", "d"]
    assert table["calls"][0] == 4
