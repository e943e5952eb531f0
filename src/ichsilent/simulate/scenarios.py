"""Drift scenarios: named changes to the hospital that start on a given day.

``--scenario NAME@DAY`` (DAY = day index from the start date, default 0). Each study
affected by a scenario carries the scenario's name in its truth record ("baseline" when
none applies; several names are joined with "+").
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from ichsilent.errors import SimulationError


class ScenarioName(enum.StrEnum):
    SCANNER_CHANGE = "scanner-change"  # a new vendor/model replaces one station
    PROTOCOL_CHANGE = "protocol-change"  # thinner soft-tissue slices and another kernel
    POPULATION_SHIFT = "population-shift"  # older, more inpatients and post-operative
    PREVALENCE_SHIFT = "prevalence-shift"  # more acute bleeds
    PACS_OUTAGE = "pacs-outage"  # no arrivals for a day, then a burst
    REPORT_DELAY = "report-delay"  # final reports many hours late


BASELINE = "baseline"
OUTAGE_DAYS = 1.0  # how long the PACS is down
PROTOCOL_SOFT_THICKNESS_MM = 3.0
PROTOCOL_KERNEL_SUFFIX = "_SHARP"
PREVALENCE_FACTOR = 2.5
REPORT_DELAY_HOURS = (18.0, 48.0)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: ScenarioName
    day: int

    def active(self, day: float) -> bool:
        """True for studies acquired on or after the scenario's start day."""
        if self.name == ScenarioName.PACS_OUTAGE:
            return self.day <= day < self.day + OUTAGE_DAYS
        return day >= self.day


def parse_scenario(text: str) -> Scenario:
    """``NAME`` or ``NAME@DAY``."""
    name, _, day_text = text.strip().partition("@")
    valid = [s.value for s in ScenarioName]
    try:
        scenario_name = ScenarioName(name.strip().lower())
    except ValueError:
        raise SimulationError(
            f"unknown scenario {name!r} in --scenario {text!r}; expected one of {valid} "
            "optionally followed by @DAY (day index from --start)"
        ) from None
    day = 0
    if day_text:
        try:
            day = int(day_text)
        except ValueError:
            raise SimulationError(
                f"scenario day {day_text!r} in --scenario {text!r} is not an integer; "
                "expected NAME@DAY with DAY a day index from --start (0, 1, 2, ...)"
            ) from None
        if day < 0:
            raise SimulationError(f"scenario day {day} in {text!r} is negative; expected >= 0")
    return Scenario(scenario_name, day)


@dataclass(frozen=True, slots=True)
class ScenarioSet:
    """All scenarios of one run; queried per study by its (fractional) day index."""

    scenarios: tuple[Scenario, ...] = ()

    @classmethod
    def parse(cls, texts: Iterable[str]) -> ScenarioSet:
        return cls(tuple(parse_scenario(t) for t in texts))

    def active(self, day: float) -> frozenset[ScenarioName]:
        return frozenset(s.name for s in self.scenarios if s.active(day))

    def label(self, day: float) -> str:
        names = sorted(n.value for n in self.active(day))
        return "+".join(names) if names else BASELINE

    def outage_end(self, day: float) -> float | None:
        """Day index at which the PACS comes back, if ``day`` falls in an outage."""
        for s in self.scenarios:
            if s.name == ScenarioName.PACS_OUTAGE and s.active(day):
                return s.day + OUTAGE_DAYS
        return None
