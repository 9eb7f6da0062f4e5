"""The reason catalogue: reasons that keep their id week after week, and what people decide.

A reason's id is given once and never reused; its row is never deleted. The first run on an
empty catalogue discovers reasons over the window (`refit_catalogue` with nothing to align to).
After that a weekly run is an update (`update_catalogue`): new calls join the nearest reason
whose centre they are close enough to, in the space the clusterer works in (`ReasonSpace`,
stored with the catalogue); calls that fit none wait among the unexplained, and when enough of
them cluster together they become a new reason. A refit re-discovers reasons over the window and
aligns them to the catalogue, first by shared calls, then by centre similarity, so ids, human
names, merges and ignores survive. People curate the catalogue with decisions (`rename`,
`merge`, `split`, `set_status`, `undo`); each is an event with its before and after, so it can
be undone, and runs respect it: runs never touch a human name or a decided status.

Everything here is frames and arrays in, frames and events out; `storage` writes them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from contact_reasons.cluster import (
    MIN_TEXTS,
    UNEXPLAINED,
    ReasonDiscovery,
    ReasonSpace,
    TransformedRows,
    centroids,
)
from contact_reasons.config import CatalogueSettings
from contact_reasons.errors import InputError
from contact_reasons.stats import iso_week_of

if TYPE_CHECKING:
    from contact_reasons.naming import NameRule

Status = Literal["active", "merged", "ignored", "not_faq", "inactive"]
STATUSES: tuple[str, ...] = ("active", "merged", "ignored", "not_faq", "inactive")
#: Statuses a person sets; a run never changes them.
DECIDED: tuple[str, ...] = ("merged", "ignored", "not_faq")
#: Decisions `undo` reverts (run events such as `created` are not decisions).
DECISIONS: tuple[str, ...] = ("rename", "merge", "split", "ignore", "not_faq", "restore")

CATALOGUE_SCHEMA: dict[str, Any] = {
    "reason_id": pl.Int32,
    "reason_model_id": pl.String,
    "label": pl.String,
    "keywords": pl.List(pl.String),
    "language": pl.String,
    "calls": pl.Int64,
    "example_call_ids": pl.List(pl.String),
    "generated_name": pl.String,
    "name": pl.String,
    "status": pl.String,
    "merged_into": pl.Int32,
    "split_into": pl.List(pl.Int32),
    "first_week": pl.String,
    "last_week": pl.String,
    "centre": pl.List(pl.Float32),
    "examples_by_language": pl.String,
    "created_at": pl.Datetime("us"),
}
EXAMPLES = 5
EXAMPLES_PER_LANGUAGE = 3


class CatalogueError(InputError):
    """A decision that cannot be made: unknown id, merging a reason into itself, and so on."""


@dataclass(frozen=True)
class CatalogueSpace:
    """The catalogue's space: the fitted means, the assignment threshold, the models behind it."""

    reason_model_id: str
    embedding_model_id: str
    threshold: float
    space: ReasonSpace

    def row(self, created_at: datetime) -> dict[str, Any]:
        """The `catalogue_space` row."""
        s = self.space
        return {
            "reason_model_id": self.reason_model_id,
            "created_at": created_at,
            "embedding_model_id": self.embedding_model_id,
            "threshold": float(self.threshold),
            "overall_mean": s.overall_mean.astype(np.float32).tolist(),
            "centre_mean": None if s.centre_mean is None else s.centre_mean.tolist(),
            "language_means": json.dumps(
                {k: v.astype(np.float32).tolist() for k, v in s.language_means.items()}
            ),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CatalogueSpace:
        """Rebuild from a `catalogue_space` row."""
        means = {k: np.asarray(v, np.float32) for k, v in json.loads(row["language_means"]).items()}
        centre = row["centre_mean"]
        space = ReasonSpace(
            means,
            np.asarray(row["overall_mean"], np.float32),
            None if centre is None else np.asarray(centre, np.float32),
        )
        return cls(row["reason_model_id"], row["embedding_model_id"], row["threshold"], space)


@dataclass(frozen=True)
class CatalogueChange:
    """What a run does to the catalogue.

    Attributes:
        catalogue: the whole catalogue after the run (every row, old and new).
        call_reasons: the window's calls with their current reason: `call_id`, `week`,
            `reason_id`, `similarity`, `reason_model_id`, `answered`.
        events: new event rows (without `event_id`).
        space: the new space after a refit; None when the stored one stays.
        new_reason_ids: reasons this run created.
        novel_calls: new calls an update found novel (`novel_calls`) and offered to the
            new-reason clustering whatever their reason's similarity.
    """

    catalogue: pl.DataFrame
    call_reasons: pl.DataFrame
    events: list[dict[str, Any]]
    space: CatalogueSpace | None
    new_reason_ids: list[int] = field(default_factory=list)
    novel_calls: int = 0


def empty_catalogue() -> pl.DataFrame:
    """A catalogue with no reasons."""
    return pl.DataFrame(schema=CATALOGUE_SCHEMA)


def no_assignments() -> pl.DataFrame:
    """Stored assignments (`current` of `update_catalogue`, `refit_catalogue`) before any run."""
    return pl.DataFrame(
        schema={
            "call_id": pl.String,
            "reason_id": pl.Int32,
            "similarity": pl.Float64,
            "reason_model_id": pl.String,
        }
    )


def next_reason_id(catalogue: pl.DataFrame) -> int:
    """The next unused id: ids are never reused, and rows are never deleted."""
    if catalogue.height == 0:
        return 1
    return int(catalogue["reason_id"].cast(pl.Int64).max() or 0) + 1  # type: ignore[arg-type]


def resolve_ids(catalogue: pl.DataFrame) -> dict[int, int]:
    """Map every reason id to the reason its calls count under (merged: the one it joined)."""
    merged = {
        int(r): int(m)
        for r, m, s in zip(
            catalogue["reason_id"], catalogue["merged_into"], catalogue["status"], strict=True
        )
        if s == "merged" and m is not None
    }
    out: dict[int, int] = {}
    for rid in catalogue["reason_id"].to_list():
        seen = {rid}
        target = rid
        while target in merged and merged[target] not in seen:
            target = merged[target]
            seen.add(target)
        out[int(rid)] = int(target)
    return out


def _is_split(row: dict[str, Any]) -> bool:
    return bool(row.get("split_into"))


def catalogue_centres(catalogue: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Ids and unit centres of the reasons a call can join (a split reason's calls went on)."""
    rows = [r for r in catalogue.iter_rows(named=True) if r["centre"] and not _is_split(r)]
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    cents = np.asarray([r["centre"] for r in rows], dtype=np.float32)
    return np.asarray([r["reason_id"] for r in rows], np.int64), cents


def assign_calls(
    prepared: np.ndarray, catalogue: pl.DataFrame, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest reason for each prepared vector, or -1 below `threshold`; merges resolved.

    Returns the reason ids and each call's cosine to the chosen centre (to the nearest one
    for unexplained calls).
    """
    ids, cents = catalogue_centres(catalogue)
    n = prepared.shape[0]
    if ids.size == 0 or n == 0:
        return np.full(n, UNEXPLAINED, np.int64), np.zeros(n)
    sims = prepared @ cents.T
    best = np.argmax(sims, axis=1)
    top = sims[np.arange(n), best].astype(np.float64)
    resolve = resolve_ids(catalogue)
    labels = np.asarray([resolve.get(int(ids[b]), int(ids[b])) for b in best], np.int64)
    labels[top < threshold] = UNEXPLAINED
    return labels, top


Centres = tuple[np.ndarray, np.ndarray]
"""Reason ids and their unit centres, as `centroids` returns them."""


def own_cosines(
    prepared: np.ndarray, labels: np.ndarray, centres: Centres | None = None
) -> np.ndarray:
    """The labelled calls' cosines to their own reason's centre.

    `centres`: `centroids(prepared, labels)` when the caller already has it.
    """
    ids, cents = centres if centres is not None else centroids(prepared, labels)
    mask = labels != UNEXPLAINED
    index = np.searchsorted(ids, labels[mask])
    return np.einsum("ij,ij->i", prepared[mask], cents[index])


def own_threshold(
    prepared: np.ndarray, labels: np.ndarray, quantile: float, centres: Centres | None = None
) -> float:
    """The `quantile` of the labelled calls' cosines to their own reason's centre."""
    own = own_cosines(prepared, labels, centres)
    return float(np.quantile(own, quantile)) if own.size else 1.0


def own_spread(prepared: np.ndarray, labels: np.ndarray, centres: Centres | None = None) -> float:
    """The interquartile range of the labelled calls' cosines to their own reason's centre."""
    own = own_cosines(prepared, labels, centres)
    if not own.size:
        return 0.0
    q1, q3 = np.quantile(own, [0.25, 0.75])
    return float(q3 - q1)


def weeks_before(week: str, n: int) -> str:
    """The ISO week `n` weeks before `week` ("2026-W02", 3 -> "2025-W51")."""
    year, number = week.split("-W")
    return iso_week_of(date.fromisocalendar(int(year), int(number), 1) - timedelta(weeks=n))


#: Cells of one chunk of the novelty test's similarity matrix (float32: 64 MiB).
NOVELTY_CHUNK_CELLS = 1 << 24


def novel_calls(
    prepared: np.ndarray | TransformedRows,
    weeks: Sequence[str],
    new_idx: np.ndarray,
    settings: CatalogueSettings,
) -> np.ndarray:
    """The new calls that look like the recent weeks and unlike the established past.

    Recent calls are the run's new calls and the window's calls of its latest
    `novelty_recent_weeks` weeks; the rest of the window is established. Each new call's
    `novelty_neighbours` nearest calls (cosine in the catalogue's space, itself left out) are
    counted: under "nothing new" each neighbour is recent with the recent share of the
    comparison set, so the count is binomial; a count whose upper tail is at most
    `novelty_alpha` means calls like this one are clearly more frequent now than before: a
    reason is emerging, or rising far above its past. The comparison set is every new call and
    a seeded sample of at most `novelty_reference_calls` other window calls; neighbours tied at
    the k-th similarity are shared (`recent_neighbours`, `recent_tail`).

    Args:
        prepared: the window's vectors in the catalogue's space (unit length).
        weeks: each window row's ISO week.
        new_idx: the rows of the new calls.
        settings: the novelty settings.

    Returns:
        The rows (a subset of `new_idx`, sorted) of the novel calls; empty when the test is
        off, or there are fewer established calls than neighbours.
    """
    k = settings.novelty_neighbours
    if settings.novelty_alpha <= 0 or new_idx.size == 0:
        return np.zeros(0, np.int64)
    week = np.asarray(weeks, dtype=object)
    cutoff = weeks_before(str(max(week)), settings.novelty_recent_weeks - 1)
    is_new = np.zeros(len(week), bool)
    is_new[new_idx] = True
    others = np.flatnonzero(~is_new)
    if others.size > settings.novelty_reference_calls:
        rng = np.random.default_rng(settings.novelty_seed)
        others = np.sort(rng.choice(others, settings.novelty_reference_calls, replace=False))
    reference = np.concatenate([new_idx, others])
    recent = is_new[reference] | (week[reference] >= cutoff)
    established = int((~recent).sum())
    if established < k or reference.size <= k:
        return np.zeros(0, np.int64)
    # Leaving the call itself out: the chance that another call is recent.
    p_recent = (float(recent.sum()) - 1.0) / (reference.size - 1.0)
    vectors = prepared[reference].astype(np.float32)
    counts = recent_neighbours(vectors, recent, new_idx.size, k)
    return np.sort(new_idx[recent_tail(counts, k, p_recent) <= settings.novelty_alpha])


def recent_neighbours(vectors: np.ndarray, recent: np.ndarray, rows: int, k: int) -> np.ndarray:
    """How many of each of the first `rows` vectors' `k` nearest others are recent.

    Cosine over unit `vectors` (the call itself left out), in chunks of `NOVELTY_CHUNK_CELLS`.
    Calls with the same text have the same similarity, so the k-th nearest is often one of a
    tie (half the new calls of a generated week). A tie is shared, not cut: the calls above
    the k-th similarity count whole, and the tied ones fill the remaining places at the recent
    share among them, the expected count when the tie is broken at random. Without a tie it is
    the plain count. (Cutting ties with `argpartition` made the count depend on its internal
    order, and took seconds: a partition with many equal values is slow.)
    """
    weight = np.asarray(recent, dtype=np.float32)
    counts = np.zeros(rows, np.float64)
    step = max(1, NOVELTY_CHUNK_CELLS // max(vectors.shape[0], 1))
    for start in range(0, rows, step):
        stop = min(start + step, rows)
        sims = vectors[start:stop] @ vectors.T
        sims[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        kth = np.partition(sims, -k, axis=1)[:, -k][:, None]
        above = sims > kth
        tied = sims == kth
        free = k - above.sum(axis=1)
        counts[start:stop] = above @ weight + free * (tied @ weight) / tied.sum(axis=1)
    return counts


def recent_tail(counts: np.ndarray, k: int, p_recent: float) -> np.ndarray:
    """P(X >= count) for X ~ Binomial(k, p_recent), continued to fractional counts.

    The regularized incomplete beta function I_p(c, k - c + 1) equals the binomial tail at
    every whole count c (`scipy.stats.binom.sf(c - 1, k, p)`) and runs smoothly between them,
    so a shared tie moves the p-value by its share, not by a whole neighbour.
    """
    from scipy.special import betainc

    counts = np.asarray(counts, dtype=np.float64)
    positive = np.maximum(counts, 1e-12)
    tail = betainc(positive, k - positive + 1.0, p_recent)
    return np.where(counts > 0, tail, 1.0)


def _new_row(
    rid: int,
    reason: dict[str, Any],
    centre: np.ndarray,
    model_id: str,
    now: datetime,
) -> dict[str, Any]:
    label = str(reason.get("label") or f"reason {rid}")
    return {
        "reason_id": rid,
        "reason_model_id": model_id,
        "label": label,
        "keywords": list(reason.get("keywords") or []),
        "language": None,
        "calls": 0,
        "example_call_ids": [],
        "generated_name": label,
        "name": None,
        "status": "active",
        "merged_into": None,
        "split_into": None,
        "first_week": None,
        "last_week": None,
        "centre": centre.astype(np.float32).tolist(),
        "examples_by_language": "{}",
        "created_at": now,
    }


def _event(
    action: str,
    reason_ids: Sequence[int],
    *,
    by: str,
    at: datetime,
    run_id: str | None = None,
    before: Any = None,
    after: Any = None,
) -> dict[str, Any]:
    return {
        "occurred_at": at,
        "who": by,
        "action": action,
        "reason_ids": [int(r) for r in reason_ids],
        "run_id": run_id,
        "before": None if before is None else json.dumps(before, ensure_ascii=False, default=str),
        "after": None if after is None else json.dumps(after, ensure_ascii=False, default=str),
    }


def _call_reasons(
    window: pl.DataFrame, labels: np.ndarray, sims: np.ndarray, models: Sequence[str]
) -> pl.DataFrame:
    from contact_reasons.weekly import answered_mask

    return pl.DataFrame(
        {
            "call_id": window["call_id"],
            "week": window["week"],
            "reason_id": pl.Series(labels, dtype=pl.Int32),
            "similarity": pl.Series(sims, dtype=pl.Float64),
            "reason_model_id": pl.Series(list(models), dtype=pl.String),
            "answered": answered_mask(window),
        }
    )


def changed_assignments(call_reasons: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """The rows of `call_reasons` that `stored` (`call_reasons` rows as stored) lacks or differs in.

    An update leaves most of the window's calls as they were; writing only the others keeps
    its write to what the week changed (a new call, an unexplained call that joined a new
    reason, a call of a merged reason now under its target), not the whole window's.
    """
    if stored.height == 0 or call_reasons.height == 0:
        return call_reasons
    keys = ("reason_id", "similarity", "reason_model_id")
    before = stored.select(
        "call_id", *(pl.col(k).cast(call_reasons.schema[k]).alias(f"{k}_stored") for k in keys)
    )
    joined = call_reasons.join(before, on="call_id", how="left")
    differs = pl.any_horizontal(pl.col(k).ne_missing(pl.col(f"{k}_stored")) for k in keys)
    return joined.filter(differs).select(call_reasons.columns)


def with_generated_names(catalogue: pl.DataFrame, names: Mapping[int, str]) -> pl.DataFrame:
    """The catalogue with the reasons of `names` given these generated names.

    A human name stays the label (`label` is the human name, else the generated one).
    """
    if not names:
        return catalogue
    generated = [
        names.get(int(r), g)
        for r, g in zip(catalogue["reason_id"], catalogue["generated_name"], strict=True)
    ]
    out = catalogue.with_columns(pl.Series("generated_name", generated, dtype=pl.String))
    return out.with_columns(pl.coalesce("name", "generated_name").alias("label"))


def describe(
    catalogue: pl.DataFrame, window: pl.DataFrame, call_reasons: pl.DataFrame
) -> pl.DataFrame:
    """Refresh what the window says about each reason: calls, weeks seen, examples, language.

    `calls` is the window's count here; storage recounts it over all stored assignments.
    Reasons without calls in the window keep their weeks and examples. The display `label` is
    the human name where there is one.
    """
    extra = [c for c in ("detected_language", "text_hash") if c in window.columns]
    info = call_reasons.join(window.select("call_id", *extra), on="call_id", how="left").filter(
        pl.col("reason_id") != UNEXPLAINED
    )
    ordered = info.sort(["answered", "similarity", "call_id"], descending=[True, True, False])
    # The same text written for many calls is one example, not several.
    distinct = (
        ordered.unique(["reason_id", "text_hash"], keep="first", maintain_order=True)
        if "text_hash" in info.columns
        else ordered
    )
    examples = distinct.group_by("reason_id", maintain_order=True).agg(
        pl.col("call_id").head(EXAMPLES).alias("examples")
    )
    summary = {
        int(r["reason_id"]): r
        for r in ordered.group_by("reason_id", maintain_order=True)
        .agg(
            pl.len().alias("n"),
            pl.col("week").min().alias("wmin"),
            pl.col("week").max().alias("wmax"),
            pl.col("detected_language").alias("langs"),
            pl.col("call_id").alias("ids"),
        )
        .join(examples, on="reason_id", how="left")
        .iter_rows(named=True)
    }
    rows = []
    for row in catalogue.iter_rows(named=True):
        row = dict(row)
        s = summary.get(int(row["reason_id"]))
        if s is None:
            row["calls"] = 0
        else:
            row["calls"] = int(s["n"])
            row["first_week"] = min(w for w in (row["first_week"], s["wmin"]) if w)
            row["last_week"] = max(w for w in (row["last_week"], s["wmax"]) if w)
            row["example_call_ids"] = list(s["examples"])
            langs = Counter(lang for lang in s["langs"] if lang)
            row["language"] = langs.most_common(1)[0][0] if langs else None
            per_lang: dict[str, list[str]] = {}
            for cid, lang in zip(s["ids"], s["langs"], strict=True):
                bucket = per_lang.setdefault(lang or "", [])
                if len(bucket) < EXAMPLES_PER_LANGUAGE:
                    bucket.append(cid)
            row["examples_by_language"] = json.dumps(per_lang, sort_keys=True)
        row["label"] = row["name"] or row["generated_name"]
        rows.append(row)
    return pl.DataFrame(rows, schema=CATALOGUE_SCHEMA).sort("reason_id")


def _reactivate(
    catalogue: pl.DataFrame, labels: np.ndarray, *, by: str, at: datetime, run_id: str
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Inactive reasons (not split) that have calls again become active."""
    present = {int(x) for x in np.unique(labels)}
    back = [
        int(r["reason_id"])
        for r in catalogue.iter_rows(named=True)
        if r["status"] == "inactive" and not _is_split(r) and int(r["reason_id"]) in present
    ]
    if not back:
        return catalogue, []
    catalogue = catalogue.with_columns(
        pl.when(pl.col("reason_id").is_in(back))
        .then(pl.lit("active"))
        .otherwise(pl.col("status"))
        .alias("status")
    )
    event = _event(
        "reactivated",
        back,
        by=by,
        at=at,
        run_id=run_id,
        before={"status": "inactive"},
        after={"status": "active"},
    )
    return catalogue, [event]


def update_catalogue(
    window: pl.DataFrame,
    vectors: np.ndarray,
    current: pl.DataFrame,
    catalogue: pl.DataFrame,
    space: CatalogueSpace,
    settings: CatalogueSettings,
    *,
    discover: Callable[[np.ndarray], ReasonDiscovery] | None,
    run_id: str,
    now: datetime,
    assign: Callable[[np.ndarray, pl.DataFrame, float], tuple[np.ndarray, np.ndarray]]
    | None = None,
    name_rule: NameRule | None = None,
    coded: Mapping[int, int] | None = None,
) -> CatalogueChange:
    """A weekly update: assign the window's unassigned calls, and add reasons that are new.

    Args:
        window: the calls of the window (`calls` columns), rows aligned with `vectors`.
        vectors: their embeddings.
        current: stored assignments (`call_id`, `reason_id`, `similarity`, `reason_model_id`)
            of window calls; calls without one are assigned here.
        catalogue: the catalogue before the run.
        space: the stored catalogue space.
        settings: thresholds for joining and for new reasons.
        discover: clusters the window rows at the given indices (the unexplained calls); None:
            `cluster_pool` in the catalogue's space (no UMAP, no embedding: the update's cost
            then follows the new calls, not the history).
        run_id: this run, for the events.
        now: when, for the events and new rows.
        assign: how new calls are assigned (default `assign_calls`; the pipeline may hand a
            version that runs in batches elsewhere, with the same result).
        name_rule: how `cluster_pool` names new reasons (the settings' `NameRule`); None: the
            rule's defaults.
        coded: window row -> reason id for calls whose wrap-up code names a reason
            (`catalogue_seeds.coded_assignments`); an unassigned one joins that reason.

    Returns:
        The change. Calls already assigned keep their reason (merged reasons resolved); new
        calls below the threshold of every reason are unexplained, and the unexplained calls
        of the window are clustered among themselves when new ones joined them: a cluster
        with at least `new_reason_min_calls` calls close to its centre, and not too close to
        a reason there is, becomes a new reason.
    """
    n = window.height
    langs = window["detected_language"].to_list()
    # Rows are transformed as they are read: the new calls, the novelty test's sample and the
    # unexplained calls, not the whole window.
    prepared = TransformedRows(space.space, vectors, langs)
    resolve = resolve_ids(catalogue)
    stored = {
        r["call_id"]: r
        for r in current.select("call_id", "reason_id", "similarity", "reason_model_id").iter_rows(
            named=True
        )
    }
    labels = np.full(n, UNEXPLAINED, np.int64)
    sims = np.zeros(n)
    models = [space.reason_model_id] * n
    need: list[int] = []
    for i, cid in enumerate(window["call_id"].to_list()):
        row = stored.get(cid)
        if row is None:
            need.append(i)
            continue
        rid = int(row["reason_id"])
        labels[i] = resolve.get(rid, rid)
        sims[i] = row["similarity"] or 0.0
        models[i] = row["reason_model_id"]
    need_idx = np.asarray(need, np.int64)
    settled = np.flatnonzero(labels != UNEXPLAINED)
    # How close members of a reason usually are to its centre, from the calls already in one.
    typical = float(np.median(sims[settled])) if settled.size else space.threshold
    strict = (
        float(np.quantile(sims[settled], settings.pool_quantile))
        if settled.size
        else space.threshold
    )
    doubtful = np.zeros(0, np.int64)
    novel = np.zeros(0, np.int64)
    if need_idx.size:
        labels[need_idx], sims[need_idx] = (assign or assign_calls)(
            prepared[need_idx], catalogue, space.threshold
        )
        doubtful = need_idx[sims[need_idx] < max(strict, space.threshold)]
        novel = novel_calls(prepared, window["week"].to_list(), need_idx, settings)
        # A new call whose wrap-up code names a reason joins it, near its centre or not, and
        # is no candidate for a new reason (`catalogue_seeds.coded_assignments`).
        unassigned = set(need)
        fixed = {i: r for i, r in (coded or {}).items() if i in unassigned}
        if fixed:
            rows = np.fromiter(fixed, np.int64, len(fixed))
            ids, cents = catalogue_centres(catalogue)
            where = {int(x): k for k, x in enumerate(ids)}
            labels[rows] = [fixed[int(i)] for i in rows]
            sims[rows] = [
                float(prepared[i] @ cents[where[fixed[int(i)]]])
                if fixed[int(i)] in where
                else sims[i]
                for i in rows
            ]
            doubtful = doubtful[~np.isin(doubtful, rows)]
            novel = novel[~np.isin(novel, rows)]
    events: list[dict[str, Any]] = []
    new_ids: list[int] = []
    enough = max(MIN_TEXTS, settings.new_reason_min_calls)

    def clusters(rows: np.ndarray) -> ReasonDiscovery:
        if discover is not None:
            return discover(rows)
        return cluster_pool(
            window["reason_text"].gather(rows).to_list(),
            prepared[rows],
            min_calls=settings.new_reason_min_calls,
            cohesion=typical,
            rule=name_rule,
        )

    # Emerging reasons first: the novel calls clustered among themselves, so that what is new
    # is not diluted by the window's unexplained calls. A cluster of them is a new reason unless
    # its centre is within `novel_reason_max_similarity` of a reason there is: then it is that
    # reason, rising, and its calls join it. Then the doubtful and unexplained calls, as
    # before, against every reason now there.
    pools = [(novel, settings.novel_reason_max_similarity, True)]
    if doubtful.size:
        unexplained = np.flatnonzero(labels == UNEXPLAINED)
        pools.append((np.union1d(doubtful, unexplained), settings.new_reason_max_similarity, False))
    for rows, gate, join_close in pools:
        rows = rows[~np.isin(labels[rows], new_ids)]
        if rows.size < enough:
            continue
        catalogue, created, made = _new_reasons(
            rows,
            prepared,
            labels,
            sims,
            models,
            catalogue,
            space,
            settings,
            clusters(rows),
            join_at=max(strict, space.threshold),
            cohesion=typical,
            max_similarity=gate,
            join_close=join_close,
            run_id=run_id,
            now=now,
        )
        new_ids += created
        events += made
    catalogue, back = _reactivate(catalogue, labels, by=run_id, at=now, run_id=run_id)
    call_reasons = _call_reasons(window, labels, sims, models)
    return CatalogueChange(
        catalogue=describe(catalogue, window, call_reasons),
        call_reasons=call_reasons,
        events=events + back,
        space=None,
        new_reason_ids=new_ids,
        novel_calls=int(novel.size),
    )


def cluster_pool(
    texts: Sequence[str],
    prepared: np.ndarray,
    *,
    min_calls: int,
    cohesion: float,
    rule: NameRule | None = None,
) -> ReasonDiscovery:
    """Candidate new reasons among an update's doubtful and unexplained calls, cheaply.

    Average-linkage clustering (cosine) of the calls in the catalogue's space, cut where the
    mean cosine between two members falls below `cohesion` squared (members at `cohesion` from
    a common centre are about that close to each other); clusters under `min_calls` stay
    unexplained. No UMAP and no embedding: `_new_reasons` then keeps only clusters that are
    tight, large and new. Names are the clusters' own phrases (`naming.phrase_labels` by `rule`,
    the settings' naming rule; None: its defaults); a refit names them again with the full
    keyword pipeline.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    from contact_reasons.naming import DEFAULT_RULE, phrase_candidates, phrase_labels

    n = prepared.shape[0]
    labels = np.full(n, UNEXPLAINED, np.int64)
    if n >= 2:
        tree = linkage(prepared.astype(np.float64), method="average", metric="cosine")
        cut = fcluster(tree, t=1.0 - max(cohesion, 0.0) ** 2, criterion="distance")
        ids, counts = np.unique(cut, return_counts=True)
        big = {int(c): i for i, c in enumerate(ids[counts >= min_calls])}
        labels = np.asarray([big.get(int(c), UNEXPLAINED) for c in cut], np.int64)
    found = sorted(int(x) for x in np.unique(labels) if x != UNEXPLAINED)
    keywords = phrase_candidates(texts, labels, per_reason=10)
    names = phrase_labels(texts, labels, rule=rule or DEFAULT_RULE)
    reasons = pl.DataFrame(
        {
            "reason_id": found,
            "label": [names.get(r, f"reason {r}") for r in found],
            "keywords": [keywords.get(r, []) for r in found],
            "size": [int((labels == r).sum()) for r in found],
            "representative_idx": [np.flatnonzero(labels == r)[:3].tolist() for r in found],
        },
        schema={
            "reason_id": pl.Int64,
            "label": pl.String,
            "keywords": pl.List(pl.String),
            "size": pl.Int64,
            "representative_idx": pl.List(pl.Int64),
        },
    )
    return ReasonDiscovery(labels=labels, reasons=reasons, topic_model=None)


def _new_reasons(
    pool: np.ndarray,
    prepared: np.ndarray | TransformedRows,
    labels: np.ndarray,
    sims: np.ndarray,
    models: list[str],
    catalogue: pl.DataFrame,
    space: CatalogueSpace,
    settings: CatalogueSettings,
    discovery: ReasonDiscovery,
    *,
    join_at: float,
    cohesion: float,
    max_similarity: float,
    join_close: bool = False,
    run_id: str,
    now: datetime,
) -> tuple[pl.DataFrame, list[int], list[dict[str, Any]]]:
    """Turn clusters of pooled calls into new reasons where they are new, tight and large.

    A cluster's calls at least `join_at` from its centre are its core; it becomes a reason when
    the core holds `new_reason_min_calls`, its mean cosine to the centre is at least `cohesion`
    (as tight as a typical reason), and its centre is not within `max_similarity` of a reason
    there is. With `join_close` (clusters of novel calls), a core that fails only the last
    test is the nearest reason, rising: its calls whose cosine to that reason's centre reaches
    the catalogue's join threshold join it. Updates `labels`, `sims` and `models` in place for
    the calls that join.
    """
    existing_ids, existing = catalogue_centres(catalogue)
    resolve = resolve_ids(catalogue)
    next_id = next_reason_id(catalogue)
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    found = np.asarray(discovery.labels, np.int64)
    for reason in discovery.reasons.sort("size", descending=True).iter_rows(named=True):
        members = pool[found == int(reason["reason_id"])]
        if members.size < settings.new_reason_min_calls:
            continue
        centre = prepared[members].mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        own = prepared[members] @ centre
        tight = members[own >= join_at]
        if tight.size < settings.new_reason_min_calls:
            continue
        centre = prepared[tight].mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        if float((prepared[tight] @ centre).mean()) < cohesion:
            continue
        to_existing = existing @ centre if existing.shape[0] else np.zeros(0)
        if to_existing.size and float(to_existing.max()) >= max_similarity:
            if join_close:
                near = int(np.argmax(to_existing))
                target = resolve.get(int(existing_ids[near]), int(existing_ids[near]))
                to_near = prepared[tight] @ existing[near]
                ok = tight[to_near >= space.threshold]
                labels[ok] = target
                sims[ok] = to_near[to_near >= space.threshold]
            continue
        rid = next_id
        next_id += 1
        labels[tight] = rid
        sims[tight] = prepared[tight] @ centre
        for i in tight:
            models[int(i)] = space.reason_model_id
        rows.append(_new_row(rid, reason, centre, space.reason_model_id, now))
        events.append(
            _event(
                "created",
                [rid],
                by=run_id,
                at=now,
                run_id=run_id,
                after={"generated_name": rows[-1]["generated_name"], "calls": int(tight.size)},
            )
        )
    if rows:
        catalogue = pl.concat([catalogue, pl.DataFrame(rows, schema=CATALOGUE_SCHEMA)])
    return catalogue, [r["reason_id"] for r in rows], events


def refit_catalogue(
    window: pl.DataFrame,
    vectors: np.ndarray,
    discovery: ReasonDiscovery,
    current: pl.DataFrame,
    catalogue: pl.DataFrame,
    space: CatalogueSpace,
    settings: CatalogueSettings,
    *,
    run_id: str,
    now: datetime,
    pinned: Mapping[int, int] | None = None,
    fixed: np.ndarray | None = None,
) -> CatalogueChange:
    """Align a fresh discovery over the window to the catalogue.

    A discovered reason keeps the id of the catalogue reason it shares most calls with
    (one-to-one, Hungarian, accepted when the shared calls are at least `align_min_shared` of
    the larger of the two); failing that, the id of the reason most of its calls had (at least
    `align_piece_share` of them: a piece of a known reason); failing that, the id of the
    closest remaining catalogue reason by centre (at least `align_min_similarity`; a merged
    reason passes its calls on to the reason it joined). The rest become new reasons.
    Catalogue reasons left without calls become inactive (never deleted); human names and
    decided statuses stay as they are.

    Args:
        window: the calls of the window, rows aligned with `vectors` and `discovery.labels`.
        vectors: their embeddings.
        discovery: `discover_reasons` over the window.
        current: stored assignments of window calls (`call_id`, `reason_id`).
        catalogue: the catalogue before the refit (may be empty: the first run).
        space: the space fitted on this window (its threshold is set here).
        settings: alignment thresholds.
        run_id: this run.
        now: when.
        pinned: discovered reason -> the catalogue reason whose id it keeps, before any
            other alignment (a seed group, `catalogue_seeds.constrain_discovery`); ids that
            are not in the catalogue, merged or split are ignored.
        fixed: rows the hysteresis leaves where the discovery put them (seeds).
    """
    from scipy.optimize import linear_sum_assignment

    langs = window["detected_language"].to_list()
    prepared = space.space.transform(vectors, langs)
    found = np.asarray(discovery.labels, np.int64)
    cluster_ids, cluster_cents = centroids(prepared, found)
    resolve = resolve_ids(catalogue)
    before = dict(zip(current["call_id"].to_list(), current["reason_id"].to_list(), strict=True))
    old = np.asarray(
        [resolve.get(int(before.get(c, -1)), int(before.get(c, -1))) for c in window["call_id"]],
        np.int64,
    )
    rows = {int(r["reason_id"]): r for r in catalogue.iter_rows(named=True)}
    candidates = [rid for rid, r in rows.items() if r["status"] != "merged" and not _is_split(r)]
    mapping: dict[int, int] = {}
    taken: set[int] = set()
    # 0. seed groups keep the id of the reason they are
    found_ids = set(cluster_ids.tolist())
    for c, rid in (pinned or {}).items():
        if int(c) in found_ids and int(rid) in candidates and int(rid) not in taken:
            mapping[int(c)] = int(rid)
            taken.add(int(rid))
    # 1. shared calls, one to one
    old_ids = np.asarray([rid for rid in candidates if (old == rid).any()], np.int64)
    if cluster_ids.size and old_ids.size:
        c_index = {int(c): i for i, c in enumerate(cluster_ids)}
        o_index = {int(o): j for j, o in enumerate(old_ids)}
        shared = np.zeros((cluster_ids.size, old_ids.size))
        for f, o in zip(found, old, strict=True):
            if int(f) in c_index and int(o) in o_index:
                shared[c_index[int(f)], o_index[int(o)]] += 1
        c_size = np.asarray([(found == c).sum() for c in cluster_ids], float)
        o_size = np.asarray([(old == o).sum() for o in old_ids], float)
        for c, i in c_index.items():
            if c in mapping:
                shared[i, :] = 0
        for o, j in o_index.items():
            if o in taken:
                shared[:, j] = 0
        r_idx, c_idx = linear_sum_assignment(-shared)
        for i, j in zip(r_idx, c_idx, strict=True):
            if shared[i, j] >= settings.align_min_shared * max(c_size[i], o_size[j]) > 0:
                mapping[int(cluster_ids[i])] = int(old_ids[j])
                taken.add(int(old_ids[j]))
    # 2. a piece of a known reason: most of its calls were that reason's (many to one, so a
    #    refit that cuts a reason finer does not rename the pieces)
    for c in cluster_ids:
        if int(c) in mapping:
            continue
        sources = old[(found == c) & (old != UNEXPLAINED)]
        if sources.size == 0:
            continue
        values, counts = np.unique(sources, return_counts=True)
        top = int(np.argmax(counts))
        if counts[top] >= settings.align_piece_share * (found == c).sum():
            mapping[int(c)] = int(values[top])
    # 3. centre similarity, in this refit's space
    rest = [int(c) for c in cluster_ids if int(c) not in mapping]
    pool = [rid for rid, r in rows.items() if rid not in taken and not _is_split(r)]
    if rest and pool:
        pool_cents = []
        for rid in pool:
            mine = old == rid
            if mine.any():
                pool_cents.append(centroids(prepared, np.where(mine, 0, UNEXPLAINED))[1][0])
            elif rows[rid]["centre"] and len(rows[rid]["centre"]) == prepared.shape[1]:
                pool_cents.append(np.asarray(rows[rid]["centre"], np.float32))
            else:
                pool_cents.append(np.zeros(prepared.shape[1], np.float32))
        index = {int(c): i for i, c in enumerate(cluster_ids)}
        sims = cluster_cents[[index[c] for c in rest]] @ np.stack(pool_cents).T
        pairs = sorted(
            (
                (float(sims[a, b]), rest[a], pool[b])
                for a in range(len(rest))
                for b in range(len(pool))
            ),
            reverse=True,
        )
        for sim, c, rid in pairs:
            if sim < settings.align_min_similarity:
                break
            if c in mapping or (rid in taken and rows[rid]["status"] != "merged"):
                continue
            mapping[c] = resolve.get(rid, rid)
            taken.add(rid)
    # 4. the rest are new
    next_id = next_reason_id(catalogue)
    info = {int(r["reason_id"]): r for r in discovery.reasons.iter_rows(named=True)}
    new_rows: list[dict[str, Any]] = []
    for c in cluster_ids:
        if int(c) not in mapping:
            mapping[int(c)] = next_id
            new_rows.append(
                _new_row(next_id, info.get(int(c), {}), np.zeros(1), space.reason_model_id, now)
            )
            next_id += 1
    labels = np.asarray([mapping.get(int(f), UNEXPLAINED) for f in found], np.int64)
    held = keep_where_close(prepared, labels, old, settings.align_keep_spread)
    labels = held if fixed is None else np.where(fixed, labels, held)
    final_ids, final_cents = centroids(prepared, labels)
    centre_of = {int(r): final_cents[i] for i, r in enumerate(final_ids)}
    sims_out = np.asarray(
        [
            float(prepared[i] @ centre_of[int(lab)]) if lab != UNEXPLAINED else 0.0
            for i, lab in enumerate(labels)
        ]
    )
    # unexplained calls: cosine to the nearest reason, as elsewhere
    if final_cents.shape[0]:
        un = labels == UNEXPLAINED
        if un.any():
            sims_out[un] = (prepared[un] @ final_cents.T).max(axis=1)
    threshold = own_threshold(prepared, labels, settings.assign_quantile, (final_ids, final_cents))
    space = CatalogueSpace(space.reason_model_id, space.embedding_model_id, threshold, space.space)
    events: list[dict[str, Any]] = []
    cat = pl.concat([catalogue, pl.DataFrame(new_rows, schema=CATALOGUE_SCHEMA)])
    present = set(centre_of)
    went: list[int] = []
    updated = []
    for row in cat.iter_rows(named=True):
        row = dict(row)
        rid = int(row["reason_id"])
        if rid in centre_of:
            row["centre"] = centre_of[rid].astype(np.float32).tolist()
            kws = [info[c]["keywords"] for c, m in mapping.items() if m == rid and c in info]
            if kws:
                row["keywords"] = list(kws[0])
        elif old.size and (old == rid).any():
            # a reason that vanished: its centre moves into this space, from its former calls
            row["centre"] = centroids(prepared, np.where(old == rid, 0, UNEXPLAINED))[1][0].tolist()
        if row["status"] == "active" and rid not in present:
            row["status"] = "inactive"
            went.append(rid)
        updated.append(row)
    cat = pl.DataFrame(updated, schema=CATALOGUE_SCHEMA)
    models = [space.reason_model_id] * window.height
    cat, back = _reactivate(cat, labels, by=run_id, at=now, run_id=run_id)
    for row in new_rows:
        events.append(
            _event(
                "created",
                [row["reason_id"]],
                by=run_id,
                at=now,
                run_id=run_id,
                after={"generated_name": row["generated_name"]},
            )
        )
    if went:
        events.append(
            _event(
                "inactive",
                went,
                by=run_id,
                at=now,
                run_id=run_id,
                before={"status": "active"},
                after={"status": "inactive"},
            )
        )
    call_reasons = _call_reasons(window, labels, sims_out, models)
    kept = sorted({m for m in mapping.values()} - {r["reason_id"] for r in new_rows})
    events.append(
        _event(
            "refit",
            kept,
            by=run_id,
            at=now,
            run_id=run_id,
            after={
                "reason_model_id": space.reason_model_id,
                "kept": len(kept),
                "new": [r["reason_id"] for r in new_rows],
                "inactive": went,
            },
        )
    )
    return CatalogueChange(
        catalogue=describe(cat, window, call_reasons),
        call_reasons=call_reasons,
        events=events + back,
        space=space,
        new_reason_ids=[r["reason_id"] for r in new_rows],
    )


def keep_where_close(
    prepared: np.ndarray, labels: np.ndarray, old: np.ndarray, spreads: float
) -> np.ndarray:
    """Hysteresis: a call stays with its former reason unless the refit clearly prefers another.

    A call moves only when its cosine to its new reason's centre beats its cosine to its former
    reason's (new) centre by more than `spreads` times the spread of the calls' cosines to
    their own reason's centre (the interquartile range: the variation among a reason's own
    members, in this space's cosine scale); a call the refit leaves unexplained keeps its
    former reason. Only reasons the refit kept count as former ones: a reason the refit
    dropped stays dropped.
    """
    if spreads < 0 or not (old != UNEXPLAINED).any():
        return labels
    ids, cents = centroids(prepared, labels)
    index = {int(r): i for i, r in enumerate(ids)}
    margin = spreads * own_spread(prepared, labels, (ids, cents))
    out = labels.copy()
    for i in np.flatnonzero((old != labels) & (old != UNEXPLAINED)):
        former = index.get(int(old[i]))
        if former is None:
            continue
        if labels[i] == UNEXPLAINED:
            out[i] = old[i]
            continue
        new_sim = float(prepared[i] @ cents[index[int(labels[i])]])
        if float(prepared[i] @ cents[former]) >= new_sim - margin:
            out[i] = old[i]
    return out


# -- decisions ---------------------------------------------------------------------------------

_FIELDS = ("name", "label", "status", "merged_into", "split_into")


@dataclass(frozen=True)
class Decision:
    """A curation decision, ready to store.

    Attributes:
        reasons: catalogue rows to write (whole rows; new ones included).
        moves: call id -> the reason id it moves to.
        event: the event row (without `event_id`).
    """

    reasons: pl.DataFrame
    moves: dict[str, int]
    event: dict[str, Any]


def _row(catalogue: pl.DataFrame, reason_id: int) -> dict[str, Any]:
    found = catalogue.filter(pl.col("reason_id") == reason_id)
    if found.height == 0:
        known = catalogue["reason_id"].to_list()
        shown = ", ".join(str(r) for r in known[:30]) + (" ..." if len(known) > 30 else "")
        raise CatalogueError(f"no reason with id {reason_id}; ids: {shown or 'none'}")
    return dict(found.row(0, named=True))


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return {f: row[f] for f in _FIELDS}


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=CATALOGUE_SCHEMA)


def _one_reason(
    action: str,
    reason_id: int,
    before: dict[str, Any],
    row: dict[str, Any],
    *,
    by: str,
    now: datetime,
) -> Decision:
    """A decision that changes one catalogue row and moves no call."""
    event = _event(
        action,
        [reason_id],
        by=by,
        at=now,
        before={"reasons": {str(reason_id): before}},
        after={"reasons": {str(reason_id): _fields(row)}},
    )
    return Decision(_frame([row]), {}, event)


def rename(
    catalogue: pl.DataFrame, reason_id: int, name: str, *, by: str, now: datetime
) -> Decision:
    """Give a reason a human name (shown instead of the generated one everywhere)."""
    name = name.strip()
    if not name:
        raise CatalogueError("the new name is empty")
    row = _row(catalogue, reason_id)
    # A name nobody would see: a merged reason's calls count, and are shown, under its target.
    if row["status"] == "merged":
        target = resolve_ids(catalogue).get(reason_id, row["merged_into"])
        raise CatalogueError(
            f"reason {reason_id} is merged into {target}: its calls are shown under {target}; "
            f"rename {target}, or restore {reason_id} first"
        )
    if row["status"] == "inactive":
        raise CatalogueError(
            f"reason {reason_id} is inactive (no calls are assigned to it any more); "
            "rename an active reason"
        )
    before = _fields(row)
    row["name"] = name
    row["label"] = name
    return _one_reason("rename", reason_id, before, row, by=by, now=now)


def set_status(
    catalogue: pl.DataFrame,
    reason_id: int,
    action: Literal["ignore", "not_faq", "restore"],
    *,
    by: str,
    now: datetime,
) -> Decision:
    """Ignore a reason, mark it not answerable by an FAQ page, or restore it to active.

    Restoring a merged reason takes it out of the merge (its later calls are its own again).
    """
    row = _row(catalogue, reason_id)
    before = _fields(row)
    status = {"ignore": "ignored", "not_faq": "not_faq", "restore": "active"}[action]
    if row["status"] == status:
        raise CatalogueError(f"reason {reason_id} is already {status}")
    if row["status"] == "merged" and action != "restore":
        raise CatalogueError(
            f"reason {reason_id} is merged into {row['merged_into']}; "
            f"decide on {row['merged_into']} instead, or restore {reason_id} first"
        )
    row["status"] = status
    if action == "restore":
        row["merged_into"] = None
    return _one_reason(action, reason_id, before, row, by=by, now=now)


def merge(
    catalogue: pl.DataFrame,
    call_reasons: pl.DataFrame,
    reason_ids: Sequence[int],
    *,
    by: str,
    now: datetime,
) -> Decision:
    """Merge the later reasons into the first: their calls, now and in every later run."""
    if len(reason_ids) < 2:
        raise CatalogueError("merge needs a reason to keep and at least one to merge into it")
    target, *others = [int(r) for r in reason_ids]
    if target in others:
        raise CatalogueError(f"cannot merge reason {target} into itself")
    if len(set(others)) != len(others):
        raise CatalogueError(f"a reason is named twice: {' '.join(map(str, reason_ids))}")
    rows = [_row(catalogue, r) for r in [target, *others]]
    for row in rows:
        if row["status"] == "merged":
            raise CatalogueError(
                f"reason {row['reason_id']} is already merged into {row['merged_into']}"
            )
    before: dict[str, Any] = {"reasons": {}, "calls": {}}
    after: dict[str, Any] = {"reasons": {}, "calls": {}}
    moves: dict[str, int] = {}
    changed = []
    for row in rows[1:]:
        rid = int(row["reason_id"])
        before["reasons"][str(rid)] = _fields(row)
        row["status"] = "merged"
        row["merged_into"] = target
        after["reasons"][str(rid)] = _fields(row)
        calls = call_reasons.filter(pl.col("reason_id") == rid)["call_id"].to_list()
        before["calls"][str(rid)] = calls
        after["calls"].setdefault(str(target), []).extend(calls)
        moves.update(dict.fromkeys(calls, target))
        changed.append(row)
    event = _event("merge", [target, *others], by=by, at=now, before=before, after=after)
    return Decision(_frame(changed), moves, event)


def split(
    catalogue: pl.DataFrame,
    reason_id: int,
    calls: pl.DataFrame,
    prepared: np.ndarray,
    discovery: ReasonDiscovery,
    *,
    model_id: str,
    by: str,
    now: datetime,
) -> Decision:
    """Split a reason into the reasons `discovery` found among its calls.

    Args:
        catalogue: the catalogue.
        reason_id: the reason to split.
        calls: its calls (`call_id`), rows aligned with `prepared` and `discovery.labels`.
        prepared: their vectors in the catalogue space.
        discovery: `discover_reasons` over its calls.
        model_id: the catalogue's reason model.
        by: who.
        now: when.
    """
    row = _row(catalogue, reason_id)
    if row["status"] == "merged":
        raise CatalogueError(f"reason {reason_id} is merged into {row['merged_into']}")
    found = np.asarray(discovery.labels, np.int64)
    ids, cents = centroids(prepared, found)
    if ids.size < 2:
        raise CatalogueError(
            f"reason {reason_id}: its {calls.height} calls form one reason; nothing to split"
        )
    next_id = next_reason_id(catalogue)
    info = {int(r["reason_id"]): r for r in discovery.reasons.iter_rows(named=True)}
    children = []
    mapping = {}
    for i, c in enumerate(ids):
        mapping[int(c)] = next_id
        children.append(_new_row(next_id, info.get(int(c), {}), cents[i], model_id, now))
        next_id += 1
    # calls the discovery left unexplained go to their nearest new reason
    labels = np.asarray(
        [
            mapping[int(ids[np.argmax(cents @ prepared[i])])]
            if f == UNEXPLAINED
            else mapping[int(f)]
            for i, f in enumerate(found)
        ],
        np.int64,
    )
    moves = dict(zip(calls["call_id"].to_list(), (int(x) for x in labels), strict=True))
    before_fields = _fields(row)
    child_ids = [c["reason_id"] for c in children]
    row["status"] = "inactive"
    row["split_into"] = child_ids
    after: dict[str, Any] = {"reasons": {str(reason_id): _fields(row)}, "calls": {}}
    for cid, rid in moves.items():
        after["calls"].setdefault(str(rid), []).append(cid)
    before = {
        "reasons": {str(reason_id): before_fields, **{str(c): None for c in child_ids}},
        "calls": {str(reason_id): list(moves)},
    }
    event = _event("split", [reason_id, *child_ids], by=by, at=now, before=before, after=after)
    return Decision(_frame([row, *children]), moves, event)


def last_decision(events: pl.DataFrame) -> dict[str, Any] | None:
    """The latest decision not yet undone, or None."""
    undone = set()
    for row in events.sort("event_id", descending=True).iter_rows(named=True):
        if row["action"] == "undo":
            undone.add(int(json.loads(row["after"])["undoes"]))
            continue
        if row["action"] in DECISIONS and int(row["event_id"]) not in undone:
            return dict(row)
    return None


def undo(
    catalogue: pl.DataFrame,
    call_reasons: pl.DataFrame,
    events: pl.DataFrame,
    *,
    by: str,
    now: datetime,
) -> Decision:
    """Revert the latest decision not yet undone.

    Reason fields go back to their values before it; calls it moved go back where they were,
    unless a later run moved them on. Reasons a split created are folded back into the split
    reason (marked merged into it: ids are never reused or deleted).
    """
    event = last_decision(events)
    if event is None:
        raise CatalogueError("no decision to undo")
    before = json.loads(event["before"] or "{}")
    after = json.loads(event["after"] or "{}")
    rows = []
    parent = int(event["reason_ids"][0])
    for rid, fields in before.get("reasons", {}).items():
        row = _row(catalogue, int(rid))
        if fields is None:
            row.update(status="merged", merged_into=parent)
        else:
            row.update(fields)
        rows.append(row)
    where = dict(
        zip(call_reasons["call_id"].to_list(), call_reasons["reason_id"].to_list(), strict=True)
    )
    moved_to = {cid: int(rid) for rid, cids in after.get("calls", {}).items() for cid in cids}
    moves = {
        cid: int(rid)
        for rid, cids in before.get("calls", {}).items()
        for cid in cids
        if where.get(cid) == moved_to.get(cid)
    }
    out = _event(
        "undo",
        [int(r) for r in event["reason_ids"]],
        by=by,
        at=now,
        before={"action": event["action"]},
        after={"undoes": int(event["event_id"]), "action": event["action"]},
    )
    return Decision(_frame(rows), moves, out)
