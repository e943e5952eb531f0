"""The hospital's CT fleet: vendors, models, kernels, noise and how each stores pixels.

Each site has its own scanners. A :class:`ScannerProfile` wraps the imaging parameters the
renderer needs (:class:`~ichsilent.simulate.spec.ScannerSpec`) with what the DICOM writer
needs (software version, pixel storage, transfer syntax). Profiles are looked up by model
name, so a ``StudySpec`` only has to carry its ``ScannerSpec``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.uid import UID, JPEG2000Lossless, RLELossless

from ichsilent.errors import SimulationError
from ichsilent.simulate.spec import ScannerSpec


@dataclass(frozen=True, slots=True)
class ScannerProfile:
    """A scanner model as the PACS sees it."""

    spec: ScannerSpec
    software_versions: str
    pixel_representation: int  # 1: signed int16; 0: unsigned with intercept -1024
    compressed_syntax: UID | None = None  # transfer syntax some studies arrive in
    compressed_probability: float = 0.0  # share of studies stored with it
    thin_kernel: str = ""  # kernel of the thin-slice series (defaults to soft kernel)


def _profile(
    manufacturer: str,
    model: str,
    soft: str,
    bone: str,
    *,
    noise: float,
    sharpness: float,
    kvp: float,
    mas: float,
    software: str,
    pixel_representation: int,
    beam_hardening: float = 0.2,
    syntax: UID | None = None,
    probability: float = 0.0,
) -> ScannerProfile:
    spec = ScannerSpec(
        manufacturer=manufacturer,
        model=model,
        station="",
        soft_kernel=soft,
        bone_kernel=bone,
        noise_hu=noise,
        sharpness=sharpness,
        kvp=kvp,
        mas=mas,
        beam_hardening=beam_hardening,
    )
    return ScannerProfile(spec, software, pixel_representation, syntax, probability)


PROFILES: dict[str, ScannerProfile] = {
    p.spec.model: p
    for p in (
        _profile(
            "SIEMENS", "SOMATOM Definition AS", "H30s", "H70h",
            noise=4.0, sharpness=0.5, kvp=120, mas=320, software="syngo CT VA48A",
            pixel_representation=0, syntax=RLELossless, probability=0.3,
        ),
        _profile(
            "SIEMENS", "SOMATOM Force", "Hr38\\3", "Hr68\\3",
            noise=3.0, sharpness=0.6, kvp=120, mas=280, software="syngo CT VB20A",
            pixel_representation=0, beam_hardening=0.1,
        ),
        _profile(
            "GE MEDICAL SYSTEMS", "Revolution CT", "STANDARD", "BONEPLUS",
            noise=3.5, sharpness=0.4, kvp=120, mas=300, software="revo_ct_22mw.40",
            pixel_representation=1, beam_hardening=0.15,
        ),
        _profile(
            "GE MEDICAL SYSTEMS", "LightSpeed VCT", "STANDARD", "BONE",
            noise=5.0, sharpness=0.35, kvp=120, mas=340, software="LightSpeedverrel",
            pixel_representation=1, beam_hardening=0.35,
        ),
        _profile(
            "TOSHIBA", "Aquilion", "FC21", "FC30",
            noise=4.5, sharpness=0.45, kvp=120, mas=300, software="V4.86ER011",
            pixel_representation=1, beam_hardening=0.3, syntax=JPEG2000Lossless, probability=0.1,
        ),
        _profile(
            "Philips", "Brilliance 64", "UB", "YC",
            noise=4.2, sharpness=0.55, kvp=120, mas=310, software="4.1.6",
            pixel_representation=0, beam_hardening=0.25,
        ),
        # The newcomer of the scanner-change scenario: noisier, smoother kernel, other vendor.
        _profile(
            "Canon Medical Systems", "Aquilion ONE PRISM", "FC26", "FC81",
            noise=8.0, sharpness=0.2, kvp=100, mas=220, software="V10.12ER003",
            pixel_representation=1, beam_hardening=0.1,
        ),
    )
}  # fmt: skip

REPLACEMENT_MODEL = "Aquilion ONE PRISM"


@dataclass(frozen=True, slots=True)
class Site:
    """One hospital site: institution name and its scanners with their share of studies."""

    code: str
    institution: str
    scanners: tuple[tuple[str, str, float], ...]  # (model, station name, weight)


SITES: tuple[Site, ...] = (
    Site(
        "NORTH",
        "Synthetic General Hospital North",
        (
            ("SOMATOM Definition AS", "CTNORTH1", 0.5),
            ("Revolution CT", "CTNORTH2", 0.5),
        ),
    ),
    Site(
        "SOUTH",
        "Synthetic General Hospital South",
        (
            ("LightSpeed VCT", "CTSOUTH1", 0.6),
            ("Aquilion", "CTSOUTH2", 0.4),
        ),
    ),
    Site(
        "EAST",
        "Synthetic Community Hospital East",
        (
            ("SOMATOM Force", "CTEAST1", 0.6),
            ("Brilliance 64", "CTEAST2", 0.4),
        ),
    ),
)
SITE_WEIGHTS: tuple[float, ...] = (0.5, 0.3, 0.2)
# Station replaced on the scanner-change day (the busiest ED scanner).
REPLACED_STATION = "CTNORTH1"


def profile_for(spec: ScannerSpec) -> ScannerProfile:
    """The fleet profile of a scanner spec (by model name)."""
    try:
        return PROFILES[spec.model]
    except KeyError:
        raise SimulationError(
            f"scanner model {spec.model!r} is not in the fleet; expected one of {sorted(PROFILES)}"
        ) from None


def site_by_code(code: str) -> Site:
    for site in SITES:
        if site.code == code:
            return site
    raise SimulationError(f"site {code!r} unknown; expected one of {[s.code for s in SITES]}")


def sample_site(rng: np.random.Generator) -> Site:
    return SITES[int(rng.choice(len(SITES), p=np.asarray(SITE_WEIGHTS)))]


def sample_scanner(
    rng: np.random.Generator, site: Site, *, scanner_changed: bool = False
) -> ScannerSpec:
    """A scanner of ``site``; after a scanner change the replaced station runs the new model."""
    weights = np.asarray([w for _, _, w in site.scanners], dtype=float)
    model, station, _ = site.scanners[int(rng.choice(len(weights), p=weights / weights.sum()))]
    if scanner_changed and station == REPLACED_STATION:
        model = REPLACEMENT_MODEL
    base = PROFILES[model].spec
    return ScannerSpec(
        manufacturer=base.manufacturer,
        model=base.model,
        station=station,
        soft_kernel=base.soft_kernel,
        bone_kernel=base.bone_kernel,
        noise_hu=base.noise_hu,
        sharpness=base.sharpness,
        kvp=base.kvp,
        mas=base.mas,
        slice_thickness_mm=base.slice_thickness_mm,
        beam_hardening=base.beam_hardening,
    )
