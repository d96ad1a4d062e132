"""Settings come from the environment through typed readers that fail loudly."""

from pathlib import Path

import pytest

from console.env import SettingError, env_bool, env_int, env_str, persistent_secret


def test_it_reads_booleans_and_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("LD_FLAG", "yes")
    assert env_bool("LD_FLAG") is True
    monkeypatch.setenv("LD_FLAG", "off")
    assert env_bool("LD_FLAG", True) is False
    monkeypatch.setenv("LD_FLAG", "maybe")
    with pytest.raises(SettingError, match="LD_FLAG"):
        env_bool("LD_FLAG")


def test_it_checks_whole_numbers_and_their_bounds(monkeypatch):
    monkeypatch.setenv("LD_NUM", "12x")
    with pytest.raises(SettingError, match="LD_NUM='12x' is not a whole number"):
        env_int("LD_NUM", 1)
    monkeypatch.setenv("LD_NUM", "0")
    with pytest.raises(SettingError, match="below the minimum 1"):
        env_int("LD_NUM", 5, minimum=1)
    monkeypatch.delenv("LD_NUM")
    assert env_int("LD_NUM", 5) == 5


def test_it_reads_secrets_from_a_file(monkeypatch, tmp_path: Path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("LD_TOKEN_FILE", str(secret))
    assert env_str("LD_TOKEN") == "s3cret"
    monkeypatch.setenv("LD_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingError, match="LD_TOKEN_FILE"):
        env_str("LD_TOKEN")


def test_it_generates_a_secret_key_once_and_keeps_it(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("LD_KEY", raising=False)
    path = tmp_path / "data" / "secret_key"
    first = persistent_secret("LD_KEY", path)
    assert len(first) >= 50
    assert persistent_secret("LD_KEY", path) == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("LD_KEY", "from-env")
    assert persistent_secret("LD_KEY", path) == "from-env"
