"""The vocabulary of the system: closed sets as Enums, records as frozen dataclasses."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Subtype(enum.StrEnum):
    """The five hemorrhage subtypes the model and the labeler report."""

    EPIDURAL = "epidural"
    SUBDURAL = "subdural"
    SUBARACHNOID = "subarachnoid"
    INTRAPARENCHYMAL = "intraparenchymal"
    INTRAVENTRICULAR = "intraventricular"


class Label(enum.StrEnum):
    """Output keys: "any" intracranial hemorrhage plus the five subtypes, in model order."""

    ANY = "any"
    EPIDURAL = "epidural"
    SUBDURAL = "subdural"
    SUBARACHNOID = "subarachnoid"
    INTRAPARENCHYMAL = "intraparenchymal"
    INTRAVENTRICULAR = "intraventricular"


LABELS: tuple[Label, ...] = tuple(Label)
SUBTYPES: tuple[Subtype, ...] = tuple(Subtype)


class LabelState(enum.StrEnum):
    """What a report says about one label (see the report-labeling convention)."""

    PRESENT = "present"
    CHRONIC = "chronic"
    UNCERTAIN = "uncertain"
    ABSENT = "absent"


class StudyState(enum.StrEnum):
    """Where a study is in the pipeline."""

    DISCOVERED = "discovered"  # seen by QIDO, not yet fetched
    DEFERRED = "deferred"  # still receiving instances; looked at again next run
    SKIPPED = "skipped"  # not a head CT: out of scope, recorded with its reason
    QUARANTINED = "quarantined"  # in scope but unusable; reason + detail kept
    FETCHED = "fetched"  # decoded and checked, waiting for a model
    SCORED = "scored"
    FAILED = "failed"  # transient failure (PACS down, timeout): retried next run


class QuarantineReason(enum.StrEnum):
    """Closed set of reasons a study is not scored. The detail string names tag or slice."""

    NOT_HEAD_CT = "not_head_ct"
    NOT_CT = "not_ct"
    NO_ELIGIBLE_SERIES = "no_eligible_series"
    CONTRAST_ONLY = "contrast_only"
    TOO_FEW_SLICES = "too_few_slices"
    MISSING_SLICES = "missing_slices"
    DUPLICATE_POSITIONS = "duplicate_positions"
    INCONSISTENT_ORIENTATION = "inconsistent_orientation"
    INCONSISTENT_MATRIX = "inconsistent_matrix"
    UNDECODABLE_PIXELS = "undecodable_pixels"
    MISSING_TAG = "missing_tag"
    IMAGE_CHECK_FAILED = "image_check_failed"
    STILL_RECEIVING = "still_receiving"
    FETCH_FAILED = "fetch_failed"


class ReportStatus(enum.StrEnum):
    """HL7 v2 OBR-25 result status as used for radiology reports."""

    PRELIMINARY = "P"
    FINAL = "F"
    CORRECTED = "C"  # amended / corrected; supersedes earlier revisions


class Outcome(enum.StrEnum):
    """A matched case's outcome against the reference standard."""

    TP = "TP"
    FP = "FP"
    FN = "FN"
    TN = "TN"
    UNCERTAIN = "uncertain"  # report uncertain: adjudication queue, outside primary metrics
    PENDING_REPORT = "pending_report"


class PatientClass(enum.StrEnum):
    EMERGENCY = "E"
    INPATIENT = "I"
    OUTPATIENT = "O"


class Sex(enum.StrEnum):
    FEMALE = "F"
    MALE = "M"
    OTHER = "O"
    UNKNOWN = "U"


class AlertSeverity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class StudyIdentity:
    """The only identifying facts kept about a study: pseudonyms and coarse demographics."""

    study_uid: str
    accession_pseudo: str
    patient_pseudo: str
    age_years: int | None = None
    sex: Sex = Sex.UNKNOWN


@dataclass(frozen=True, slots=True)
class Scores:
    """Per-study probabilities for the six labels, from one model version."""

    probabilities: dict[Label, float]
    model_name: str
    model_version: str
    model_sha256: str
    threshold: float

    @property
    def decision(self) -> bool:
        return self.probabilities[Label.ANY] >= self.threshold


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why the labeler gave a label: the sentence, the span and the rules that fired."""

    label: Label
    state: LabelState
    sentence: str
    start: int
    end: int
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportRevision:
    """One revision of one radiology report, identifiers already pseudonymised."""

    report_id: str
    revision: int
    accession_pseudo: str
    study_uid: str | None
    status: ReportStatus
    observed_at: datetime
    text: str
    labels: dict[Label, LabelState] = field(default_factory=dict)
