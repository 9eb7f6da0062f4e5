"""Weekly alerts: the contact reasons that rose, fell or are new, with false discoveries controlled.

Each week from the `min_history_weeks`-th on, every reason's calls are compared with its own
past `history_weeks` weeks. By default the count is tested against a negative binomial whose
mean is the past weeks' mean and whose dispersion is the reason's own week-to-week variance
(method of moments) shrunk toward the median dispersion of all reasons that week, widened for
the uncertainty of a mean taken from a few weeks. The p-values of one week are corrected with
Benjamini-Hochberg, separately for rises (with new reasons) and falls, and an alert also needs
a change large enough to act on. A reason whose past weeks were a trickle is `new` once it is
large enough. docs/alerts.md states the test, the alternatives, and the figures it was chosen by.

A surge can also spread over several closely related reasons (the clustering cut one topic into
pieces), none of which rises far enough alone. With the reasons' catalogue centres, each reason
and its mutual nearest reasons form a group; a group's summed calls are tested the same way, as
a family of their own, and alerted as `rising` when at least two of its reasons rose together
and none of them was alerted alone that week. The evidence names the group.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import polars as pl
from scipy.stats import nbinom
from scipy.stats import t as student_t

from contact_reasons.config import AlertSettings

AlertKind = Literal["new", "rising", "falling"]
UNEXPLAINED_ID = -1
#: The smallest weekly rate a count is tested against: a reason never seen has rate ~0.
_RATE_FLOOR = 0.5
#: Reasons averaging fewer calls than this say little about dispersion; the pool ignores them.
_POOL_MIN_MEAN = 3.0

ALERT_SCHEMA: dict[str, pl.DataType] = {
    "week": pl.String(),
    "reason_id": pl.Int32(),
    "label": pl.String(),
    "kind": pl.String(),
    "calls": pl.Int64(),
    "expected_calls": pl.Float64(),
    "history_weeks": pl.Int32(),
    "first_seen_week": pl.String(),
    "p_value": pl.Float64(),
    "q_value": pl.Float64(),
    "evidence": pl.String(),
}


def detect_alerts(
    weekly: pl.DataFrame, reasons: pl.DataFrame | None, settings: AlertSettings
) -> pl.DataFrame:
    """Find the reasons that are new, rising or falling in each week.

    Args:
        weekly: calls per week and reason: `week` (ISO `YYYY-Www`), `reason_id`, `calls`
            (for example `weekly_reason_stats`); a missing week-reason pair counts as 0.
        reasons: optional `reason_id` with `label` and, from a reason catalogue,
            `first_seen_week`; without that column a reason's first week is the first week
            it has calls.
        settings: history length, minimum history, FDR level and effect thresholds.

    Returns:
        One row per alert, columns as `ALERT_SCHEMA`, by week and then kind and q-value.
    """
    rows: list[dict[str, object]] = []
    if weekly.height == 0:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    weeks = sorted(weekly["week"].unique().to_list())
    counts = (
        weekly.filter(pl.col("reason_id") != UNEXPLAINED_ID)
        .group_by("reason_id", "week")
        .agg(pl.col("calls").sum())
        .pivot(on="week", index="reason_id", values="calls")
        .sort("reason_id")
    )
    if counts.height == 0:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    ids = counts["reason_id"].cast(pl.Int32).to_list()
    matrix = np.column_stack(
        [
            counts[w].fill_null(0).to_numpy() if w in counts.columns else np.zeros(len(ids))
            for w in weeks
        ]
    ).astype(float)
    labels, first_seen, catalogued = _reason_info(reasons, ids, weeks, matrix)
    alerted_new: set[int] = set()
    alerted = np.zeros(matrix.shape, dtype=bool)
    index = {rid: i for i, rid in enumerate(ids)}
    for t in range(settings.min_history_weeks, len(weeks)):
        found = _test_week(
            weeks, t, ids, matrix, alerted, labels, first_seen, catalogued, alerted_new, settings
        )
        for row in found:
            alerted[index[int(row["reason_id"])], t] = True  # type: ignore[call-overload]
        rows += found
    groups = related_groups(reasons, ids, settings.related_neighbours)
    if groups:
        rows += _group_alerts(weeks, ids, matrix, groups, labels, first_seen, rows, settings)
    if not rows:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    kind_order = {"new": 0, "rising": 1, "falling": 2}
    rows.sort(key=lambda r: (r["week"], kind_order[str(r["kind"])], r["q_value"], r["reason_id"]))
    return pl.DataFrame(rows, schema=ALERT_SCHEMA | {"window": pl.String()}).drop("window")


def related_groups(
    reasons: pl.DataFrame | None, ids: list[int], neighbours: int
) -> list[tuple[int, ...]]:
    """Groups of closely related reasons: each reason with its mutual nearest neighbours.

    Two reasons are related when each is among the other's `neighbours` nearest reasons by
    the cosine of their catalogue centres (`reasons.centre`). Mutual nearness needs no cosine
    level, so it holds for any embedding model and for any number of reasons. Returns the
    distinct groups of at least two reasons (sorted ids); none without centres.
    """
    if neighbours < 1 or reasons is None or "centre" not in reasons.columns:
        return []
    centres = {
        int(r["reason_id"]): r["centre"]
        for r in reasons.select("reason_id", "centre").iter_rows(named=True)
        if r["centre"] is not None and len(r["centre"]) > 0
    }
    known = [rid for rid in ids if rid in centres]
    if len(known) < 3:
        return []
    vectors = np.asarray([centres[rid] for rid in known], dtype=np.float64)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    k = min(neighbours, len(known) - 1)
    nearest = [set(row) for row in np.argsort(-sims, axis=1, kind="stable")[:, :k].tolist()]
    groups = set()
    for i in range(len(known)):
        members = {i} | {j for j in nearest[i] if i in nearest[j]}
        if len(members) > 1:
            groups.add(tuple(sorted(known[j] for j in members)))
    return sorted(groups)


def _group_alerts(
    weeks: list[str],
    ids: list[int],
    matrix: np.ndarray,
    groups: list[tuple[int, ...]],
    labels: dict[int, str],
    first_seen: dict[int, str | None],
    reason_alerts: list[dict[str, object]],
    s: AlertSettings,
) -> list[dict[str, object]]:
    """Rising alerts on groups of related reasons whose calls rose together.

    Each group's summed weekly calls are tested like a reason's (its own history and
    dispersion), Benjamini-Hochberg over the groups of the week as a family of their own. A
    group is alerted when it passes, is large enough, at least two of its reasons rose by
    `min_ratio` (the siblings surged together: one reason's surge is that reason's alert) and
    none of its reasons has a new or rising alert that week; of overlapping groups the one with
    the smallest q is kept. The alert is filed under the reason with the largest excess and
    names every member in its evidence.
    """
    index = {rid: i for i, rid in enumerate(ids)}
    members = [[index[rid] for rid in g] for g in groups]
    sums = np.stack([matrix[m].sum(axis=0) for m in members])
    never = np.zeros(sums.shape, dtype=bool)
    alone = {(str(r["week"]), int(r["reason_id"])) for r in reason_alerts if r["kind"] != "falling"}  # type: ignore[call-overload]
    out: list[dict[str, object]] = []
    for t in range(s.min_history_weeks, len(weeks)):
        mean, alpha, n = _baseline(sums, never, t, s)
        own_mean, _, _ = _baseline(matrix, np.zeros(matrix.shape, dtype=bool), t, s)
        tests = []
        for g in range(len(members)):
            if n[g] < s.min_history_weeks:
                continue
            y, mu = int(sums[g, t]), float(mean[g])
            p = _p_above(y, max(mu, _RATE_FLOOR), float(alpha[g]), int(n[g]), 1, _df(int(n[g]), s))
            tests.append((g, y, mu, int(n[g]), p))
        q_values = benjamini_hochberg([x[4] for x in tests])
        taken: set[int] = set()
        for (g, y, mu, n_g, p), q in sorted(zip(tests, q_values, strict=True), key=lambda x: x[1]):
            rows = members[g]
            rose = [i for i in rows if matrix[i, t] >= s.min_ratio * max(own_mean[i], _RATE_FLOOR)]
            test = _test(weeks[t], ids[rows[0]], "rising", y, mu, n_g, None, p, labels, None)
            if (
                q > s.fdr
                or not _large_enough(test, s)
                or len(rose) < 2
                or any((weeks[t], ids[i]) in alone for i in rows)
                or taken & set(rows)
            ):
                continue
            taken |= set(rows)
            lead = max(rows, key=lambda i: (matrix[i, t] - own_mean[i], -ids[i]))
            rid = ids[lead]
            test |= {"reason_id": rid, "label": labels[rid], "first_seen_week": first_seen[rid]}
            test["q_value"] = q
            parts = ", ".join(
                f"{labels[ids[i]]} {int(matrix[i, t])} vs {own_mean[i]:.1f}" for i in rows
            )
            test["window"] = f"together with related reasons ({len(rows)}: {parts})"
            test["evidence"] = _evidence(test)
            out.append(test)
    return out


def _reason_info(
    reasons: pl.DataFrame | None, ids: list[int], weeks: list[str], matrix: np.ndarray
) -> tuple[dict[int, str], dict[int, str | None], set[int]]:
    labels: dict[int, str] = {}
    catalogued: set[int] = set()
    first_seen: dict[int, str | None] = {}
    for i, rid in enumerate(ids):
        seen = np.flatnonzero(matrix[i] > 0)
        first_seen[rid] = weeks[seen[0]] if seen.size else None
        labels[rid] = f"reason {rid}"
    if reasons is not None and "reason_id" in reasons.columns:
        for r in reasons.iter_rows(named=True):
            rid = int(r["reason_id"])
            if rid not in labels:
                continue
            if r.get("label"):
                labels[rid] = str(r["label"])
            if r.get("first_seen_week"):
                first_seen[rid] = str(r["first_seen_week"])
                catalogued.add(rid)
    return labels, first_seen, catalogued


def _baseline(
    matrix: np.ndarray, alerted: np.ndarray, end: int, s: AlertSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per reason: mean, shrunk dispersion and weeks of the history before week `end`."""
    start = max(0, end - s.history_weeks)
    history = matrix[:, start:end].copy()
    if s.exclude_alerted_weeks:
        # A week already alerted is not what the reason is expected to do (as Farrington's
        # outbreak detection leaves past outbreaks out of the baseline).
        history[alerted[:, start:end]] = np.nan
    n = (~np.isnan(history)).sum(axis=1)
    safe = np.where(np.isnan(history), 0.0, history)
    mean = safe.sum(axis=1) / np.maximum(n, 1)
    squares = np.where(np.isnan(history), 0.0, (history - mean[:, None]) ** 2).sum(axis=1)
    var = np.where(n > 1, squares / np.maximum(n - 1, 1), 0.0)
    own = np.where(mean > 0, np.maximum(0.0, (var - mean) / np.maximum(mean, 1e-9) ** 2), 0.0)
    pool_rows = (mean >= _POOL_MIN_MEAN) & (n > 1)
    pooled = float(np.median(own[pool_rows])) if pool_rows.any() else 0.0
    weight = np.where(n > 1, (n - 1) / np.maximum((n - 1) + s.dispersion_prior_weeks, 1e-9), 0.0)
    if s.model == "poisson":
        return mean, np.zeros_like(mean), n
    if s.model == "moderated_t":
        # Empirical-Bayes variance (Smyth's moderated t): the reason's own sample variance
        # and the pooled negative-binomial variance, weighted by their degrees of freedom.
        prior_var = mean + pooled * mean * mean
        d0 = s.dispersion_prior_weeks
        df = (n - 1) + d0
        post = ((n - 1) * var + d0 * prior_var) / np.maximum(df, 1e-9)
        post = np.maximum(post, mean)  # never less variable than Poisson
        return mean, np.where(mean > 0, (post - mean) / np.maximum(mean, 1e-9) ** 2, 0.0), n
    return mean, weight * own + (1 - weight) * pooled, n


