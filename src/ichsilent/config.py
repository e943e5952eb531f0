"""Settings from ICHSILENT_* environment variables and an optional TOML file.

Precedence: explicit keyword arguments > environment > TOML file (``ICHSILENT_CONFIG``)
> defaults. Invalid values fail at start with the variable, the value and what is expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ichsilent.errors import ConfigError

ENV_PREFIX = "ICHSILENT_"
CONFIG_FILE_VARIABLE = "ICHSILENT_CONFIG"


class Settings(BaseSettings):
    """Typed settings of one ichsilent installation."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    home: Path = Field(default=Path("var"), description="Directory for embedded-mode state.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<home>/ichsilent.db"
    )
    dicomweb_url: str | None = Field(default=None, description="PACS DICOMweb root or a folder.")
    dicomweb_username: str | None = None
    dicomweb_password: SecretStr | None = None
    dicomweb_token: SecretStr | None = None
    dicomweb_verify_tls: bool = True
    dicomweb_timeout_seconds: float = Field(default=30.0, gt=0)
    settle_seconds: float = Field(default=120.0, ge=0)
    ingest_lookback_hours: float = Field(
        default=24.0, ge=0, description="QIDO window widened backwards for late arrivals."
    )
    ingest_max_in_flight: int = Field(
        default=2, ge=1, le=16, description="Studies fetched and decoded at the same time."
    )
    report_source: str | None = Field(
        default=None, description="jsonl:FILE | hl7dir:DIR | sql:URL | fhir:URL"
    )
    artifact_dir: Path | None = Field(default=None, description="Default <home>/artifacts.")
    pseudonym_key: SecretStr | None = Field(
        default=None, description="HMAC key; default: generated once under <home>."
    )
    model_name: str = "ich-demo"
    trial_protocol: Path = Path("config/trial.yaml")
    site_timezone: str = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        allowed = ("sqlite:", "postgresql:", "postgresql+psycopg:")
        if not value.startswith(allowed):
            raise ValueError(
                f"must start with one of {', '.join(allowed)} (SQLite or PostgreSQL), "
                "e.g. postgresql+psycopg://user@host/ichsilent"
            )
        return value

    @field_validator("report_source")
    @classmethod
    def _known_report_source(cls, value: str | None) -> str | None:
        if value is None:
            return None
        kinds = ("jsonl:", "hl7dir:", "sql:", "fhir:")
        if not value.startswith(kinds):
            raise ValueError(f"must start with one of {', '.join(kinds)}")
        return value

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'ichsilent.db'}"

    @property
    def effective_artifact_dir(self) -> Path:
        return self.artifact_dir or self.home / "artifacts"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{CONFIG_FILE_VARIABLE}={path}: file not found; point it at a TOML file or unset it"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{CONFIG_FILE_VARIABLE}={path}: not valid TOML ({exc})") from exc
    section = data.get("ichsilent", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [ichsilent] must be a table of settings")
    return section


def load_settings(**overrides: Any) -> Settings:
    """Build settings; raise ConfigError naming the variable, value and expectation."""
    file_values: dict[str, Any] = {}
    config_path = os.environ.get(CONFIG_FILE_VARIABLE)
    if config_path:
        file_values = _read_toml(Path(config_path))
    env_names = {
        name[len(ENV_PREFIX) :].lower() for name in os.environ if name.startswith(ENV_PREFIX)
    }
    # Environment beats the file: drop file values the environment also sets.
    merged = {k: v for k, v in file_values.items() if k not in env_names}
    merged.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, config_path)) from None


_SECRET_FIELDS = frozenset({"dicomweb_password", "dicomweb_token", "pseudonym_key"})


def _redact(name: str, value: Any) -> str:
    """The value as shown in an error: secrets hidden, URL passwords replaced by ***."""
    if name in _SECRET_FIELDS:
        return "'***'"
    if isinstance(value, str):
        return repr(re.sub(r"(//[^/@:]*:)[^@/]*@", r"\1***@", value))
    return repr(value)


def _describe(exc: ValidationError, config_path: str | None = None) -> str:
    lines = ["invalid ichsilent settings:"]
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "?"
        variable = ENV_PREFIX + name.upper()
        if variable in os.environ:
            where, seen = variable, os.environ[variable]
        elif config_path:
            where, seen = f"{variable} (or {name!r} in {config_path})", err.get("input")
        else:
            where, seen = variable, err.get("input")
        lines.append(f"  {where}={_redact(name, seen)}: {err['msg']}")
    return "\n".join(lines)
