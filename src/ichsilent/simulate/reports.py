"""Radiology reports written from the truth, with an imperfect reference standard.

Wording varies (templates from :mod:`report_phrases`), content agrees with the truth:
every acute/subacute subtype is named in the final report unless the radiologist missed a
trace bleed (recorded in the truth as ``report_missed``); some misses are corrected by a
later addendum (status C). Revisions: optional preliminary (P), final (F), corrected (C).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import numpy as np

from ichsilent.domain import PatientClass, ReportStatus, Subtype
from ichsilent.simulate import report_phrases as phrases
from ichsilent.simulate.dicom_writer import study_description
from ichsilent.simulate.options import SimulationOptions
from ichsilent.simulate.scenarios import REPORT_DELAY_HOURS, ScenarioName
from ichsilent.simulate.spec import BleedSize, BleedStage, HemorrhageSpec, StudySpec

# Median minutes from acquisition to the final report, by setting (lognormal spread).
FINAL_MEDIAN_MIN = {
    PatientClass.EMERGENCY: 40.0,
    PatientClass.INPATIENT: 150.0,
    PatientClass.OUTPATIENT: 480.0,
}
PRELIM_PROBABILITY_FACTOR = {
    PatientClass.EMERGENCY: 1.0,
    PatientClass.INPATIENT: 0.4,
    PatientClass.OUTPATIENT: 0.1,
}
IDENTIFIERS_IN_TEXT = 0.2  # share of reports whose header repeats name and MRN
HEDGE_TRACE = 0.3  # trace bleeds described with a hedge


@dataclass(frozen=True, slots=True)
class ReportRevisionRecord:
    """One line of reports.jsonl (and one HL7 ORU^R01 message)."""

    id: str
    revision: int
    accession: str
    study_uid: str
    status: str
    observed_at: str
    text: str
    patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    patient_class: str
    site: str
    exam: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    revisions: tuple[ReportRevisionRecord, ...]
    missed: tuple[Subtype, ...]  # acute subtypes absent from the latest revision
    missed_initially: tuple[Subtype, ...]  # absent from the first final report
    corrected: bool
    hedged: tuple[Subtype, ...]


def report_id(seed: int, index: int) -> str:
    return f"RPT-{seed % 1000:03d}{index + 1:06d}"


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _where(bleed: HemorrhageSpec) -> str:
    location = bleed.location.strip() or "intracranial"
    side = bleed.side if bleed.side in ("left", "right", "bilateral") else ""
    if side and side not in location:
        location = f"{side} {location}"
    if location.split()[-1].endswith(("al", "ar", "ic")):
        location += " region"
    return f"in the {location}" if bleed.subtype != Subtype.SUBDURAL else f"along the {location}"


def _finding(rng: np.random.Generator, bleed: HemorrhageSpec, hedged: bool) -> str:
    term = _pick(rng, phrases.SUBTYPE_TERMS[bleed.subtype])
    size = _pick(rng, phrases.SIZE_WORDS[bleed.size])
    stage = _pick(rng, phrases.STAGE_WORDS[bleed.stage])
    where = _where(bleed)
    if hedged:
        return _pick(rng, phrases.HEDGED_TEMPLATES).format(size=size, term=term, where=where)
    shift = float(getattr(bleed, "midline_shift_mm", 0.0) or 0.0)
    if bleed.size == BleedSize.LARGE or shift >= 2.0:
        mm = round(shift) if shift >= 2.0 else int(rng.integers(4, 12))
        where += _pick(rng, phrases.MASS_EFFECT).format(mm=mm)
    text = _pick(rng, phrases.FINDING_TEMPLATES)
    return text.format(Size=size.capitalize(), size=size, stage=stage, term=term, where=where)


def _chronic(rng: np.random.Generator, bleed: HemorrhageSpec) -> str:
    side = bleed.side if bleed.side in ("left", "right", "bilateral") else "left"
    return _pick(rng, phrases.CHRONIC_TEMPLATES).format(side=side)


@dataclass(frozen=True, slots=True)
class _Plan:
    named: tuple[HemorrhageSpec, ...]
    omitted: tuple[HemorrhageSpec, ...]
    hedged: frozenset[int]  # ids of hedged bleeds


def _plan(rng: np.random.Generator, spec: StudySpec, options: SimulationOptions) -> _Plan:
    acute = [h for h in spec.hemorrhages if h.stage != BleedStage.CHRONIC]
    named, omitted, hedged = [], [], set()
    for bleed in acute:
        if bleed.size == BleedSize.TRACE and rng.random() < options.miss_trace_probability:
            omitted.append(bleed)
            continue
        named.append(bleed)
        if bleed.size == BleedSize.TRACE and rng.random() < HEDGE_TRACE:
            hedged.add(id(bleed))
    return _Plan(tuple(named), tuple(omitted), frozenset(hedged))


def _subtypes(bleeds: Sequence[HemorrhageSpec]) -> set[Subtype]:
    return {b.subtype for b in bleeds}


def _body(
    rng: np.random.Generator, spec: StudySpec, plan: _Plan, comparison: str, history: str
) -> str:
    """EXAM / HISTORY / COMPARISON / FINDINGS / IMPRESSION of a head CT."""
    structured = rng.random() < 0.25
    findings: list[str] = []
    impression: list[str] = []
    for bleed in plan.named:
        sentence = _finding(rng, bleed, id(bleed) in plan.hedged)
        findings.append(sentence)
        impression.append(sentence if rng.random() < 0.5 else _finding(rng, bleed, False))
    for bleed in spec.hemorrhages:
        if bleed.stage == BleedStage.CHRONIC:
            sentence = _chronic(rng, bleed)
            findings.append(sentence)
            if rng.random() < 0.5:
                impression.append(sentence)
    if not plan.named:
        findings.insert(0, _pick(rng, phrases.NEGATIVE_FINDINGS))
        impression.insert(0, _pick(rng, phrases.NEGATIVE_IMPRESSIONS))
    elif not _subtypes(plan.named) & {Subtype.SUBDURAL, Subtype.EPIDURAL} and rng.random() < 0.3:
        findings.append("No extra-axial collection.")
    for mimic in spec.mimics:
        if rng.random() < 0.6:
            findings.append(_pick(rng, phrases.MIMIC_SENTENCES[mimic.kind]))
    for artefact in spec.artefacts:
        if rng.random() < 0.8:
            findings.append(_pick(rng, phrases.ARTEFACT_SENTENCES[artefact]))
    if spec.head.atrophy > 0.4:
        findings.append(_pick(rng, phrases.ATROPHY))
    picks = rng.permutation(len(phrases.BACKGROUND))[: int(rng.integers(1, 4))]
    findings.extend(phrases.BACKGROUND[int(i)] for i in sorted(picks))
    findings = list(dict.fromkeys(findings))  # a sentence once, even for two calcifications
    exam = study_description(spec)
    if structured:
        lines = [f"Exam: {exam}", f"Indication: {history}", f"Comparison: {comparison}", ""]
        lines += ["FINDINGS:"] + [f"- {s}" for s in findings]
        lines += ["", "IMPRESSION:"] + [f"{i}. {s}" for i, s in enumerate(impression, 1)]
        return "\n".join(lines)
    return (
        f"EXAM: {exam}\nCLINICAL HISTORY: {history}\nCOMPARISON: {comparison}\n\n"
        f"FINDINGS:\n{' '.join(findings)}\n\nIMPRESSION:\n" + "\n".join(impression)
    )


def _delay(rng: np.random.Generator, median_min: float, sigma: float = 0.6) -> timedelta:
    return timedelta(minutes=float(median_min * np.exp(rng.normal(0.0, sigma))))


def write_reports(
    rng: np.random.Generator, spec: StudySpec, options: SimulationOptions, index: int
) -> ReportOutcome:
    """All revisions of the report of one study (text never depends on the renderer)."""
    acquired = datetime.fromisoformat(spec.study_datetime)
    plan = _plan(rng, spec, options)
    prior = None
    if any(h.stage == BleedStage.CHRONIC for h in spec.hemorrhages) or rng.random() < 0.3:
        prior = f"{(acquired - timedelta(days=int(rng.integers(30, 900)))):%m/%d/%Y}"
    comparison = (
        _pick(rng, phrases.COMPARISON_PRIOR).format(date=prior)
        if prior
        else _pick(rng, phrases.COMPARISON_NONE)
    )
    history = _pick(rng, phrases.HISTORY[spec.patient_class])
    rid = report_id(options.seed, index)
    exam = study_description(spec)

    def record(
        revision: int, status: ReportStatus, when: datetime, text: str
    ) -> ReportRevisionRecord:
        return ReportRevisionRecord(
            id=rid, revision=revision, accession=spec.accession, study_uid=spec.study_uid,
            status=status.value, observed_at=when.isoformat(timespec="seconds"), text=text,
            patient_id=spec.patient_id, patient_name=spec.patient_name,
            birth_date=spec.birth_date, sex=spec.sex.value,
            patient_class=spec.patient_class.value, site=spec.site, exam=exam,
        )  # fmt: skip

    final_delay = _delay(rng, FINAL_MEDIAN_MIN[spec.patient_class])
    if ScenarioName.REPORT_DELAY.value in spec.scenario.split("+"):
        final_delay += timedelta(hours=float(rng.uniform(*REPORT_DELAY_HOURS)))
    final_at = acquired + timedelta(minutes=5) + final_delay
    header = ""
    if rng.random() < IDENTIFIERS_IN_TEXT:
        name = spec.patient_name.replace("^", ", ")
        header = f"Patient: {name}  MRN: {spec.patient_id}  Acc: {spec.accession}\n"
    if spec.body_part != "HEAD":
        body = phrases.OUT_OF_SCOPE.get(spec.body_part, phrases.OUT_OF_SCOPE["CHEST"])
    else:
        body = _body(rng, spec, plan, comparison, history)
    radiologist = _pick(rng, phrases.RADIOLOGISTS)
    revisions: list[ReportRevisionRecord] = []
    p_prelim = options.preliminary_probability * PRELIM_PROBABILITY_FACTOR[spec.patient_class]
    if rng.random() < p_prelim:
        prelim_at = acquired + (final_delay * float(rng.uniform(0.2, 0.6)))
        text = (
            f"PRELIMINARY REPORT\n{header}"
            + (_body(rng, spec, plan, comparison, history) if spec.body_part == "HEAD" else body)
            + f"\n\nPreliminary read by {_pick(rng, phrases.RESIDENTS)}."
        )
        revisions.append(record(len(revisions) + 1, ReportStatus.PRELIMINARY, prelim_at, text))
    final_text = (
        f"{header}{body}\n\nElectronically signed by {radiologist} on {final_at:%m/%d/%Y %H:%M}."
    )
    revisions.append(record(len(revisions) + 1, ReportStatus.FINAL, final_at, final_text))
    missed = _subtypes(plan.omitted) - _subtypes(plan.named)
    missed_initially = tuple(sorted(missed))
    corrected = False
    if plan.omitted and rng.random() < options.addendum_probability:
        bleed = plan.omitted[0]
        addendum = _pick(rng, phrases.ADDENDUM).format(
            size=_pick(rng, phrases.SIZE_WORDS[bleed.size]),
            term=_pick(rng, phrases.SUBTYPE_TERMS[bleed.subtype]),
            where=_where(bleed),
        )
        corrected_at = final_at + timedelta(hours=float(rng.uniform(1, 72)))
        extra_named = [b for b in plan.omitted if b.subtype == bleed.subtype]
        missed -= _subtypes(extra_named)
        signed = f"Addendum signed by {radiologist} on {corrected_at:%m/%d/%Y %H:%M}."
        text = f"{final_text}\n\n{addendum}\n{signed}"
        revisions.append(record(len(revisions) + 1, ReportStatus.CORRECTED, corrected_at, text))
        corrected = True
    hedged = tuple(sorted({b.subtype for b in plan.named if id(b) in plan.hedged}))
    return ReportOutcome(
        tuple(revisions), tuple(sorted(missed)), missed_initially, corrected, hedged
    )
