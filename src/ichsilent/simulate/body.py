"""A crude chest / abdomen phantom for the out-of-scope studies on the same feed.

It only has to look like "not a head" to series selection and QC: an elliptical trunk with
a fat rim, two lungs (chest) or bowel gas (abdomen), a vertebral body and quantum noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ichsilent.domain import Subtype
from ichsilent.simulate.spec import SeriesKind, SeriesPlan, StudySpec

FOV_MM = 400.0
N_SLICES = 32


@dataclass(frozen=True, slots=True)
class RenderedBody:
    hu: np.ndarray
    image_position_mm: np.ndarray
    image_orientation: tuple[float, ...]
    pixel_spacing_mm: tuple[float, float]
    slice_thickness_mm: float
    masks: dict[Subtype, np.ndarray] = field(default_factory=dict)


def _section(n: int, body_part: str) -> np.ndarray:
    c = (np.arange(n, dtype=np.float32) - (n - 1) / 2) * (FOV_MM / n)
    y, x = np.meshgrid(c, c, indexing="ij")
    img = np.full((n, n), -1000.0, dtype=np.float32)
    trunk = (x / 170) ** 2 + (y / 120) ** 2
    img[trunk < 1.0] = -100.0  # fat
    img[trunk < 0.8] = 40.0  # soft tissue
    if body_part == "CHEST":
        for side in (-1, 1):
            img[((x - side * 75) / 60) ** 2 + ((y + 5) / 85) ** 2 < 1.0] = -850.0
    else:
        img[((x - 40) / 35) ** 2 + ((y + 30) / 20) ** 2 < 1.0] = -900.0
    img[(x / 22) ** 2 + ((y - 70) / 22) ** 2 < 1.0] = 700.0  # vertebral body
    return img


def render_body(spec: StudySpec, plan: SeriesPlan, rng: np.random.Generator) -> RenderedBody:
    n = plan.rows
    base = _section(n, spec.body_part)
    count = 1 if plan.kind == SeriesKind.LOCALIZER else N_SLICES
    noise = rng.normal(0.0, spec.scanner.noise_hu * 3, size=(count, n, n)).astype(np.float32)
    hu = np.rint(base[None] + noise).astype(np.int16)
    spacing = FOV_MM / n
    z = -np.arange(count, dtype=float) * plan.slice_thickness_mm
    corner = -(n - 1) / 2 * spacing
    positions = np.stack([np.full(count, corner), np.full(count, corner), z], axis=1)
    return RenderedBody(
        hu=hu,
        image_position_mm=positions,
        image_orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
        pixel_spacing_mm=(spacing, spacing),
        slice_thickness_mm=plan.slice_thickness_mm,
    )
