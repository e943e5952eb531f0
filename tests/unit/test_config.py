"""Settings: defaults, ICHSILENT_* variables, TOML file, precedence and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ichsilent.config import load_settings
from ichsilent.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ICHSILENT_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.home == Path("var")
    assert settings.effective_database_url == "sqlite:///var/ichsilent.db"
    assert settings.effective_artifact_dir == Path("var/artifacts")
    assert settings.dicomweb_verify_tls is True


def test_environment_is_read_and_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICHSILENT_HOME", "/srv/ich")
    monkeypatch.setenv("ICHSILENT_SETTLE_SECONDS", "30")
    monkeypatch.setenv("ICHSILENT_DICOMWEB_VERIFY_TLS", "false")
    monkeypatch.setenv("ICHSILENT_PSEUDONYM_KEY", "k" * 32)
    settings = load_settings()
    assert settings.home == Path("/srv/ich")
    assert settings.settle_seconds == 30.0
    assert settings.dicomweb_verify_tls is False
    assert settings.pseudonym_key is not None
    assert "k" * 32 not in repr(settings)
    assert settings.effective_database_url == "sqlite:////srv/ich/ichsilent.db"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ICHSILENT_SETTLE_SECONDS", "soon"),
        ("ICHSILENT_SETTLE_SECONDS", "-1"),
        ("ICHSILENT_DICOMWEB_TIMEOUT_SECONDS", "0"),
        ("ICHSILENT_DATABASE_URL", "mysql://localhost/db"),
        ("ICHSILENT_REPORT_SOURCE", "ftp://somewhere"),
        ("ICHSILENT_LOG_LEVEL", "LOUD"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert variable in str(raised.value)
    assert value in str(raised.value)


def test_errors_never_echo_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICHSILENT_DATABASE_URL", "mysql://user:hunter2@db/ich")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "hunter2" not in str(raised.value)
    assert "ICHSILENT_DATABASE_URL" in str(raised.value)


def test_toml_file_and_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "ichsilent.toml"
    path.write_text(
        "[ichsilent]\n"
        'model_name = "from-file"\n'
        "settle_seconds = 5\n"
        'site_timezone = "Europe/Paris"\n'
    )
    monkeypatch.setenv("ICHSILENT_CONFIG", str(path))
    monkeypatch.setenv("ICHSILENT_SETTLE_SECONDS", "7")
    settings = load_settings(site_timezone="UTC")
    assert settings.model_name == "from-file"  # file over default
    assert settings.settle_seconds == 7.0  # environment over file
    assert settings.site_timezone == "UTC"  # keyword over everything
    assert load_settings(database_url=None).model_name == "from-file"  # None = not given


def test_toml_without_section_and_bad_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    flat = tmp_path / "flat.toml"
    flat.write_text('model_name = "flat"\n')
    monkeypatch.setenv("ICHSILENT_CONFIG", str(flat))
    assert load_settings().model_name == "flat"

    monkeypatch.setenv("ICHSILENT_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"ICHSILENT_CONFIG=.*file not found"):
        load_settings()

    broken = tmp_path / "broken.toml"
    broken.write_text("model_name = \n")
    monkeypatch.setenv("ICHSILENT_CONFIG", str(broken))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()

    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[ichsilent]\nsettle_seconds = "later"\nunknown_key = 1\n')
    monkeypatch.setenv("ICHSILENT_CONFIG", str(wrong))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "ICHSILENT_SETTLE_SECONDS" in message
    assert str(wrong) in message
    assert "ICHSILENT_UNKNOWN_KEY" in message
