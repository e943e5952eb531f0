"""Which series a study has: the scanner's head protocol plus the site's habits.

Every head CT has a localizer and a 5 mm soft-tissue axial (the series a model should
read); most have a bone-kernel axial; some add a thin-slice axial, a coronal reformat
(DERIVED) or a post-contrast series; a few are contrast-only. Chest / abdomen studies get a
localizer and one body-kernel axial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ichsilent.errors import SimulationError
from ichsilent.simulate.fleet import profile_for
from ichsilent.simulate.options import SimulationOptions
from ichsilent.simulate.scenarios import PROTOCOL_KERNEL_SUFFIX, PROTOCOL_SOFT_THICKNESS_MM
from ichsilent.simulate.spec import ScannerSpec, SeriesKind, SeriesPlan

THIN_MM = 1.25
REFORMAT_MM = 3.0
LOCALIZER_MM = 1.0
TILTING_MODELS = {"LightSpeed VCT": 0.4, "Aquilion": 0.15}  # model -> share of tilted studies
BODY_KERNELS = {"SIEMENS": "B30f", "GE MEDICAL SYSTEMS": "STANDARD", "Philips": "B"}


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """How a planned series is labelled in DICOM."""

    number: int
    description: str
    protocol: str
    image_type: tuple[str, ...]


def plan_series(
    rng: np.random.Generator,
    options: SimulationOptions,
    scanner: ScannerSpec,
    *,
    body_part: str = "HEAD",
    contrast_only: bool = False,
    protocol_changed: bool = False,
) -> tuple[SeriesPlan, ...]:
    """The ordered series of one study (the order is the series number order)."""
    n = options.matrix
    tilt = 0.0
    if rng.random() < TILTING_MODELS.get(scanner.model, 0.0):
        tilt = round(float(rng.uniform(8.0, 20.0)), 1)
    plans = [SeriesPlan(SeriesKind.LOCALIZER, LOCALIZER_MM, scanner.soft_kernel, n, n)]
    if body_part != "HEAD":
        kernel = BODY_KERNELS.get(scanner.manufacturer, scanner.soft_kernel)
        plans.append(SeriesPlan(SeriesKind.AXIAL_SOFT, 5.0, kernel, n, n))
        return tuple(plans)
    soft_kernel, thickness = scanner.soft_kernel, scanner.slice_thickness_mm
    if protocol_changed:
        soft_kernel, thickness = soft_kernel + PROTOCOL_KERNEL_SUFFIX, PROTOCOL_SOFT_THICKNESS_MM
    if contrast_only:
        plans.append(SeriesPlan(SeriesKind.CONTRAST, thickness, soft_kernel, n, n, tilt))
        return tuple(plans)
    plans.append(SeriesPlan(SeriesKind.AXIAL_SOFT, thickness, soft_kernel, n, n, tilt))
    if rng.random() < options.bone_probability:
        plans.append(SeriesPlan(SeriesKind.AXIAL_BONE, thickness, scanner.bone_kernel, n, n, tilt))
    if rng.random() < options.thin_probability:
        kernel = profile_for(scanner).thin_kernel or scanner.soft_kernel
        plans.append(SeriesPlan(SeriesKind.AXIAL_THIN, THIN_MM, kernel, n, n))
    if rng.random() < options.reformat_probability:
        plans.append(SeriesPlan(SeriesKind.REFORMAT, REFORMAT_MM, soft_kernel, n, n))
    if rng.random() < options.contrast_probability:
        plans.append(SeriesPlan(SeriesKind.CONTRAST, thickness, soft_kernel, n, n, tilt))
    return tuple(plans)


def series_info(plan: SeriesPlan, position: int, body_part: str = "HEAD") -> SeriesInfo:
    """Series number, description, protocol name and ImageType of a planned series."""
    number = position + 1
    region = "HEAD" if body_part == "HEAD" else body_part
    protocol = f"{region} ROUTINE" if plan.kind != SeriesKind.CONTRAST else f"{region} W CONTRAST"
    mm = f"{plan.slice_thickness_mm:g}"
    match plan.kind:
        case SeriesKind.LOCALIZER:
            return SeriesInfo(
                number, "Topogram 0.6 T20s", protocol, ("ORIGINAL", "PRIMARY", "LOCALIZER")
            )
        case SeriesKind.AXIAL_SOFT:
            return SeriesInfo(
                number, f"{region} {mm}mm {plan.kernel} AXIAL", protocol,
                ("ORIGINAL", "PRIMARY", "AXIAL"),
            )  # fmt: skip
        case SeriesKind.AXIAL_BONE:
            return SeriesInfo(
                number, f"{region} BONE {mm}mm {plan.kernel}", protocol,
                ("ORIGINAL", "PRIMARY", "AXIAL"),
            )  # fmt: skip
        case SeriesKind.AXIAL_THIN:
            return SeriesInfo(
                number, f"{region} THIN {mm}mm {plan.kernel}", protocol,
                ("ORIGINAL", "PRIMARY", "AXIAL"),
            )  # fmt: skip
        case SeriesKind.REFORMAT:
            return SeriesInfo(
                number, f"COR {mm}mm MPR", protocol, ("DERIVED", "SECONDARY", "REFORMATTED")
            )
        case SeriesKind.CONTRAST:
            return SeriesInfo(
                number, f"{region} POST CONTRAST {mm}mm", protocol,
                ("ORIGINAL", "PRIMARY", "AXIAL"),
            )  # fmt: skip
    raise SimulationError(
        f"series kind {plan.kind!r} has no DICOM labelling; expected a SeriesKind"
    )
