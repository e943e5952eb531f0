"""Declarative series selection: which series of a head CT study the model reads.

Rules come from ``config/series_selection.yaml`` (see
:mod:`ichsilent.ingest.selection_rules`). Every series gets every check; the first failing
check (in :class:`SeriesRejection` order) is its reason, all of them are kept with a detail
naming the DICOM tag and the value. Eligible series are ranked; the best one is chosen.
When none qualifies the study gets a :class:`~ichsilent.domain.QuarantineReason`:
NOT_CT (no CT series at all), CONTRAST_ONLY (every axial original CT series is
contrast-enhanced), TOO_FEW_SLICES (a series fails only on its instance count), else
NO_ELIGIBLE_SERIES.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ichsilent.domain import QuarantineReason
from ichsilent.imaging.geometry import plane_angles
from ichsilent.ingest.metadata import SeriesCandidate, StudyAttributes
from ichsilent.ingest.selection_rules import SelectionRules, UnknownKernelPolicy

log = logging.getLogger(__name__)


class SeriesRejection(enum.StrEnum):
    """Why one series was not eligible (declaration order = precedence)."""

    NOT_CT = "not_ct"
    LOCALIZER = "localizer"
    DERIVED = "derived"
    IMAGE_TYPE_MISMATCH = "image_type_mismatch"
    MISSING_ATTRIBUTE = "missing_attribute"
    NOT_AXIAL = "not_axial"
    TILT_TOO_LARGE = "tilt_too_large"
    CONTRAST = "contrast"
    BONE_KERNEL = "bone_kernel"
    UNKNOWN_KERNEL = "unknown_kernel"
    TOO_THIN = "too_thin"
    TOO_THICK = "too_thick"
    TOO_FEW_INSTANCES = "too_few_instances"


_ORDER = {r: i for i, r in enumerate(SeriesRejection)}
_NOT_IMAGES = {SeriesRejection.NOT_CT, SeriesRejection.LOCALIZER, SeriesRejection.DERIVED}


@dataclass(frozen=True, slots=True)
class SeriesVerdict:
    """All failed checks of one series (empty when eligible) and its rank score."""

    candidate: SeriesCandidate
    rejections: tuple[SeriesRejection, ...]
    details: tuple[str, ...]
    score: float | None  # None when rejected
    soft_tissue_kernel: bool = False

    @property
    def eligible(self) -> bool:
        return not self.rejections

    @property
    def reason(self) -> SeriesRejection | None:
        return self.rejections[0] if self.rejections else None


@dataclass(frozen=True, slots=True)
class SelectionResult:
    """The chosen series, or none and the study's quarantine reason with a detail."""

    chosen: SeriesCandidate | None
    verdicts: tuple[SeriesVerdict, ...]  # eligible by score (best first), then rejected
    quarantine: QuarantineReason | None
    detail: str

    @property
    def rejections(self) -> dict[str, SeriesRejection]:
        """SeriesInstanceUID -> primary rejection reason, for every rejected series."""
        return {v.candidate.series_uid: v.rejections[0] for v in self.verdicts if v.rejections}


def _search(patterns: Sequence[re.Pattern[str]], text: str) -> re.Pattern[str] | None:
    return next((p for p in patterns if p.search(text)), None)


def contrast_evidence(c: SeriesCandidate, rules: SelectionRules) -> str | None:
    """Why a series counts as contrast-enhanced (tag and value), or None."""
    agent = c.contrast_agent.strip()
    if agent and agent.upper() not in rules.contrast.agent_absent_values:
        return f"ContrastBolusAgent (0018,0010) = {agent!r}"
    fields = {
        "SeriesDescription": ("(0008,103E)", c.description),
        "ProtocolName": ("(0018,1030)", c.protocol_name),
    }
    for name in rules.contrast.fields:
        tag, text = fields[name]
        cleaned = text
        for neg in rules.contrast.negation_patterns:
            cleaned = neg.sub(" ", cleaned)
        hit = _search(rules.contrast.description_patterns, cleaned)
        if hit is not None:
            return f"{name} {tag} = {text!r} matches contrast pattern {hit.pattern!r}"
    return None


