"""YAML loading and validation of the series-selection rules."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ichsilent.errors import ConfigError
from ichsilent.ingest.selection_rules import (
    UnknownKernelPolicy,
    load_selection_rules,
    parse_selection_rules,
)

CONFIG = Path(__file__).resolve().parents[3] / "config" / "series_selection.yaml"


@pytest.fixture
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


def test_shipped_rules_load() -> None:
    rules = load_selection_rules(CONFIG)
    assert rules.modality == "CT"
    assert rules.min_instances == 10
    assert rules.slice_thickness_mm.preferred == (2.0, 6.0)
    assert rules.kernel.unknown is UnknownKernelPolicy.ALLOW
    assert "LOCALIZER" in rules.image_type.localizer
    assert rules.source == str(CONFIG)
    with pytest.raises(AttributeError):
        rules.min_instances = 3  # type: ignore[misc]


def _error(data: Any, tmp_path: Path) -> str:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_selection_rules(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_unknown_key(data: dict[str, Any], tmp_path: Path) -> None:
    data["kernel"]["sofft_tissue"] = ["^X"]
    message = _error(data, tmp_path)
    assert "'kernel.sofft_tissue'" in message
    assert "no such key" in message


def test_missing_key(data: dict[str, Any], tmp_path: Path) -> None:
    del data["min_instances"]
    assert "'min_instances'" in _error(data, tmp_path)


def test_bad_regex(data: dict[str, Any], tmp_path: Path) -> None:
    data["contrast"]["description_patterns"].append("C+(")
    message = _error(data, tmp_path)
    assert "contrast.description_patterns[" in message
    assert "regular expression" in message


def test_bad_range(data: dict[str, Any], tmp_path: Path) -> None:
    data["slice_thickness_mm"]["allowed"] = [6.0, 0.5]
    message = _error(data, tmp_path)
    assert "'slice_thickness_mm.allowed' is [6.0, 0.5]" in message
    assert "low <= high" in message


def test_bad_types(data: dict[str, Any], tmp_path: Path) -> None:
    data["min_instances"] = "ten"
    assert "an integer" in _error(data, tmp_path)


def test_yaml_no_read_as_false(tmp_path: Path) -> None:
    text = CONFIG.read_text(encoding="utf-8").replace('"NO", ', "NO, ")
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"contrast\.agent_absent_values.*False"):
        load_selection_rules(path)


def test_bad_policy_and_tilt(data: dict[str, Any], tmp_path: Path) -> None:
    data["kernel"]["unknown"] = "maybe"
    assert "one of allow, reject" in _error(data, tmp_path)
    data["kernel"]["unknown"] = "reject"
    data["orientation"]["max_gantry_tilt_deg"] = 60
    assert "orientation.max_gantry_tilt_deg" in _error(data, tmp_path)


def test_not_a_mapping_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mapping"):
        parse_selection_rules(["a"], "x.yaml")
    path = tmp_path / "broken.yaml"
    path.write_text("kernel: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_selection_rules(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_selection_rules(tmp_path / "absent.yaml")