def _test_week(
    weeks: list[str],
    t: int,
    ids: list[int],
    matrix: np.ndarray,
    alerted: np.ndarray,
    labels: dict[int, str],
    first_seen: dict[int, str | None],
    catalogued: set[int],
    alerted_new: set[int],
    s: AlertSettings,
) -> list[dict[str, object]]:
    # Window 1 is this week against the weeks before it; window 2 is this week and the one
    # before against the weeks before both, which catches a step change (an FAQ page that
    # works) that one week alone cannot tell from noise. A reason's p is the better of the
    # two, Bonferroni-corrected for the choice.
    windows = []
    for k in (1, 2) if s.two_week_window else (1,):
        w_mean, w_alpha, w_n = _baseline(matrix, alerted, t - k + 1, s)
        windows.append((k, w_mean, w_alpha, w_n, matrix[:, t - k + 1 : t + 1].sum(axis=1)))
    _, mean, alpha, n_all, _ = windows[0]
    start = max(0, t - s.history_weeks)
    week = weeks[t]
    up: list[dict[str, object]] = []
    down: list[dict[str, object]] = []
    for i, rid in enumerate(ids):
        n = int(n_all[i])
        if n < s.min_history_weeks:
            continue
        usable = [w for w in windows if w[3][i] >= s.min_history_weeks]
        y = int(matrix[i, t])
        mu = float(mean[i])
        seen = first_seen[rid]
        # New: first seen within the history (after the data began), or, without a catalogue
        # that knows it from before, a trickle until now.
        recent = seen is not None and seen >= weeks[start] and seen > weeks[0]
        trickle = mu <= s.new_max_history_calls and (rid not in catalogued or recent)
        if rid not in alerted_new and (recent or trickle):
            # A reason still at a trickle is only ever alerted as new, once it is large enough.
            if y >= s.new_min_calls:
                p = _p_above(y, max(mu, _RATE_FLOOR), float(alpha[i]), n, 1)
                up.append(_test(week, rid, "new", y, mu, n, seen, p, labels, None))
            continue
        if mu <= 0 and y == 0:
            continue
        p, w = _best_window(_p_above, usable, i, _RATE_FLOOR, s)
        up.append(
            _test(week, rid, "rising", y, mu, n, seen, p, labels, _window_note(weeks, t, w, i))
        )
        # Only a reason that could fall far enough to alert is tested for falling; the filter
        # reads the history alone, so it leaves the test valid (independent filtering).
        if mu >= s.min_calls:
            p, w = _best_window(_p_below, usable, i, 0.0, s)
            down.append(
                _test(week, rid, "falling", y, mu, n, seen, p, labels, _window_note(weeks, t, w, i))
            )
    found = []
    for family in (up, down):
        q = benjamini_hochberg([float(x["p_value"]) for x in family])  # type: ignore[arg-type]
        for test, q_value in zip(family, q, strict=True):
            test["q_value"] = q_value
            if q_value > s.fdr or not _large_enough(test, s):
                continue
            if test["kind"] == "new":
                alerted_new.add(int(test["reason_id"]))  # type: ignore[call-overload]
            test["evidence"] = _evidence(test)
            found.append(test)
    return found


