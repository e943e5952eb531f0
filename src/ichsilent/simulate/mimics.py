"""Hemorrhage mimics: physiological calcifications, more frequent with age.

Centres are in the head frame at scale 1 (the renderer multiplies by HeadSpec.scale).
"""

from __future__ import annotations

import numpy as np

from ichsilent.simulate.anatomy import Tissue
from ichsilent.simulate.render_grid import F32, Grid, ellipsoid_q
from ichsilent.simulate.spec import MimicKind, MimicSpec


def _p(age: float, young: float, old: float) -> float:
    """Prevalence rising linearly from age 20 (young) to age 80 (old)."""
    f = float(np.clip((age - 20.0) / 60.0, 0.0, 1.0))
    return young + (old - young) * f


def sample_mimics(rng: np.random.Generator, age_years: int) -> tuple[MimicSpec, ...]:
    """Calcifications a radiologist would call physiological (pineal, choroid, BG, dural)."""
    age = float(age_years)
    out: list[MimicSpec] = []
    if age >= 8 and rng.random() < _p(age, 0.25, 0.75):
        out.append(
            MimicSpec(
                MimicKind.PINEAL_CALCIFICATION,
                (0.0, 22.0, 0.0),
                float(rng.uniform(1.5, 4.0)),
                float(rng.uniform(150, 450)),
            )
        )
    if age >= 15 and rng.random() < _p(age, 0.15, 0.7):
        r, hu = float(rng.uniform(1.5, 4.0)), float(rng.uniform(120, 350))
        for side in (-1.0, 1.0):
            out.append(
                MimicSpec(MimicKind.CHOROID_PLEXUS_CALCIFICATION, (side * 18.0, 31.0, 8.0), r, hu)
            )
    if rng.random() < _p(age, 0.01, 0.12):
        r, hu = float(rng.uniform(1.5, 3.5)), float(rng.uniform(100, 260))
        for side in (-1.0, 1.0):
            out.append(
                MimicSpec(MimicKind.BASAL_GANGLIA_CALCIFICATION, (side * 17.0, -1.0, 0.0), r, hu)
            )
    if rng.random() < _p(age, 0.03, 0.25):
        out.append(
            MimicSpec(
                MimicKind.DURAL_CALCIFICATION,
                (0.0, float(rng.uniform(-45, 35)), float(rng.uniform(30, 60))),
                float(rng.uniform(2.0, 6.0)),
                float(rng.uniform(250, 800)),
            )
        )
    return tuple(out)


def paint_mimic(grid: Grid, t: Tissue, m: MimicSpec) -> np.ndarray:
    """Paint one calcification (dural ones are plaques on the falx); return its mask."""
    s = t.scale
    c = (
        m.center_mm[0] * s + t.shift_mm * float(np.exp(-((m.center_mm[0] * s) ** 2) / 800.0)),
        m.center_mm[1] * s,
        m.center_mm[2] * s,
    )
    semi = (m.radius_mm,) * 3
    if m.kind == MimicKind.DURAL_CALCIFICATION:
        semi = (0.9, m.radius_mm * 2.0, m.radius_mm)
    # never thinner than the sampling, or a small calcification can fall between samples
    lo = 0.55 * max(grid.step, grid.sub_step)
    semi = (max(semi[0], lo), max(semi[1], lo), max(semi[2], lo))
    out = np.zeros(grid.shape, dtype=bool)
    sl = grid.roi(c, max(semi) + 1.0)
    if sl is None:
        return out
    inside = ellipsoid_q(grid, sl, c, semi) < 1
    t.hu[sl][inside] = F32(m.density_hu)
    out[sl] = inside
    return out
