"""Knobs of one simulated hospital run (everything a study needs besides its index)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ichsilent.errors import SimulationError
from ichsilent.simulate.scenarios import ScenarioSet

DEFAULT_START = date(2025, 1, 6)  # fixed, so the same seed gives the same files


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    seed: int = 0
    studies_per_day: int = 20
    start: date = DEFAULT_START
    matrix: int = 512
    scenarios: ScenarioSet = field(default_factory=ScenarioSet)
    prevalence: float | None = None  # overrides the per-setting prevalence of acute ICH
    # Series mix (per head CT).
    bone_probability: float = 0.9
    thin_probability: float = 0.05  # thin slices are ~4x the pixels of the 5 mm series
    reformat_probability: float = 0.2
    contrast_probability: float = 0.04  # a post-contrast series after the plain one
    contrast_only_probability: float = 0.01  # a study with only contrast (not eligible)
    out_of_scope_probability: float = 0.04  # chest / abdomen CT arriving on the same feed
    # Storage.
    compression: bool = True  # some scanners send RLE / JPEG 2000 lossless
    # Reference standard (reports).
    miss_trace_probability: float = 0.35  # a trace bleed left out of the final report
    addendum_probability: float = 0.5  # a missed bleed later corrected (status C)
    preliminary_probability: float = 0.6  # a preliminary (P) report before the final

    def __post_init__(self) -> None:
        if self.studies_per_day < 1:
            raise SimulationError(
                f"studies_per_day is {self.studies_per_day}; expected an integer >= 1"
            )
        if not 16 <= self.matrix <= 1024:
            raise SimulationError(f"matrix is {self.matrix}; expected 16..1024 (default 512)")
        if self.prevalence is not None and not 0.0 <= self.prevalence <= 1.0:
            raise SimulationError(f"prevalence is {self.prevalence}; expected 0..1 (e.g. 0.06)")
        for name in (
            "bone_probability",
            "thin_probability",
            "reformat_probability",
            "contrast_probability",
            "contrast_only_probability",
            "out_of_scope_probability",
            "miss_trace_probability",
            "addendum_probability",
            "preliminary_probability",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SimulationError(f"{name} is {value}; expected a probability 0..1")