_Window = tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _best_window(
    p_of: Callable[..., float], usable: list[_Window], i: int, rate_floor: float, s: AlertSettings
) -> tuple[float, _Window]:
    """Reason `i`'s p over the usable windows: the best one, Bonferroni-corrected for the choice."""
    tried = [
        (
            p_of(
                int(w[4][i]),
                max(float(w[1][i]), rate_floor),
                float(w[2][i]),
                int(w[3][i]),
                w[0],
                _df(int(w[3][i]), s),
            ),
            w,
        )
        for w in usable
    ]
    best, window = min(tried, key=lambda x: x[0])
    return min(1.0, best * len(usable)), window


def _df(n: int, s: AlertSettings) -> float | None:
    """Degrees of freedom of the moderated t (None: the negative binomial or Poisson)."""
    return n - 1 + s.dispersion_prior_weeks if s.model == "moderated_t" else None


def _window_note(weeks: list[str], t: int, w: _Window, i: int) -> str | None:
    k = w[0]
    if k == 1:
        return None
    span = f"{weeks[t - k + 1].split('-')[-1]}-{weeks[t].split('-')[-1]}"
    return f"{span}: {int(w[4][i])} calls against {k * float(w[1][i]):.1f} expected"


def _test(
    week: str,
    rid: int,
    kind: AlertKind,
    calls: int,
    expected: float,
    n: int,
    seen: str | None,
    p: float,
    labels: dict[int, str],
    window: str | None,
) -> dict[str, object]:
    return {
        "week": week,
        "reason_id": rid,
        "label": labels[rid],
        "kind": kind,
        "calls": calls,
        "expected_calls": round(expected, 2),
        "history_weeks": n,
        "first_seen_week": seen,
        "p_value": p,
        "q_value": None,
        "evidence": "",
        "window": window,
    }