def evaluate_series(c: SeriesCandidate, rules: SelectionRules) -> SeriesVerdict:
    """Every check of one series against the rules, and its score when eligible."""
    found: list[tuple[SeriesRejection, str]] = []

    def reject(reason: SeriesRejection, detail: str) -> None:
        found.append((reason, f"{reason.value}: {detail}"))

    if c.modality != rules.modality:
        reject(
            SeriesRejection.NOT_CT,
            f"Modality (0008,0060) = {c.modality or '<absent>'!r}, expected {rules.modality!r}",
        )
    it, types = rules.image_type, set(c.image_type)
    image_type = "\\".join(c.image_type)
    if hit := sorted(types & set(it.localizer)):
        reject(SeriesRejection.LOCALIZER, f"ImageType (0008,0008) = {image_type!r} has {hit[0]}")
    if hit := sorted(types & set(it.derived)):
        reject(SeriesRejection.DERIVED, f"ImageType (0008,0008) = {image_type!r} has {hit[0]}")
    if not c.image_type:
        reject(SeriesRejection.MISSING_ATTRIBUTE, "ImageType (0008,0008) is absent")
    elif missing := [v for v in it.required if v not in types]:
        reject(
            SeriesRejection.IMAGE_TYPE_MISMATCH,
            f"ImageType (0008,0008) = {image_type!r} lacks {', '.join(missing)}",
        )
    _check_orientation(c, rules, reject)
    if evidence := contrast_evidence(c, rules):
        reject(SeriesRejection.CONTRAST, evidence)
    soft = _check_kernel(c, rules, reject)
    _check_thickness(c, rules, reject)
    if c.instance_count is not None and c.instance_count < rules.min_instances:
        reject(
            SeriesRejection.TOO_FEW_INSTANCES,
            f"NumberOfSeriesRelatedInstances (0020,1209) = {c.instance_count}, "
            f"expected >= {rules.min_instances}",
        )
    found.sort(key=lambda item: _ORDER[item[0]])
    reasons = tuple(r for r, _ in found)
    details = tuple(f"{c.label}: {d}" for _, d in found)
    score = None if found else _score(c, rules, soft)
    return SeriesVerdict(c, reasons, details, score, soft)


def _check_orientation(c: SeriesCandidate, rules: SelectionRules, reject: Any) -> None:
    if c.orientation is None:
        reject(SeriesRejection.MISSING_ATTRIBUTE, "ImageOrientationPatient (0020,0037) is absent")
        return
    tilt, obliquity = plane_angles(c.orientation)
    o = rules.orientation
    iop = "[" + ", ".join(f"{v:.3g}" for v in c.orientation) + "]"
    if obliquity > o.axial_tolerance_deg or tilt >= 45:
        reject(
            SeriesRejection.NOT_AXIAL,
            f"ImageOrientationPatient (0020,0037) = {iop}: normal {tilt:.1f} deg about x and "
            f"{obliquity:.1f} deg about y from z, expected axial within "
            f"{o.axial_tolerance_deg:g} deg (gantry tilt up to {o.max_gantry_tilt_deg:g} deg)",
        )
    elif tilt > max(o.axial_tolerance_deg, o.max_gantry_tilt_deg):
        reject(
            SeriesRejection.TILT_TOO_LARGE,
            f"ImageOrientationPatient (0020,0037) = {iop}: gantry tilt {tilt:.1f} deg, "
            f"expected <= {o.max_gantry_tilt_deg:g} deg",
        )


def _check_kernel(c: SeriesCandidate, rules: SelectionRules, reject: Any) -> bool:
    k = rules.kernel
    if hit := _search(k.excluded, c.kernel):
        reject(
            SeriesRejection.BONE_KERNEL,
            f"ConvolutionKernel (0018,1210) = {c.kernel!r} matches excluded {hit.pattern!r}",
        )
        return False
    if _search(k.soft_tissue, c.kernel):
        return True
    if k.unknown == UnknownKernelPolicy.REJECT:
        reject(
            SeriesRejection.UNKNOWN_KERNEL,
            f"ConvolutionKernel (0018,1210) = {c.kernel or '<absent>'!r} matches no "
            "soft-tissue pattern and kernel.unknown is 'reject'",
        )
    return False


def _check_thickness(c: SeriesCandidate, rules: SelectionRules, reject: Any) -> None:
    lo, hi = rules.slice_thickness_mm.allowed
    t = c.slice_thickness_mm
    if t is None:
        reject(SeriesRejection.MISSING_ATTRIBUTE, "SliceThickness (0018,0050) is absent")
    elif t < lo:
        reject(SeriesRejection.TOO_THIN, f"SliceThickness (0018,0050) = {t:g} mm < {lo:g} mm")
    elif t > hi:
        reject(SeriesRejection.TOO_THICK, f"SliceThickness (0018,0050) = {t:g} mm > {hi:g} mm")


