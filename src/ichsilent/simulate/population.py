"""Who is scanned, when, where, on what, and with which findings.

``sample_study`` turns (options, study index) into a complete :class:`StudySpec` without
rendering anything, so prevalence and mix can be checked over thousands of studies fast.
All randomness comes from the generator passed in (one per study: ``[seed, index, 0]``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TypeVar

import numpy as np

from ichsilent.domain import PatientClass, Sex, Subtype
from ichsilent.simulate import anatomy, hemorrhage, identifiers, mimics
from ichsilent.simulate.fleet import sample_scanner, sample_site
from ichsilent.simulate.options import SimulationOptions
from ichsilent.simulate.scenarios import PREVALENCE_FACTOR, ScenarioName
from ichsilent.simulate.series_plan import plan_series
from ichsilent.simulate.spec import (
    Artefact,
    BleedSize,
    BleedStage,
    HeadSpec,
    HemorrhageSpec,
    MimicSpec,
    StudySpec,
)

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CLASSES = (PatientClass.EMERGENCY, PatientClass.INPATIENT, PatientClass.OUTPATIENT)
CLASS_MIX = (0.60, 0.28, 0.12)
CLASS_MIX_SHIFTED = (0.40, 0.48, 0.12)
# Prevalence of acute/subacute ICH by setting (ED ~6 %, inpatients ~30 %).
PREVALENCE = {
    PatientClass.EMERGENCY: 0.06,
    PatientClass.INPATIENT: 0.30,
    PatientClass.OUTPATIENT: 0.02,
}
# Primary subtype of a positive study, then companions (SDH and SAH commonest, EDH rare).
PRIMARY_MIX = {
    Subtype.SUBDURAL: 0.33,
    Subtype.SUBARACHNOID: 0.27,
    Subtype.INTRAPARENCHYMAL: 0.27,
    Subtype.INTRAVENTRICULAR: 0.06,
    Subtype.EPIDURAL: 0.07,
}
COMPANIONS: dict[Subtype, tuple[tuple[Subtype, float], ...]] = {
    Subtype.INTRAPARENCHYMAL: ((Subtype.INTRAVENTRICULAR, 0.35), (Subtype.SUBARACHNOID, 0.2)),
    Subtype.SUBDURAL: ((Subtype.SUBARACHNOID, 0.25), (Subtype.INTRAPARENCHYMAL, 0.08)),
    Subtype.SUBARACHNOID: ((Subtype.INTRAVENTRICULAR, 0.15), (Subtype.SUBDURAL, 0.15)),
    Subtype.EPIDURAL: ((Subtype.SUBDURAL, 0.15), (Subtype.SUBARACHNOID, 0.1)),
    Subtype.INTRAVENTRICULAR: ((Subtype.INTRAPARENCHYMAL, 0.1),),
}
SIZE_MIX = {
    BleedSize.TRACE: 0.18,
    BleedSize.SMALL: 0.37,
    BleedSize.MEDIUM: 0.3,
    BleedSize.LARGE: 0.15,
}
CHRONIC_SDH_RATE = {65: 0.05, 80: 0.08}  # age threshold -> rate of a chronic SDH
POST_OP_RATE = {
    PatientClass.EMERGENCY: 0.01,
    PatientClass.INPATIENT: 0.08,
    PatientClass.OUTPATIENT: 0.03,
}
POST_OP_SHIFTED = 0.2  # inpatients after a population shift
POST_OP_BLOOD = 0.4  # post-operative patients with residual subdural blood
MOTION_RATE = {
    PatientClass.EMERGENCY: 0.07,
    PatientClass.INPATIENT: 0.05,
    PatientClass.OUTPATIENT: 0.02,
}
METAL_RATE = 0.02
BEAM_HARDENING_RATE = 0.08
OUT_OF_SCOPE_PARTS = ("CHEST", "ABDOMEN")
HOURS = {  # opening hours by setting (ED: around the clock)
    PatientClass.EMERGENCY: (0.0, 24.0),
    PatientClass.INPATIENT: (6.0, 23.0),
    PatientClass.OUTPATIENT: (8.0, 17.5),
}


@dataclass(frozen=True, slots=True)
class Demographics:
    patient_class: PatientClass
    age_years: int
    sex: Sex
    post_operative: bool


def _choice(rng: np.random.Generator, mix: dict[_T, float]) -> _T:
    keys = list(mix)
    p = np.asarray([mix[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def sample_demographics(rng: np.random.Generator, *, shifted: bool = False) -> Demographics:
    mix = CLASS_MIX_SHIFTED if shifted else CLASS_MIX
    patient_class = CLASSES[int(rng.choice(3, p=np.asarray(mix)))]
    # Bimodal adults: younger trauma / headache, older falls / stroke.
    if rng.random() < (0.35 if shifted else 0.55):
        age = rng.normal(42, 16)
    else:
        age = rng.normal(76 if shifted else 72, 10)
    age_years = int(np.clip(round(age), 18, 99))
    sex = Sex.MALE if rng.random() < 0.52 else Sex.FEMALE
    rate = POST_OP_RATE[patient_class]
    if shifted and patient_class == PatientClass.INPATIENT:
        rate = POST_OP_SHIFTED
    return Demographics(patient_class, age_years, sex, bool(rng.random() < rate))


def prevalence_for(
    patient_class: PatientClass, options: SimulationOptions, active: frozenset[ScenarioName]
) -> float:
    base = options.prevalence if options.prevalence is not None else PREVALENCE[patient_class]
    if ScenarioName.PREVALENCE_SHIFT in active:
        base = min(0.9, base * PREVALENCE_FACTOR)
    return base


def sample_bleeds(
    rng: np.random.Generator,
    demo: Demographics,
    head: HeadSpec,
    positive: bool,
    exact_prevalence: bool = False,
) -> tuple[HemorrhageSpec, ...]:
    """Acute/subacute bleeds when ``positive``, plus chronic SDH and post-op blood."""
    bleeds: list[HemorrhageSpec] = []
    if positive:
        primary = _choice(rng, PRIMARY_MIX)
        subtypes = [primary]
        for companion, p in COMPANIONS[primary]:
            if companion not in subtypes and rng.random() < p:
                subtypes.append(companion)
        for subtype in subtypes:
            size = _choice(rng, SIZE_MIX)
            stage = BleedStage.ACUTE
            if subtype == Subtype.SUBDURAL and rng.random() < 0.15:
                stage = BleedStage.SUBACUTE if demo.age_years < 65 else BleedStage.ACUTE_ON_CHRONIC
            elif (
                subtype in (Subtype.SUBARACHNOID, Subtype.INTRAPARENCHYMAL) and rng.random() < 0.05
            ):
                stage = BleedStage.SUBACUTE
            bleeds.append(
                hemorrhage.sample_hemorrhage(rng, subtype, stage=stage, size=size, head=head)
            )
    # Residual post-operative blood is positive too; under an explicit --prevalence it
    # only joins studies already drawn positive, so the measured rate equals P.
    residual = demo.post_operative and rng.random() < POST_OP_BLOOD
    if residual and (positive or not exact_prevalence):
        bleeds.append(
            hemorrhage.sample_hemorrhage(
                rng, Subtype.SUBDURAL, stage=BleedStage.SUBACUTE, size=BleedSize.SMALL, head=head
            )
        )
    rate = 0.0
    for threshold, r in CHRONIC_SDH_RATE.items():
        if demo.age_years >= threshold:
            rate = r
    if rng.random() < rate and not any(b.stage == BleedStage.ACUTE_ON_CHRONIC for b in bleeds):
        size = BleedSize.SMALL if rng.random() < 0.6 else BleedSize.MEDIUM
        bleeds.append(
            hemorrhage.sample_hemorrhage(
                rng, Subtype.SUBDURAL, stage=BleedStage.CHRONIC, size=size, head=head
            )
        )
    return tuple(bleeds)


def sample_artefacts(rng: np.random.Generator, demo: Demographics) -> tuple[Artefact, ...]:
    found: list[Artefact] = []
    if demo.post_operative:
        found.append(Artefact.POST_OPERATIVE)
    if rng.random() < MOTION_RATE[demo.patient_class]:
        found.append(Artefact.MOTION)
    if rng.random() < (0.3 if demo.post_operative else METAL_RATE):
        found.append(Artefact.METAL)
    if rng.random() < BEAM_HARDENING_RATE:
        found.append(Artefact.BEAM_HARDENING)
    return tuple(found)


def study_datetime(
    rng: np.random.Generator, options: SimulationOptions, index: int, pc: PatientClass
) -> datetime:
    day = index // options.studies_per_day
    low, high = HOURS[pc]
    hours = float(rng.uniform(low, high))
    base = datetime.combine(options.start + timedelta(days=day), time())
    return base + timedelta(seconds=round(hours * 3600))


def sample_study(rng: np.random.Generator, options: SimulationOptions, index: int) -> StudySpec:
    """The complete ground truth of study ``index`` (nothing rendered)."""
    seed = options.seed
    day = index // options.studies_per_day
    active = options.scenarios.active(day)
    demo = sample_demographics(rng, shifted=ScenarioName.POPULATION_SHIFT in active)
    when = study_datetime(rng, options, index, demo.patient_class)
    fractional_day = (when - datetime.combine(options.start, time())).total_seconds() / 86400
    active = options.scenarios.active(fractional_day)
    scenario = options.scenarios.label(fractional_day)

    site = sample_site(rng)
    scanner = sample_scanner(rng, site, scanner_changed=ScenarioName.SCANNER_CHANGE in active)
    out_of_scope = bool(rng.random() < options.out_of_scope_probability)
    body_part = OUT_OF_SCOPE_PARTS[int(rng.integers(2))] if out_of_scope else "HEAD"
    contrast_only = not out_of_scope and bool(rng.random() < options.contrast_only_probability)

    head = anatomy.sample_head(rng, demo.age_years)
    bleeds: tuple[HemorrhageSpec, ...] = ()
    study_mimics: tuple[MimicSpec, ...] = ()
    artefacts: tuple[Artefact, ...] = ()
    if not out_of_scope:
        positive = bool(rng.random() < prevalence_for(demo.patient_class, options, active))
        bleeds = sample_bleeds(
            rng, demo, head, positive, exact_prevalence=options.prevalence is not None
        )
        study_mimics = tuple(mimics.sample_mimics(rng, demo.age_years))
        artefacts = sample_artefacts(rng, demo)

    series = plan_series(
        rng,
        options,
        scanner,
        body_part=body_part,
        contrast_only=contrast_only,
        protocol_changed=ScenarioName.PROTOCOL_CHANGE in active,
    )
    arrival = when + timedelta(minutes=float(rng.uniform(2, 20)))
    outage_end = options.scenarios.outage_end(fractional_day)
    if outage_end is not None:  # held back until the PACS is up, then a burst
        back = datetime.combine(options.start, time()) + timedelta(days=outage_end)
        arrival = back + timedelta(minutes=float(rng.uniform(0, 180)))
    extra = {
        "index": str(index),
        "day": str(day),
        "arrival_datetime": arrival.isoformat(timespec="seconds"),
        "post_operative": str(demo.post_operative).lower(),
        "contrast_only": str(contrast_only).lower(),
        "compression_draw": f"{rng.random():.6f}",  # vs the scanner's probability
        "referring_physician": identifiers.referring_physician(rng),
    }
    birth = identifiers.birth_date(rng, demo.age_years, when.date())
    return StudySpec(
        study_uid=identifiers.make_uid(seed, "study", index),
        accession=identifiers.accession(seed, index, options.start),
        patient_id=identifiers.mrn(seed, index),
        patient_name=identifiers.patient_name(rng, demo.sex),
        birth_date=f"{birth:%Y%m%d}",
        sex=demo.sex,
        age_years=demo.age_years,
        patient_class=demo.patient_class,
        site=site.code,
        study_datetime=when.isoformat(timespec="seconds"),
        body_part=body_part,
        scanner=scanner,
        head=head,
        hemorrhages=bleeds,
        mimics=study_mimics,
        artefacts=artefacts,
        series=series,
        scenario=scenario,
        extra=extra,
    )
