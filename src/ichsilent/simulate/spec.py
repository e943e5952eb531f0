"""Records that describe one synthetic study: the contract between the population
sampler (who is scanned, on what, with which findings) and the image renderer
(what the scanner produces). All frozen; all drawn from a seeded numpy Generator.

Coordinates: millimetres in the DICOM patient frame (LPS: +x patient left, +y posterior,
+z superior), origin at the centre of the head.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ichsilent.domain import PatientClass, Sex, Subtype


class BleedStage(enum.StrEnum):
    ACUTE = "acute"  # 50-90 HU
    SUBACUTE = "subacute"  # near-isodense to grey matter (~30-45 HU)
    CHRONIC = "chronic"  # hypodense (~0-20 HU)
    ACUTE_ON_CHRONIC = "acute_on_chronic"  # mixed: hypodense with a hyperdense part


class BleedSize(enum.StrEnum):
    TRACE = "trace"  # a few mm: hard to see, sometimes missed in the report
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"  # mass effect and midline shift


class MimicKind(enum.StrEnum):
    PINEAL_CALCIFICATION = "pineal_calcification"
    CHOROID_PLEXUS_CALCIFICATION = "choroid_plexus_calcification"
    BASAL_GANGLIA_CALCIFICATION = "basal_ganglia_calcification"
    DURAL_CALCIFICATION = "dural_calcification"


class Artefact(enum.StrEnum):
    BEAM_HARDENING = "beam_hardening"
    MOTION = "motion"
    METAL = "metal"
    POST_OPERATIVE = "post_operative"  # craniotomy defect + pneumocephalus


class SeriesKind(enum.StrEnum):
    LOCALIZER = "localizer"
    AXIAL_SOFT = "axial_soft"  # 5 mm soft tissue: the series a model should read
    AXIAL_BONE = "axial_bone"
    AXIAL_THIN = "axial_thin"
    REFORMAT = "reformat"  # DERIVED\SECONDARY coronal / sagittal
    CONTRAST = "contrast"  # post-contrast axial


@dataclass(frozen=True, slots=True)
class ScannerSpec:
    """One scanner of the fleet and how it images."""

    manufacturer: str
    model: str
    station: str
    soft_kernel: str  # e.g. "H30s", "FC21", "STANDARD"
    bone_kernel: str  # e.g. "H70h", "FC30", "BONE"
    noise_hu: float  # std of quantum noise in water at the reference dose
    sharpness: float  # 0 (smooth) .. 1 (sharp): scales the soft-kernel blur
    kvp: float
    mas: float
    slice_thickness_mm: float = 5.0
    beam_hardening: float = 0.0  # 0..1: strength of streaks between dense structures


@dataclass(frozen=True, slots=True)
class HeadSpec:
    """Per-patient anatomy parameters."""

    scale: float = 1.0  # overall head size
    aspect: float = 1.0  # AP length / LR width shape factor
    offset_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)  # position in the gantry
    rotation_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)  # roll, pitch, yaw
    atrophy: float = 0.0  # 0 (young) .. 1 (marked): widens sulci and ventricles


@dataclass(frozen=True, slots=True)
class HemorrhageSpec:
    """One bleed: where, how big, how old. The renderer keeps its voxel mask."""

    subtype: Subtype
    stage: BleedStage
    size: BleedSize
    location: str  # e.g. "left frontal convexity", "right basal ganglia", "occipital horns"
    side: str  # "left" | "right" | "midline" | "bilateral"
    center_mm: tuple[float, float, float]
    extent_mm: tuple[float, float, float]
    density_hu: float
    with_fracture: bool = False  # epidural: a skull fracture above it
    # added for the renderer (defaults keep old callers valid):
    thickness_mm: float = 0.0  # extra-axial collections: maximal thickness (0: from extent)
    midline_shift_mm: float = 0.0  # mass effect: shift of falx/ventricles away from the bleed


@dataclass(frozen=True, slots=True)
class MimicSpec:
    kind: MimicKind
    center_mm: tuple[float, float, float]
    radius_mm: float
    density_hu: float


@dataclass(frozen=True, slots=True)
class SeriesPlan:
    kind: SeriesKind
    slice_thickness_mm: float
    kernel: str
    rows: int
    columns: int
    gantry_tilt_deg: float = 0.0
    # added for the renderer (defaults keep old callers valid):
    field_of_view_mm: float = 240.0  # reconstruction diameter (square FOV)
    n_slices: int = 0  # 0: enough slices to cover skull base to vertex


@dataclass(frozen=True, slots=True)
class StudySpec:
    """Everything true about one synthetic study (the simulator's ground truth)."""

    study_uid: str
    accession: str
    patient_id: str
    patient_name: str
    birth_date: str  # YYYYMMDD
    sex: Sex
    age_years: int
    patient_class: PatientClass
    site: str
    study_datetime: str  # ISO 8601
    body_part: str  # "HEAD" for head CT; "CHEST" etc. for out-of-scope studies
    scanner: ScannerSpec
    head: HeadSpec
    hemorrhages: tuple[HemorrhageSpec, ...] = ()
    mimics: tuple[MimicSpec, ...] = ()
    artefacts: tuple[Artefact, ...] = ()
    series: tuple[SeriesPlan, ...] = ()
    scenario: str = "baseline"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def acute_subtypes(self) -> frozenset[Subtype]:
        """Subtypes with acute or subacute blood: what the truth labels call present."""
        return frozenset(h.subtype for h in self.hemorrhages if h.stage != BleedStage.CHRONIC)

    @property
    def chronic_only(self) -> bool:
        return bool(self.hemorrhages) and all(
            h.stage == BleedStage.CHRONIC for h in self.hemorrhages
        )