def _score(c: SeriesCandidate, rules: SelectionRules, soft: bool) -> float:
    w, th = rules.ranking, rules.slice_thickness_mm
    t = c.slice_thickness_mm or 0.0
    score = 0.0
    if th.preferred[0] <= t <= th.preferred[1]:
        score += w.preferred_thickness
    score += w.thickness_closeness * max(0.0, 1.0 - abs(t - th.target) / th.target)
    if soft:
        score += w.soft_tissue_kernel
    if {"ORIGINAL", "PRIMARY"} <= set(c.image_type):
        score += w.original_primary
    if c.instance_count is not None:
        score += w.coverage * min(1.0, c.instance_count * t / w.coverage_target_mm)
    return round(score, 6)


def select_series(series: Sequence[SeriesCandidate], rules: SelectionRules) -> SelectionResult:
    """Choose the series to read, or say why the study has none."""
    verdicts = [evaluate_series(c, rules) for c in series]
    eligible = sorted(
        (v for v in verdicts if v.eligible),
        key=lambda v: (-(v.score or 0.0), v.candidate.series_number or 0, v.candidate.series_uid),
    )
    rejected = [v for v in verdicts if not v.eligible]
    ordered = tuple(eligible + rejected)
    if eligible:
        best = eligible[0]
        log.info("selected %s (score %.3f)", best.candidate.label, best.score or 0.0)
        return SelectionResult(best.candidate, ordered, None, f"selected {best.candidate.label}")
    reason = _study_reason(rejected)
    if rejected:
        detail = f"no eligible series among {len(rejected)}: " + "; ".join(
            v.details[0] for v in rejected
        )
    else:
        detail = "the study has no series"
    return SelectionResult(None, ordered, reason, detail)


def _study_reason(rejected: Sequence[SeriesVerdict]) -> QuarantineReason:
    if not rejected or all(SeriesRejection.NOT_CT in v.rejections for v in rejected):
        return QuarantineReason.NOT_CT
    images = [v for v in rejected if not _NOT_IMAGES & set(v.rejections)]
    if images and all(SeriesRejection.CONTRAST in v.rejections for v in images):
        return QuarantineReason.CONTRAST_ONLY
    if any(v.rejections == (SeriesRejection.TOO_FEW_INSTANCES,) for v in rejected):
        return QuarantineReason.TOO_FEW_SLICES
    return QuarantineReason.NO_ELIGIBLE_SERIES


def is_head_study(
    study: StudyAttributes | Mapping[str, Any] | Any,
    rules: SelectionRules,
    series: Sequence[SeriesCandidate] = (),
) -> tuple[bool, str]:
    """Whether a study is a head CT, and why (naming the tag and value that decided)."""
    s = study if isinstance(study, StudyAttributes) else _study_attributes(study)
    if s.modalities and rules.modality not in s.modalities:
        modalities = "\\".join(s.modalities)
        return False, f"ModalitiesInStudy (0008,0061) = {modalities!r} has no {rules.modality}"
    head = rules.head
    parts = [("study", s.body_part)] + [(c.label, c.body_part) for c in series]
    for where, part in parts:
        if part and part in head.body_parts:
            return True, f"BodyPartExamined (0018,0015) = {part!r} in {where}"
    texts = [("StudyDescription (0008,1030)", s.description)] + [
        (f"SeriesDescription (0008,103E) of {c.label}", c.description) for c in series
    ]
    for where, text in texts:
        if hit := _search(head.description_patterns, text):
            return True, f"{where} = {text!r} matches head pattern {hit.pattern!r}"
    seen = sorted({p for _, p in parts if p})
    return False, (
        f"no head evidence: BodyPartExamined (0018,0015) = {seen or '<absent>'}, "
        f"StudyDescription (0008,1030) = {s.description!r}; expected a body part in "
        f"{list(head.body_parts)} or a description matching "
        f"{[p.pattern for p in head.description_patterns]}"
    )


def _study_attributes(study: Any) -> StudyAttributes:
    if isinstance(study, Mapping):
        return StudyAttributes.from_dicom_json(study)
    return StudyAttributes.from_dataset(study)
