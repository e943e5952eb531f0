"""Image check: do the pixels look like a head CT?

Measured on the central third of the stack (where the skull is a closed ring):

* ``tissue_fraction``: voxels above -500 HU in the whole volume (an all-air series fails);
* ``ring_coverage``: share of 36 angular sectors around the head centroid holding bone
  (>= 300 HU) — the skull surrounds the brain, ribs and pelvis leave wide gaps;
* ``brain_fraction``: share of the bone-enclosed region in the brain range 0-80 HU;
* ``cavity_area_cm2``: area of the bone-enclosed region (too small: no cranial cavity; too
  large: a trunk);
* ``tissue_area_cm2``: cross-section of tissue above -300 HU (a head is smaller than a trunk).

A failure raises (via :func:`require_head_ct`) IMAGE_CHECK_FAILED with every number.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ichsilent.domain import QuarantineReason
from ichsilent.errors import DicomInputError
from ichsilent.imaging.masks import HeadMasks, central_slices, head_masks, ring_coverage

log = logging.getLogger(__name__)

BRAIN_RANGE_HU = (0, 80)


@dataclass(frozen=True, slots=True)
class QcThresholds:
    """Limits of the head-CT image check."""

    min_tissue_fraction: float = 0.01
    min_ring_coverage: float = 0.75
    min_brain_fraction: float = 0.6
    min_cavity_area_cm2: float = 20.0
    max_cavity_area_cm2: float = 300.0
    max_tissue_area_cm2: float = 450.0


@dataclass(frozen=True, slots=True)
class QcResult:
    """Measured numbers and the verdict of the image check."""

    tissue_fraction: float
    ring_coverage: float
    brain_fraction: float
    cavity_area_cm2: float
    tissue_area_cm2: float
    central_slices: tuple[int, ...]
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        return (
            f"tissue_fraction={self.tissue_fraction:.3f}, "
            f"ring_coverage={self.ring_coverage:.2f}, "
            f"brain_fraction={self.brain_fraction:.2f}, "
            f"cavity_area_cm2={self.cavity_area_cm2:.1f}, "
            f"tissue_area_cm2={self.tissue_area_cm2:.1f} "
            f"(central slices {self.central_slices[0]}-{self.central_slices[-1]})"
        )


def check_head_ct(
    hu: NDArray[np.int16],
    pixel_spacing: tuple[float, float],
    *,
    masks: HeadMasks | None = None,
    thresholds: QcThresholds | None = None,
) -> QcResult:
    """Measure the head-CT image check on an HU volume (z, y, x)."""
    t = thresholds or QcThresholds()
    m = masks or head_masks(hu, pixel_spacing)
    sub = m.subsample(hu)
    tissue_fraction = float(np.count_nonzero(sub > -500)) / max(1, sub.size)
    idx = central_slices(sub.shape[0])
    rings, brain, cavity, tissue = [], [], [], []
    lo, hi = BRAIN_RANGE_HU
    for k in idx:
        enclosed = m.enclosed[k]
        n_enclosed = int(np.count_nonzero(enclosed))
        rings.append(ring_coverage(m.bone[k], m.tissue[k]))
        if n_enclosed:
            values = sub[k][enclosed]
            brain.append(float(np.count_nonzero((values >= lo) & (values <= hi))) / n_enclosed)
        else:
            brain.append(0.0)
        cavity.append(n_enclosed * m.pixel_area_mm2 / 100.0)
        tissue.append(float(np.count_nonzero(m.tissue[k])) * m.pixel_area_mm2 / 100.0)
    result = {
        "tissue_fraction": tissue_fraction,
        "ring_coverage": float(np.median(rings)),
        "brain_fraction": float(np.median(brain)),
        "cavity_area_cm2": float(np.median(cavity)),
        "tissue_area_cm2": float(np.median(tissue)),
    }
    failures = []
    if result["tissue_fraction"] < t.min_tissue_fraction:
        failures.append(f"tissue_fraction < {t.min_tissue_fraction:g} (no patient in the images)")
    if result["ring_coverage"] < t.min_ring_coverage:
        failures.append(f"ring_coverage < {t.min_ring_coverage:g} (no closed skull)")
    if result["brain_fraction"] < t.min_brain_fraction:
        failures.append(f"brain_fraction < {t.min_brain_fraction:g} (no brain inside the bone)")
    if not t.min_cavity_area_cm2 <= result["cavity_area_cm2"] <= t.max_cavity_area_cm2:
        failures.append(
            f"cavity_area_cm2 outside {t.min_cavity_area_cm2:g}-{t.max_cavity_area_cm2:g}"
        )
    if result["tissue_area_cm2"] > t.max_tissue_area_cm2:
        failures.append(f"tissue_area_cm2 > {t.max_tissue_area_cm2:g} (a trunk, not a head)")
    return QcResult(
        tissue_fraction=result["tissue_fraction"],
        ring_coverage=result["ring_coverage"],
        brain_fraction=result["brain_fraction"],
        cavity_area_cm2=result["cavity_area_cm2"],
        tissue_area_cm2=result["tissue_area_cm2"],
        central_slices=tuple(int(i) for i in idx),
        failures=tuple(failures),
    )


def require_head_ct(
    hu: NDArray[np.int16],
    pixel_spacing: tuple[float, float],
    *,
    masks: HeadMasks | None = None,
    thresholds: QcThresholds | None = None,
    series_uid: str = "?",
) -> QcResult:
    """check_head_ct, raising IMAGE_CHECK_FAILED (with every number) when it fails."""
    result = check_head_ct(hu, pixel_spacing, masks=masks, thresholds=thresholds)
    if not result.passed:
        raise DicomInputError(
            QuarantineReason.IMAGE_CHECK_FAILED,
            f"pixels of series SeriesInstanceUID {series_uid} do not look like a head CT: "
            f"{'; '.join(result.failures)}; measured {result.summary()}; expected a skull ring "
            "around brain-range tissue; fix: check that the selected series is the "
            "non-contrast head CT (body part, series selection rules)",
        )
    log.debug("head-CT image check passed: %s", result.summary())
    return result
