"""One small simulated hospital shared by the simulate tests (64 x 64, a dozen studies)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ichsilent.simulate.hospital import simulate

RUN_KWARGS: dict[str, Any] = {
    "days": 2,
    "studies_per_day": 6,
    "seed": 7,
    "matrix": 64,
    "scenarios": ["scanner-change@1"],
    "prevalence": 0.5,
    "rsna_format": True,
    "workers": 1,
    "thin_probability": 0.2,
    "reformat_probability": 0.3,
    "out_of_scope_probability": 0.1,
    "miss_trace_probability": 0.5,
}


@pytest.fixture(scope="session")
def hospital_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("hospital")
    summary = simulate(out, **RUN_KWARGS)
    return out, summary