def _large_enough(test: dict[str, object], s: AlertSettings) -> bool:
    calls = float(test["calls"])  # type: ignore[arg-type]
    expected = float(test["expected_calls"])  # type: ignore[arg-type]
    if test["kind"] == "new":
        return calls >= s.new_min_calls
    if test["kind"] == "rising":
        return calls >= s.min_calls and calls >= s.min_ratio * max(expected, _RATE_FLOOR)
    return expected >= s.min_calls and calls * s.min_ratio <= expected


def _nb(mu: float, alpha: float, n: int, k: int) -> tuple[float, float]:
    """Negative binomial (size, p) for the sum of `k` new weeks of a reason with weekly mean `mu`.

    A week's variance is mu + alpha * mu^2 (weeks independent); the mean itself is estimated
    from `n` weeks, which adds k^2 times that variance over n: the predictive variance.
    """
    week_var = mu + alpha * mu * mu
    mean = k * mu
    variance = week_var * k * (1 + k / n)
    excess = max((variance - mean) / (mean * mean), 1e-9)
    size = 1 / excess
    return size, size / (size + mean)


def _p_above(y: int, mu: float, alpha: float, n: int, k: int, df: float | None = None) -> float:
    if df is not None:
        sd = math.sqrt((mu + alpha * mu * mu) * k * (1 + k / n))
        return float(student_t.sf((y - 0.5 - k * mu) / sd, df))
    size, prob = _nb(mu, alpha, n, k)
    return float(nbinom.sf(y - 1, size, prob))


