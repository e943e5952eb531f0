"""Series-selection rules: YAML (config/series_selection.yaml) -> validated frozen dataclasses.

Every problem is a :class:`~ichsilent.errors.ConfigError` naming the file, the dotted key,
the value seen and what is expected. Unknown keys are errors too (a typo must not silently
switch a rule off).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from ichsilent.errors import ConfigError

SUPPORTED_VERSION = 1
DEFAULT_RULES_PATH = Path("config/series_selection.yaml")  # relative to the working directory


class UnknownKernelPolicy(enum.StrEnum):
    ALLOW = "allow"  # eligible, ranked below soft-tissue kernels
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class ImageTypeRules:
    required: tuple[str, ...]
    localizer: tuple[str, ...]
    derived: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ThicknessRules:
    allowed: tuple[float, float]
    preferred: tuple[float, float]
    target: float


@dataclass(frozen=True, slots=True)
class OrientationRules:
    axial_tolerance_deg: float
    max_gantry_tilt_deg: float


@dataclass(frozen=True, slots=True)
class KernelRules:
    soft_tissue: tuple[re.Pattern[str], ...]
    excluded: tuple[re.Pattern[str], ...]
    unknown: UnknownKernelPolicy


@dataclass(frozen=True, slots=True)
class ContrastRules:
    agent_absent_values: tuple[str, ...]
    fields: tuple[str, ...]
    negation_patterns: tuple[re.Pattern[str], ...]
    description_patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True)
class HeadRules:
    body_parts: tuple[str, ...]
    description_patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True)
class RankingWeights:
    preferred_thickness: float
    thickness_closeness: float
    soft_tissue_kernel: float
    original_primary: float
    coverage: float
    coverage_target_mm: float


@dataclass(frozen=True, slots=True)
class SelectionRules:
    modality: str
    image_type: ImageTypeRules
    slice_thickness_mm: ThicknessRules
    orientation: OrientationRules
    kernel: KernelRules
    contrast: ContrastRules
    min_instances: int
    head: HeadRules
    ranking: RankingWeights
    source: str = "<rules>"


_CONTRAST_FIELDS = ("SeriesDescription", "ProtocolName")


class _Reader:
    """Reads one mapping of the YAML, remembering which keys were used."""

    def __init__(self, data: Any, key: str, source: str) -> None:
        self.source, self.key = source, key
        if not isinstance(data, Mapping):
            self.fail("", data, "a mapping of keys to values")
        self.data: Mapping[str, Any] = data
        self.used: set[str] = set()

    def fail(self, name: str, value: Any, expected: str) -> NoReturn:
        where = ".".join(p for p in (self.key, name) if p) or "<top level>"
        raise ConfigError(
            f"{self.source}: key '{where}' is {value!r}; expected {expected}; "
            f"fix: edit '{where}' in {self.source} (see the comments there)"
        )

    def get(self, name: str) -> Any:
        if name not in self.data:
            self.fail(name, None, "this key to be present")
        self.used.add(name)
        return self.data[name]

    def section(self, name: str) -> _Reader:
        return _Reader(self.get(name), ".".join(p for p in (self.key, name) if p), self.source)

    def number(self, name: str, *, minimum: float = 0.0, integer: bool = False) -> float:
        value = self.get(name)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= minimum
        if ok and integer and not float(value).is_integer():
            ok = False
        if not ok:
            kind = "an integer" if integer else "a number"
            self.fail(name, value, f"{kind} >= {minimum:g}")
        return float(value)

    def range(self, name: str) -> tuple[float, float]:
        value = self.get(name)
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            or not 0 < value[0] <= value[1]
        ):
            self.fail(name, value, "[low, high] numbers with 0 < low <= high")
        return float(value[0]), float(value[1])

    def strings(self, name: str, *, upper: bool = True) -> tuple[str, ...]:
        value = self.get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(name, value, "a list of non-empty strings")
        return tuple(v.strip().upper() if upper else v for v in value)

    def patterns(self, name: str) -> tuple[re.Pattern[str], ...]:
        out = []
        for i, text in enumerate(self.strings(name, upper=False)):
            try:
                out.append(re.compile(text, re.IGNORECASE))
            except re.error as exc:
                self.fail(f"{name}[{i}]", text, f"a valid regular expression ({exc})")
        return tuple(out)

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.get(name)
        if value not in allowed:
            self.fail(name, value, f"one of {', '.join(allowed)}")
        return str(value)

    def done(self) -> None:
        extra = sorted(set(self.data) - self.used)
        if extra:
            self.fail(extra[0], self.data[extra[0]], "no such key (unknown or misspelt)")


def parse_selection_rules(data: Any, source: str = "<rules>") -> SelectionRules:
    """Validate a parsed YAML document into SelectionRules."""
    top = _Reader(data, "", source)
    version = top.get("version")
    if version != SUPPORTED_VERSION:
        top.fail("version", version, f"{SUPPORTED_VERSION}")
    modality = top.get("modality")
    if not isinstance(modality, str) or not modality.strip():
        top.fail("modality", modality, "a DICOM modality code such as CT")

    it = top.section("image_type")
    image_type = ImageTypeRules(
        it.strings("required"), it.strings("localizer"), it.strings("derived")
    )
    it.done()

    th = top.section("slice_thickness_mm")
    thickness = ThicknessRules(th.range("allowed"), th.range("preferred"), th.number("target"))
    th.done()

    o = top.section("orientation")
    orientation = OrientationRules(o.number("axial_tolerance_deg"), o.number("max_gantry_tilt_deg"))
    if not 0 < orientation.axial_tolerance_deg < 45:
        o.fail("axial_tolerance_deg", orientation.axial_tolerance_deg, "a number in (0, 45)")
    if not orientation.max_gantry_tilt_deg < 45:
        o.fail("max_gantry_tilt_deg", orientation.max_gantry_tilt_deg, "a number in [0, 45)")
    o.done()

    k = top.section("kernel")
    policy = UnknownKernelPolicy(k.choice("unknown", tuple(p.value for p in UnknownKernelPolicy)))
    kernel = KernelRules(k.patterns("soft_tissue"), k.patterns("excluded"), policy)
    k.done()

    c = top.section("contrast")
    fields = c.strings("fields", upper=False)
    for name in fields:
        if name not in _CONTRAST_FIELDS:
            c.fail("fields", list(fields), f"a list of {', '.join(_CONTRAST_FIELDS)}")
    contrast = ContrastRules(
        c.strings("agent_absent_values"),
        fields,
        c.patterns("negation_patterns"),
        c.patterns("description_patterns"),
    )
    c.done()

    h = top.section("head")
    head = HeadRules(h.strings("body_parts"), h.patterns("description_patterns"))
    h.done()

    r = top.section("ranking")
    ranking = RankingWeights(
        r.number("preferred_thickness"),
        r.number("thickness_closeness"),
        r.number("soft_tissue_kernel"),
        r.number("original_primary"),
        r.number("coverage"),
        r.number("coverage_target_mm", minimum=1.0),
    )
    r.done()

    rules = SelectionRules(
        modality=modality.strip().upper(),
        image_type=image_type,
        slice_thickness_mm=thickness,
        orientation=orientation,
        kernel=kernel,
        contrast=contrast,
        min_instances=int(top.number("min_instances", minimum=1, integer=True)),
        head=head,
        ranking=ranking,
        source=source,
    )
    top.done()
    return rules


def load_selection_rules(path: str | Path) -> SelectionRules:
    """Read and validate a series-selection YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{p}: cannot be read ({exc}); expected the series-selection rules YAML; "
            "fix: point to config/series_selection.yaml or a copy of it"
        ) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{p}: is not valid YAML ({exc}); expected the series-selection rules; "
            "fix: correct the YAML syntax at the position shown"
        ) from exc
    return parse_selection_rules(data, str(p))
