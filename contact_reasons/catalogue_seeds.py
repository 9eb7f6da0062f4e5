"""Seeds in the weekly flow: what people already know about the reasons guides a refit.

A refit (`pipeline.run_weekly` in mode "refit"; the first run is one) discovers reasons afresh
over the window and aligns them to the catalogue. Two kinds of calls are seeds there:

- **Calls of curated reasons** (`curated_reasons`): reasons a person confirmed in the catalogue:
  renamed (they have a human name), kept by a merge (another reason was merged into them), or
  made by a split. Only active and not-FAQ ones: an ignored reason is a person's "not a
  reason", no confirmation; it is no seed, and it stays ignored (a refit never changes a
  decided status). A merged reason's calls count under the reason it joined. Their seeds are
  the window's calls stored with them (`SeededSettings.catalogue_seeds`).
- **Wrap-up codes** (`SeededSettings.wrapup_column`, stored as `calls.wrapup_code`): a call with
  a code is a seed of the reason the code names; a code used by fewer than
  `SeededSettings.wrapup_min_calls` window calls is not (unless it names a curated reason). A
  code equal (case folded) to a curated reason's name is that reason; one equal to another
  catalogue reason's name is pinned to that reason (a code's reason found by an earlier refit
  keeps its id). A call of a curated reason is a seed of it whatever its code.
- **Menu choices** (`SeededSettings.menu_labels`, off by default): an unanswered call's menu
  choice (its reason text when `text_source` is "menu") acts as its wrap-up code when it has
  none. Measured in docs/reason_discovery.md ("Menu choices as weak labels") before use.

With wrap-up codes and `SeededSettings.wrapup_method = "metric"` (the default),
`learned_discovery` first redoes the refit's discovery by `seeded.discover_seeded` with the
codes as seeds (a metric learned on them; codes name a sample of many reasons' calls, where it
measured far better than must-link). Curated reasons are never its seeds: a metric learned from
the few reasons people curated changed the space and cost stability (docs/catalogue.md, "Seeds
in the weekly flow"). `constrain_discovery` then applies the seeds to the discovery's clusters
as must-link groups; the discovery's space and count are not changed by them:

1. A discovered cluster whose members are at least `piece_share` calls of one curated reason
   is a piece of it, and joins it (a curated reason's calls are all its seeds, so the other
   members of a cluster are evidence against it).
2. A cluster holding wrap-up seeds becomes the code's reason holding most of them, if it holds
   at least half (the others' calls are unlabelled: a code names a sample of its reason).
3. Every seed joins its group (must-link): a curated reason's calls the discovery put in other
   clusters, or left unexplained, are held together with it.

Each group is one reason of the constrained discovery; a curated group's (and a code's that
names a catalogue reason) is pinned to that reason's id in `catalogue.refit_catalogue`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from contact_reasons.catalogue import resolve_ids, with_generated_names
from contact_reasons.cluster import UNEXPLAINED, ReasonDiscovery, centroids
from contact_reasons.cluster_settings import ClusterSettings
from contact_reasons.config import SeededSettings, Settings

log = logging.getLogger(__name__)

#: Statuses of a curated reason whose calls are seeds.
SEEDED_STATUSES = ("active", "not_faq")


@dataclass(frozen=True)
class RefitSeeds:
    """The seeds of a refit.

    Attributes:
        group: per window row, the index of its seed group in `names`; -1: not a seed.
        names: each group's name: a curated reason's shown name, or a wrap-up code.
        reason_ids: each group's catalogue reason id (a curated reason, or a reason a code
            names); None: a code no reason has yet.
        curated: whether each group is a curated reason (its calls are all its seeds).
    """

    group: np.ndarray
    names: list[str]
    reason_ids: list[int | None]
    curated: list[bool]

    @property
    def count(self) -> int:
        """Seed rows."""
        return int((self.group >= 0).sum())

    def summary(self) -> dict[str, int]:
        """Seed rows and groups by kind (for the run's summary)."""
        kinds = np.asarray(self.curated, dtype=bool)
        rows = self.group[self.group >= 0]
        return {
            "seed_calls": int(rows.size),
            "curated_reasons": int(kinds.sum()),
            "curated_calls": int(kinds[rows].sum()) if rows.size else 0,
            "wrapup_codes": int((~kinds).sum()),
        }


@dataclass(frozen=True)
class ConstrainedDiscovery:
    """`constrain_discovery`'s result.

    Attributes:
        discovery: the discovery with the seeds applied (labels and reasons frame).
        pinned: cluster label -> catalogue reason id it must keep (`refit_catalogue`).
        groups: cluster label -> seed group index of `RefitSeeds`.
    """

    discovery: ReasonDiscovery
    pinned: dict[int, int]
    groups: dict[int, int]


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def curated_reasons(catalogue: pl.DataFrame) -> dict[int, str]:
    """Reasons people confirmed, id -> shown name: renamed, kept by a merge, or made by a split.

    Read from the catalogue as it stands (an undone decision leaves no trace there): a human
    `name`; the target of a reason whose status is merged; an id in some reason's
    `split_into`. Only reasons now active or not-FAQ count (`SEEDED_STATUSES`).
    """
    if catalogue.height == 0:
        return {}
    resolve = resolve_ids(catalogue)
    confirmed: set[int] = set()
    for row in catalogue.iter_rows(named=True):
        rid = int(row["reason_id"])
        if row["name"] is not None and str(row["name"]).strip():
            confirmed.add(rid)
        if row["status"] == "merged" and row["merged_into"] is not None:
            confirmed.add(resolve.get(rid, int(row["merged_into"])))
        for child in row["split_into"] or []:
            confirmed.add(int(child))
    out: dict[int, str] = {}
    for row in catalogue.iter_rows(named=True):
        rid = int(row["reason_id"])
        if rid in confirmed and row["status"] in SEEDED_STATUSES:
            out[rid] = str(row["name"] or row["generated_name"] or row["label"] or rid)
    return out


def refit_seeds(
    window: pl.DataFrame,
    current: pl.DataFrame,
    catalogue: pl.DataFrame,
    settings: SeededSettings,
) -> RefitSeeds:
    """The window's seed rows and their groups (module docstring).

    Args:
        window: the refit's calls (`call_id`; `wrapup_code` where there is one).
        current: stored assignments of window calls (`call_id`, `reason_id`).
        catalogue: the catalogue before the refit.
        settings: `catalogue_seeds` (curated reasons' calls); with `wrapup_column` set, the
            window's `wrapup_code` values, and `wrapup_min_calls`. Codes stored while a
            column was set are no seeds once it is unset.
    """
    n = window.height
    group = np.full(n, -1, dtype=np.int64)
    names: list[str] = []
    reason_ids: list[int | None] = []
    curated_flags: list[bool] = []
    by_reason: dict[int, int] = {}
    by_key: dict[str, int] = {}
    if settings.catalogue_seeds and current.height and catalogue.height:
        curated = curated_reasons(catalogue)
        resolve = resolve_ids(catalogue)
        stored = dict(
            zip(current["call_id"].to_list(), current["reason_id"].to_list(), strict=True)
        )
        for i, cid in enumerate(window["call_id"].to_list()):
            rid = stored.get(cid)
            if rid is None:
                continue
            rid = resolve.get(int(rid), int(rid))
            if rid not in curated:
                continue
            if rid not in by_reason:
                by_reason[rid] = len(names)
                by_key.setdefault(_key(curated[rid]), len(names))
                names.append(curated[rid])
                reason_ids.append(rid)
                curated_flags.append(True)
            group[i] = by_reason[rid]
    weak = _weak_labels(window, settings)
    codes = {i: c for i, c in enumerate(weak) if c is not None and c.strip()}
    if codes:
        coded = sorted(codes)
        counts = Counter(_key(codes[i]) for i in coded)
        free = [i for i in coded if group[i] < 0]
        spelling: dict[str, Counter[str]] = {}
        for i in free:
            spelling.setdefault(_key(codes[i]), Counter())[codes[i].strip()] += 1
        named = _catalogue_names(catalogue)
        curated_keys = {k for k, g in by_key.items() if curated_flags[g]}
        for i in free:
            key = _key(codes[i])
            if counts[key] < settings.wrapup_min_calls and key not in curated_keys:
                continue
            if key not in by_key:
                by_key[key] = len(names)
                names.append(spelling[key].most_common(1)[0][0])
                reason_ids.append(named.get(key))
                curated_flags.append(False)
            group[i] = by_key[key]
    return RefitSeeds(group, names, reason_ids, curated_flags)


def _weak_labels(window: pl.DataFrame, settings: SeededSettings) -> list[str | None]:
    """Per window row, the code it is a seed of; None: none.

    Its wrap-up code (with `wrapup_column` set), else, with `menu_labels`, an unanswered
    call's menu choice (its `reason_text` where `text_source` is "menu").
    """
    n = window.height
    codes: list[str | None] = [None] * n
    if settings.wrapup_column is not None and "wrapup_code" in window.columns:
        codes = [c if c is not None and c.strip() else None for c in window["wrapup_code"]]
    if settings.menu_labels and {"text_source", "reason_text"} <= set(window.columns):
        menus = zip(window["text_source"].to_list(), window["reason_text"].to_list(), strict=True)
        for i, (source, text) in enumerate(menus):
            if codes[i] is None and source == "menu" and text is not None and text.strip():
                codes[i] = text
    return codes


def _catalogue_names(catalogue: pl.DataFrame) -> dict[str, int]:
    """Folded shown name -> reason id, for reasons a code may name (not merged, not split)."""
    if catalogue.height == 0:
        return {}
    resolve = resolve_ids(catalogue)
    out: dict[str, int] = {}
    for row in catalogue.sort("reason_id").iter_rows(named=True):
        if row["split_into"]:
            continue
        rid = resolve.get(int(row["reason_id"]), int(row["reason_id"]))
        for name in (row["name"], row["generated_name"]):
            if name and str(name).strip():
                out.setdefault(_key(str(name)), rid)
    return out


def constrain_discovery(
    discovery: ReasonDiscovery,
    prepared: np.ndarray,
    seeds: RefitSeeds,
    piece_share: float = 0.5,
    representatives: int = 5,
    code_share: float = 0.0,
) -> ConstrainedDiscovery:
    """The refit's discovery with the seeds as must-link groups (module docstring, steps 1-3).

    Args:
        discovery: `discover_reasons` over the window (rows as `seeds.group`).
        prepared: the window's vectors in the refit's space (for wrap-up votes and
            representatives).
        seeds: `refit_seeds`.
        piece_share: share of a cluster's members that must be a curated reason's calls for
            the cluster to join it (`catalogue.align_piece_share`).
        representatives: most central calls kept per group reason.
        code_share: a cluster joins a code only when it holds at least this share of the
            code's seeds (`SeededSettings.wrapup_cluster_share`).

    Returns:
        The discovery with new labels (each seed group one reason; unseeded clusters keep
        theirs), its reasons frame, and the labels pinned to catalogue ids.
    """
    labels = np.asarray(discovery.labels, dtype=np.int64)
    group = seeds.group
    if not (group >= 0).any():
        return ConstrainedDiscovery(discovery, {}, {})
    curated = np.asarray(seeds.curated, dtype=bool)
    first = int(labels.max(initial=UNEXPLAINED)) + 1
    label_of = {g: first + g for g in range(len(seeds.names))}
    out = labels.copy()
    joined: dict[int, list[int]] = {}  # group -> discovered clusters it took whole
    seeded = group >= 0
    totals = np.bincount(group[seeded], minlength=len(seeds.names))
    for cluster in np.unique(labels[labels != UNEXPLAINED]):
        members = labels == cluster
        member_groups = group[members & seeded]
        if member_groups.size == 0:
            continue
        counts = Counter(int(g) for g in member_groups.tolist())
        own = [(c, g) for g, c in counts.items() if curated[g]]
        if own:
            count, g = max(own)
            if count >= piece_share * members.sum():
                out[members] = label_of[g]
                joined.setdefault(g, []).append(int(cluster))
                continue
        codes = {g: c for g, c in counts.items() if not curated[g]}
        if codes:
            g = max(codes, key=lambda k: (codes[k], -k))
            if codes[g] * 2 >= sum(codes.values()) and codes[g] >= code_share * totals[g]:
                out[members] = label_of[g]
                joined.setdefault(g, []).append(int(cluster))
    out[seeded] = [label_of[int(g)] for g in group[seeded]]
    reasons = _reasons_frame(discovery, out, prepared, seeds, label_of, joined, representatives)
    present = set(np.unique(out).tolist())
    pinned = {
        label_of[g]: int(rid)
        for g, rid in enumerate(seeds.reason_ids)
        if rid is not None and label_of[g] in present
    }
    groups = {label_of[g]: g for g in range(len(seeds.names)) if label_of[g] in present}
    constrained = ReasonDiscovery(labels=out, reasons=reasons, topic_model=discovery.topic_model)
    return ConstrainedDiscovery(constrained, pinned, groups)


def learned_discovery(
    discovery: ReasonDiscovery,
    vectors: np.ndarray,
    prepared: np.ndarray,
    seeds: RefitSeeds,
    cluster: ClusterSettings,
    seeded: SeededSettings,
    languages: Sequence[str | None] | None = None,
) -> ReasonDiscovery:
    """The refit's discovery redone by `seeded.discover_seeded` with the wrap-up codes as seeds.

    `SeededSettings.wrapup_method = "metric"`: the metric learned on the codes' seeds (issue
    17's seeded discovery) finds the reasons; curated reasons' calls are not its seeds (a
    metric learned from a few reasons changes the space and costs stability: they are
    must-link groups afterwards, `constrain_discovery`). A reason's keywords (and, for a new
    one, its label) are those of the unseeded discovery's cluster sharing most of its calls.
    The discovery is returned as it is when there are no code seeds, or more calls than
    `seeded.wrapup_max_calls` (seeded discovery fits every row; no sample).
    """
    from contact_reasons.seeded import discover_seeded

    codes = [
        seeds.names[g] if g >= 0 and not seeds.curated[g] else None for g in seeds.group.tolist()
    ]
    if not any(codes):
        return discovery
    if len(codes) > seeded.wrapup_max_calls:
        log.warning(
            "wrap-up codes: %d calls is over seeded.wrapup_max_calls (%d), which seeded "
            "discovery does not sample; the codes act as must-link groups instead",
            len(codes),
            seeded.wrapup_max_calls,
        )
        return discovery
    found = discover_seeded(vectors, codes, cluster, seeded, languages=languages)
    labels = np.asarray(found.labels, dtype=np.int64)
    known = {i: name for i, name in enumerate(found.known)}
    reasons = _overlap_frame(discovery, labels, prepared, known, cluster.representative_docs)
    log.info("wrap-up codes: %d reasons by the learned metric", reasons.height)
    return ReasonDiscovery(labels=labels, reasons=reasons, topic_model=discovery.topic_model)


def _overlap_frame(
    discovery: ReasonDiscovery,
    labels: np.ndarray,
    prepared: np.ndarray,
    names: Mapping[int, str],
    representatives: int,
) -> pl.DataFrame:
    """A reasons frame for `labels`, from the discovered clusters sharing most calls.

    Each reason takes the keywords, and unless `names` has its name the label, of the cluster
    of `discovery` that shares most of its calls.
    """
    info = {int(r["reason_id"]): r for r in discovery.reasons.iter_rows(named=True)}
    before = np.asarray(discovery.labels, dtype=np.int64)
    ids, cents = centroids(prepared, labels)
    rows: list[dict[str, Any]] = []
    for i, rid in enumerate(ids.tolist()):
        members = np.flatnonzero(labels == rid)
        order = members[np.argsort(-(prepared[members] @ cents[i]), kind="stable")]
        shared = Counter(int(x) for x in before[members].tolist() if x != UNEXPLAINED)
        source = info.get(shared.most_common(1)[0][0], {}) if shared else {}
        rows.append(
            {
                "reason_id": rid,
                "label": names.get(rid, source.get("label", f"Reason {rid}")),
                "keywords": list(source.get("keywords", [])),
                "size": int(members.size),
                "representative_idx": [int(j) for j in order[:representatives]],
            }
        )
    return pl.DataFrame(rows, schema=dict(discovery.reasons.schema))


def _reasons_frame(
    discovery: ReasonDiscovery,
    labels: np.ndarray,
    prepared: np.ndarray,
    seeds: RefitSeeds,
    label_of: Mapping[int, int],
    joined: Mapping[int, list[int]],
    representatives: int,
) -> pl.DataFrame:
    """The reasons frame of the constrained labels: discovered rows resized, group rows added.

    A group's keywords are those of the largest cluster it took whole (none if it took none);
    its label is its name.
    """
    info = {int(r["reason_id"]): r for r in discovery.reasons.iter_rows(named=True)}
    ids, cents = centroids(prepared, labels)
    group_of = {lab: g for g, lab in label_of.items()}
    rows: list[dict[str, Any]] = []
    for i, rid in enumerate(ids.tolist()):
        members = np.flatnonzero(labels == rid)
        order = members[np.argsort(-(prepared[members] @ cents[i]), kind="stable")]
        top = [int(j) for j in order[:representatives]]
        if rid in group_of:
            g = group_of[rid]
            taken = sorted(joined.get(g, []), key=lambda c: -(info[c]["size"] if c in info else 0))
            keywords = list(info[taken[0]]["keywords"]) if taken and taken[0] in info else []
            rows.append(
                {
                    "reason_id": rid,
                    "label": seeds.names[g],
                    "keywords": keywords,
                    "size": int(members.size),
                    "representative_idx": top,
                }
            )
        else:
            row = info.get(rid, {})
            rows.append(
                {
                    "reason_id": rid,
                    "label": row.get("label", f"Reason {rid}"),
                    "keywords": list(row.get("keywords", [])),
                    "size": int(members.size),
                    "representative_idx": top,
                }
            )
    return pl.DataFrame(rows, schema=dict(discovery.reasons.schema))


def code_names(
    call_reasons: pl.DataFrame,
    window: pl.DataFrame,
    seeds: RefitSeeds,
    catalogue: pl.DataFrame,
) -> dict[int, str]:
    """Reason id -> wrap-up code, for the reasons a code's seeds ended in (most of them).

    Reasons with a human name are left out (a person's name wins); so is a reason most seeds of
    two codes ended in (the larger code names it).
    """
    codes = [g for g, c in enumerate(seeds.curated) if not c]
    if not codes:
        return {}
    reason_of = dict(
        zip(call_reasons["call_id"].to_list(), call_reasons["reason_id"].to_list(), strict=True)
    )
    ids = window["call_id"].to_list()
    human = {
        int(r)
        for r, name in catalogue.select("reason_id", "name").iter_rows()
        if name is not None and str(name).strip()
    }
    best: dict[int, tuple[int, str]] = {}
    for g in codes:
        rows = np.flatnonzero(seeds.group == g)
        held = Counter(
            int(reason_of[ids[i]])
            for i in rows.tolist()
            if reason_of.get(ids[i]) not in (None, UNEXPLAINED)
        )
        if not held:
            continue
        rid, count = held.most_common(1)[0]
        if rid in human:
            continue
        if rid not in best or count > best[rid][0]:
            best[rid] = (count, seeds.names[g])
    return {rid: name for rid, (_, name) in best.items()}


def name_by_codes(catalogue: pl.DataFrame, names: Mapping[int, str]) -> pl.DataFrame:
    """The catalogue with each reason of `names` generated-named by its code (`code_names`)."""
    return with_generated_names(catalogue, names)


def coded_reasons(catalogue: pl.DataFrame, window: pl.DataFrame) -> dict[int, str]:
    """Reasons a wrap-up code named (generated name = a code the window's calls carry).

    A weekly update keeps their names as `code_names` gave them at the refit: the code is
    their name in every language (`naming.language_names`'s `fixed`).
    """
    if "wrapup_code" not in window.columns or catalogue.height == 0:
        return {}
    codes = {_key(c) for c in window["wrapup_code"].drop_nulls().to_list() if c.strip()}
    if not codes:
        return {}
    return {
        int(r): str(g)
        for r, g, name in catalogue.select("reason_id", "generated_name", "name").iter_rows()
        if g is not None and name is None and _key(str(g)) in codes
    }


CODED_STATUSES = ("active", "not_faq", "ignored")
"""Statuses of a reason a coded call of a weekly update goes to (a person's ignore stands)."""


def coded_assignments(
    window: pl.DataFrame, catalogue: pl.DataFrame, settings: SeededSettings
) -> dict[int, int]:
    """Window rows whose wrap-up code names a reason, row -> reason id (merges resolved).

    A code is a label an agent gave the call: in a weekly update such a call joins the reason
    the code names (its shown or generated name, as `refit_seeds` matches them) instead of
    the nearest centre. Codes of no reason, and reasons split or no longer active, leave the
    call to the centres. Empty unless `settings.wrapup_column` is set.
    """
    if settings.wrapup_column is None or "wrapup_code" not in window.columns:
        return {}
    named = _catalogue_names(catalogue)
    status = dict(zip(catalogue["reason_id"].to_list(), catalogue["status"].to_list(), strict=True))
    out: dict[int, int] = {}
    for i, code in enumerate(window["wrapup_code"].to_list()):
        if code is None or not code.strip():
            continue
        rid = named.get(_key(code))
        if rid is not None and status.get(rid) in CODED_STATUSES:
            out[i] = rid
    return out


def seeded_discovery(
    discovery: ReasonDiscovery,
    vectors: np.ndarray,
    prepared: np.ndarray,
    seeds: RefitSeeds,
    settings: Settings,
    languages: Sequence[str | None] | None,
    call: Callable[..., Any] | None = None,
) -> ConstrainedDiscovery:
    """A refit's discovery with its seeds: learned metric (if set), then must-link groups.

    The learned metric runs when `seeded.wrapup_method` is "metric" (wrap-up codes); the
    seeds then act as must-link groups (`constrain_discovery`).

    `call(name, fn, *args)` runs each step (the pipeline's stage timer: `seeded_discover`,
    `seed`); None runs them directly.
    """

    def direct(_name: str, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    run = call or direct
    if settings.seeded.wrapup_method == "metric":
        discovery = run(
            "seeded_discover",
            learned_discovery,
            discovery,
            vectors,
            prepared,
            seeds,
            settings.cluster,
            settings.seeded,
            languages,
        )
    constrained: ConstrainedDiscovery = run(
        "seed",
        constrain_discovery,
        discovery,
        prepared,
        seeds,
        settings.catalogue.align_piece_share,
        settings.cluster.representative_docs,
        settings.seeded.wrapup_cluster_share,
    )
    return constrained