def _p_below(y: int, mu: float, alpha: float, n: int, k: int, df: float | None = None) -> float:
    if df is not None:
        sd = math.sqrt((mu + alpha * mu * mu) * k * (1 + k / n))
        return float(student_t.cdf((y + 0.5 - k * mu) / sd, df))
    size, prob = _nb(mu, alpha, n, k)
    return float(nbinom.cdf(y, size, prob))


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Return Benjamini-Hochberg adjusted p-values (q-values), in the input order."""
    m = len(p_values)
    if m == 0:
        return []
    order = np.argsort(p_values, kind="stable")
    ranked = np.asarray(p_values, dtype=float)[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return [float(x) for x in out]


def _evidence(test: dict[str, object]) -> str:
    calls = int(test["calls"])  # type: ignore[call-overload]
    expected = float(test["expected_calls"])  # type: ignore[arg-type]
    n = int(test["history_weeks"])  # type: ignore[call-overload]
    parts = [f"{calls} calls against {expected:.1f} expected"]
    if test["kind"] == "falling" and expected > 0:
        parts[0] += f" ({(calls - expected) / expected:+.0%})"
    elif test["kind"] == "rising" and expected > 0:
        parts[0] += f" (x{calls / expected:.1f})"
    parts.append(f"{n} week{'s' if n != 1 else ''} of history")
    if test.get("window"):
        parts.append(str(test["window"]))
    seen = test["first_seen_week"]
    if seen:
        parts.append(f"first seen {str(seen).split('-')[-1]}")
    parts.append(f"q={_fmt_p(float(test['q_value']))}")  # type: ignore[arg-type]
    return "; ".join(parts)


def _fmt_p(p: float) -> str:
    if p <= 0:
        return "0"
    return f"{p:.1g}" if p >= 1e-3 else f"1e{math.floor(math.log10(p))}"


def flag_emerging(weekly_stats: pl.DataFrame, alerts: pl.DataFrame) -> pl.DataFrame:
    """Return `weekly_stats` with `is_emerging` true exactly where a new or rising alert is."""
    up = alerts.filter(pl.col("kind").is_in(["new", "rising"])).select(
        "week",
        pl.col("reason_id").cast(weekly_stats.schema["reason_id"]),
        pl.lit(True).alias("_up"),
    )
    return (
        weekly_stats.join(up, on=["week", "reason_id"], how="left")
        .with_columns(pl.col("_up").fill_null(False).alias("is_emerging"))
        .drop("_up")
    )


def markdown(alerts: pl.DataFrame, week: str | None = None) -> str:
    """The alerts of `week` (default: the latest week with statistics) as Markdown."""
    if week is not None:
        alerts = alerts.filter(pl.col("week") == week)
    title = f"# Alerts, week {week}" if week else "# Alerts"
    if alerts.height == 0:
        return f"{title}\n\nNo reason rose, fell or appeared beyond chance this week."
    lines = [
        title,
        "",
        "| kind | reason | calls | expected | q | evidence |",
        "|---|---|---|---|---|---|",
    ]
    for r in alerts.iter_rows(named=True):
        label = _md(str(r["label"]))
        lines.append(
            f"| {r['kind']} | {label} | {r['calls']} | {r['expected_calls']:.1f} | "
            f"{_fmt_p(float(r['q_value']))} | {_md(str(r['evidence']))} |"
        )
    return "\n".join(lines)


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
