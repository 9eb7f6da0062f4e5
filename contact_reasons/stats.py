"""The weekly top-reasons table: calls, share, change against past weeks, emerging reasons."""

from __future__ import annotations

from datetime import date

import polars as pl
from scipy.stats import poisson

from contact_reasons.config import StatsSettings

UNEXPLAINED_ID = -1
UNEXPLAINED_LABEL = "(unexplained)"
#: The smallest weekly rate a reason is tested against, so a brand-new reason can be emerging.
_RATE_FLOOR = 0.5


def iso_week(column: str = "started_at") -> pl.Expr:
    """Return the ISO week (`YYYY-Www`) of a datetime column."""
    col = pl.col(column)
    return pl.format("{}-W{}", col.dt.iso_year(), col.dt.week().cast(pl.String).str.zfill(2)).alias(
        "week"
    )


def iso_week_of(day: date) -> str:
    """The ISO week of a date, as the calls' `week` column writes it (2026-W41)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def example_key(text: pl.Expr) -> pl.Expr:
    """A text as examples compare it: lower case, its words only (no punctuation or spacing)."""
    return text.fill_null("").str.to_lowercase().str.replace_all(r"[\W_]+", " ").str.strip_chars()


def weekly_reason_stats(
    call_reasons: pl.DataFrame, reasons: pl.DataFrame, settings: StatsSettings
) -> pl.DataFrame:
    """Count calls per ISO week and reason, compare with the past weeks, flag emerging reasons.

    Args:
        call_reasons: one row per call: `call_id`, `week`, `reason_id`, `similarity` (to its
            reason; the most similar calls are the examples), optionally `answered` (answered
            calls are the examples before unanswered ones), optionally `reason_text` (calls
            whose texts differ only in case, spacing or punctuation give one example, as
            `example_key` says), else optionally `text_hash` (calls with the same text give
            one example).
        reasons: `reason_id`, `label`.
        settings: the history length and the emerging-reason test.

    Returns:
        One row per week and reason (reasons with no calls in a week get 0 within the weeks
        observed), columns as in the `weekly_reason_stats` table. A reason is emerging in a week
        when its calls are at least `emerging_min_calls`, at least `emerging_min_ratio` times
        its mean over the past `history_weeks` weeks, and a Poisson test of the week's count
        against that mean (floored at 0.5 a week) gives p below `emerging_p_value`. Weeks
        with fewer than two past weeks are never tested.
    """
    if call_reasons.height == 0:
        return _empty()
    weeks = sorted(call_reasons["week"].unique().to_list())
    week_index = pl.DataFrame({"week": weeks, "week_no": list(range(len(weeks)))})
    reason_ids = call_reasons.select("reason_id").unique()
    grid = week_index.join(reason_ids, how="cross")
    counts = call_reasons.group_by("week", "reason_id").agg(pl.len().alias("calls"))
    first = ["answered"] if "answered" in call_reasons.columns else []
    ranked = call_reasons.sort(
        [*first, "similarity", "call_id"], descending=[*[True] * len(first), True, False]
    )
    # The same text twice is one example, not two ("Router blinker rødt." and "router blinker
    # rødt" included).
    key: str | None = next(
        (c for c in ("reason_text", "text_hash") if c in call_reasons.columns), None
    )
    if key is not None:
        if key == "reason_text":
            ranked = ranked.with_columns(example_key(pl.col("reason_text")).alias("_key"))
            key = "_key"
        ranked = ranked.unique(["week", "reason_id", key], keep="first", maintain_order=True)
    examples = ranked.group_by("week", "reason_id", maintain_order=True).agg(
        pl.col("call_id").head(settings.examples_per_reason).alias("example_call_ids")
    )
    totals = call_reasons.group_by("week").agg(pl.len().alias("total"))
    h = settings.history_weeks
    table = (
        grid.join(counts, on=["week", "reason_id"], how="left")
        .with_columns(pl.col("calls").fill_null(0).cast(pl.Int64))
        .sort("reason_id", "week_no")
        .with_columns(
            pl.col("calls")
            .shift(1)
            .rolling_mean(window_size=h, min_samples=2)
            .over("reason_id")
            .alias("baseline_calls")
        )
        .join(totals, on="week", how="left")
        .join(examples, on=["week", "reason_id"], how="left")
        .join(reasons.select("reason_id", "label"), on="reason_id", how="left")
    )
    rate = pl.max_horizontal(pl.col("baseline_calls"), pl.lit(_RATE_FLOOR))
    table = table.with_columns(
        (pl.col("calls") / pl.col("total")).alias("share"),
        (pl.col("calls") - pl.col("baseline_calls")).alias("change"),
        pl.when(pl.col("baseline_calls") > 0)
        .then((pl.col("calls") - pl.col("baseline_calls")) / pl.col("baseline_calls"))
        .otherwise(None)
        .alias("change_pct"),
        pl.struct(calls=pl.col("calls"), rate=rate, has=pl.col("baseline_calls").is_not_null())
        .map_elements(_poisson_p, return_dtype=pl.Float64)
        .alias("p_value"),
        pl.col("label").fill_null(UNEXPLAINED_LABEL),
        pl.col("example_call_ids").fill_null([]),
    )
    emerging = (
        (pl.col("reason_id") != UNEXPLAINED_ID)
        & pl.col("p_value").is_not_null()
        & (pl.col("p_value") < settings.emerging_p_value)
        & (pl.col("calls") >= settings.emerging_min_calls)
        & (pl.col("calls") >= settings.emerging_min_ratio * rate)
    )
    return (
        table.with_columns(emerging.fill_null(False).alias("is_emerging"))
        .filter((pl.col("calls") > 0) | pl.col("baseline_calls").is_not_null())
        .select(_COLUMNS)
        .sort(["week", "calls", "reason_id"], descending=[False, True, False])
    )


def _poisson_p(row: dict[str, float | bool]) -> float | None:
    if not row["has"]:
        return None
    return float(poisson.sf(int(row["calls"]) - 1, float(row["rate"])))


_COLUMNS = [
    "week",
    "reason_id",
    "label",
    "calls",
    "share",
    "baseline_calls",
    "change",
    "change_pct",
    "p_value",
    "is_emerging",
    "example_call_ids",
]


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "week": pl.String,
            "reason_id": pl.Int32,
            "label": pl.String,
            "calls": pl.Int64,
            "share": pl.Float64,
            "baseline_calls": pl.Float64,
            "change": pl.Float64,
            "change_pct": pl.Float64,
            "p_value": pl.Float64,
            "is_emerging": pl.Boolean,
            "example_call_ids": pl.List(pl.String),
        }
    )
